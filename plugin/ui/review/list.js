// The list of the page's items: one row each, the selected one highlighted, a checkbox
// for bulk selection, and a pager.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;

  // A one-line title for any kind: the names its payload carries, else its subject.
  function summary(item) {
    var p = item.payload || {};
    if (p.scene_a && p.scene_b) return (p.scene_a.title || "Scene " + p.scene_a.id) + " ≈ " + (p.scene_b.title || "Scene " + p.scene_b.id);
    if (p.performers && p.performers.length && p.performers[0].name) return p.performers.map(function (m) { return m.name; }).join(" = ");
    return String(p.name || p.scene_title || p.local_name || p.title || item.subject);
  }

  var Row = React.memo(function Row(props) {
    var item = props.item;
    var className = "stash-sense-row list-group-item list-group-item-action" +
      (props.selected ? " active stash-sense-selected" : "") +
      (item.state !== "pending" ? " stash-sense-decided" : "");
    return h(
      "div",
      {
        className: className,
        "data-id": item.id,
        "data-state": item.state,
        onClick: function () { props.onSelect(item.id); },
      },
      h("input", {
        type: "checkbox",
        className: "stash-sense-row-check",
        checked: props.checked,
        "aria-label": "Select item " + item.id,
        onClick: function (e) { e.stopPropagation(); },
        onChange: function () { props.onCheck(item); },
      }),
      // Plain elements, not Bootstrap components: 50 rows render on every step of the walk.
      h("span", { className: "stash-sense-row-kind badge badge-secondary" }, S.review.kindLabel(item.kind)),
      h("span", { className: "stash-sense-row-title" }, summary(item)),
      typeof item.confidence === "number"
        ? h("span", { className: "stash-sense-row-confidence badge badge-info" }, S.core.format.percent(item.confidence))
        : null,
      item.state !== "pending" || props.skipped
        ? h("span", { className: "stash-sense-row-state badge badge-dark" }, item.state !== "pending" ? item.state : "skipped")
        : null
    );
  });

  function Pager(props) {
    var B = S.lib.Bootstrap;
    var first = props.total ? props.offset + 1 : 0;
    var last = props.offset + props.count;
    return h(
      "div",
      { className: "stash-sense-pager" },
      h(B.Button, { size: "sm", variant: "secondary", disabled: props.offset <= 0, onClick: props.onPrevious }, "‹ Previous"),
      h("span", { className: "stash-sense-pager-text" }, first + "–" + last + " of " + S.core.format.count(props.total)),
      h(B.Button, { size: "sm", variant: "secondary", disabled: !props.hasNext, onClick: props.onNext }, "Next ›")
    );
  }

  function ItemList(props) {
    return h(
      "div",
      { className: "stash-sense-list" },
      h("div", { className: "list-group" }, props.items.map(function (item, i) {
        return h(Row, {
          key: item.id,
          item: item,
          selected: i === props.index,
          checked: !!props.checked[item.id],
          skipped: !!props.skipped[item.id],
          onSelect: props.onSelect,
          onCheck: props.onCheck,
        });
      })),
      h(Pager, props.pager)
    );
  }

  S.review.summary = summary;
  S.review.ItemList = ItemList;
})(window.StashSense);

// The per-field diff the four upstream-change cards share: for each field what it was
// when last seen, what upstream has now and what the library has, with a checkbox that
// chooses the fields to apply.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function refs(list, local) {
    return (list || []).map(function (ref) {
      var missing = local && !ref.local_id;
      return parts.text(ref) + (missing ? " (not in library)" : "");
    }).join(", ");
  }

  function Row(props) {
    var c = props.change;
    var linked = (c.added && c.added.length) || (c.removed && c.removed.length);
    return h(
      "tr",
      { className: props.chosen ? undefined : "stash-sense-unchosen" },
      h("td", null, h("input", {
        type: "checkbox",
        checked: props.chosen,
        onChange: props.onToggle,
        "aria-label": "Apply " + c.label,
      })),
      h("th", { scope: "row" }, c.label),
      h("td", { className: "stash-sense-old" }, parts.text(c.previous)),
      h(
        "td",
        { className: "stash-sense-new" },
        parts.text(c.upstream),
        linked
          ? h(
            "div",
            { className: "small text-muted" },
            c.added && c.added.length ? h("div", null, "links " + refs(c.added, true)) : null,
            c.removed && c.removed.length ? h("div", null, "unlinks " + refs(c.removed)) : null
          )
          : null
      ),
      h("td", { className: "stash-sense-local" }, parts.text(c.local))
    );
  }

  // props: item, options, setOptions, header (the entity line above the table).
  function UpstreamDiff(props) {
    var p = props.item.payload || {};
    var changes = p.changes || [];
    var chosen = props.options.fields || changes.map(function (c) { return c.field; });
    var unmatched = changes.some(function (c) {
      return (c.added || []).some(function (ref) { return !ref.local_id; });
    });
    function toggle(field) {
      var next = chosen.indexOf(field) >= 0
        ? chosen.filter(function (f) { return f !== field; })
        : chosen.concat([field]);
      props.setOptions(Object.assign({}, props.options, { fields: next }));
    }
    return h(
      "div",
      { className: "stash-sense-card-body" },
      props.header,
      h("p", { className: "text-muted small" }, "On ", parts.text(p.endpoint_name || p.endpoint), " · updated ", S.core.format.date(p.upstream_updated)),
      h(
        "table",
        { className: "table table-sm stash-sense-diff" },
        h("thead", null, h("tr", null, h("th", null), h("th", null, "Field"), h("th", null, "Was upstream"), h("th", null, "Upstream now"), h("th", null, "Your library"))),
        h("tbody", null, changes.map(function (c) {
          return h(Row, { key: c.field, change: c, chosen: chosen.indexOf(c.field) >= 0, onToggle: function () { toggle(c.field); } });
        }))
      ),
      unmatched
        ? h(S.lib.Bootstrap.Form.Check, {
          type: "checkbox",
          id: "stash-sense-create-missing-" + props.item.id,
          label: "Create what is not in the library yet from stash-box",
          checked: !!props.options.create_missing,
          onChange: function () { props.setOptions(Object.assign({}, props.options, { create_missing: !props.options.create_missing })); },
        })
        : null
    );
  }

  // Register one upstream kind: `entity` names the Stash page of the local entity.
  S.review.registerUpstream = function (kind, label, entity) {
    function UpstreamCard(props) {
      var p = props.item.payload || {};
      var header = h(
        "p",
        null,
        h(parts.StashLink, { to: "/" + entity + "s/" + p.local_id }, p.local_name || entity + " " + p.local_id)
      );
      return h(UpstreamDiff, Object.assign({}, props, { header: header }));
    }
    S.review.registerCard(kind, { label: label, Card: UpstreamCard });
  };
})(window.StashSense);

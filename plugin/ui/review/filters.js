// The filter bar: kind, state, scene, confidence bounds and sort. Each change is a new
// history entry (back returns to the previous filter) and starts at the first page.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;

  function percent(value) {
    return value === null ? "" : String(Math.round(value * 100));
  }

  function fraction(text) {
    if (text === "") return null;
    var n = Number(text);
    return isFinite(n) ? Math.min(100, Math.max(0, n)) / 100 : null;
  }

  function KindSelect(props) {
    var counts = props.counts;
    var kinds = counts ? Object.keys(counts.by_kind) : [];
    props.view.kinds.forEach(function (k) { if (kinds.indexOf(k) < 0) kinds.push(k); });
    return h(
      "select",
      {
        className: "form-control form-control-sm stash-sense-filter-kind",
        "aria-label": "Kind",
        value: props.view.kinds[0] || "",
        onChange: function (e) { props.onChange({ kinds: e.target.value ? [e.target.value] : [] }); },
      },
      h("option", { value: "" }, "All kinds" + (counts ? " (" + counts.pending + " pending)" : "")),
      kinds.map(function (k) {
        var pending = counts && counts.by_kind[k] ? counts.by_kind[k].pending : 0;
        return h("option", { key: k, value: k }, S.review.kindLabel(k) + " (" + pending + ")");
      })
    );
  }

  function FilterBar(props) {
    var view = props.view;
    var draft = React.useState({ scene: view.scene ? String(view.scene) : "", min: percent(view.min), max: percent(view.max) });
    var values = draft[0];
    var setValues = draft[1];
    React.useEffect(function () {
      setValues({ scene: view.scene ? String(view.scene) : "", min: percent(view.min), max: percent(view.max) });
    }, [view.scene, view.min, view.max]);

    function change(changes) {
      props.go(Object.assign({ offset: 0, item: null }, changes));
    }
    function submit(event) {
      event.preventDefault();
      var scene = /^\d+$/.test(values.scene) ? Number(values.scene) : null;
      change({ scene: scene, min: fraction(values.min), max: fraction(values.max) });
    }
    function field(name, label, placeholder) {
      return h("input", {
        className: "form-control form-control-sm stash-sense-filter-" + name,
        "aria-label": label,
        placeholder: placeholder,
        inputMode: "numeric",
        value: values[name],
        onChange: function (e) { var v = e.target.value; setValues(function (s) { var n = Object.assign({}, s); n[name] = v; return n; }); },
      });
    }
    var state = view.states.length ? view.states.join(",") : "all";
    return h(
      "form",
      { className: "stash-sense-filters form-inline", onSubmit: submit },
      h(KindSelect, { view: view, counts: props.counts, onChange: change }),
      h(
        "select",
        {
          className: "form-control form-control-sm stash-sense-filter-state",
          "aria-label": "State",
          value: state,
          onChange: function (e) { change({ states: e.target.value === "all" ? [] : e.target.value.split(",") }); },
        },
        S.review.query.STATES.filter(function (s) { return s !== "accepting"; }).map(function (s) {
          return h("option", { key: s, value: s }, s);
        }),
        h("option", { value: "all" }, "any state")
      ),
      field("scene", "Scene id", "scene id"),
      field("min", "Minimum confidence (%)", "min %"),
      field("max", "Maximum confidence (%)", "max %"),
      h(S.lib.Bootstrap.Button, { type: "submit", size: "sm", variant: "secondary" }, "Apply"),
      h(
        "select",
        {
          className: "form-control form-control-sm stash-sense-filter-sort",
          "aria-label": "Sort",
          value: view.sort,
          onChange: function (e) { change({ sort: e.target.value }); },
        },
        h("option", { value: "-date" }, "newest first"),
        h("option", { value: "date" }, "oldest first"),
        h("option", { value: "-confidence" }, "most confident first"),
        h("option", { value: "confidence" }, "least confident first")
      )
    );
  }

  S.review.FilterBar = FilterBar;
})(window.StashSense);

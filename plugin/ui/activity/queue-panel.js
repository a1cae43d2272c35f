// Queue panel: how many jobs wait, run, failed, per state and per job type.
(function (S) {
  "use strict";

  var h = S.h;
  var STATES = ["queued", "running", "failed", "succeeded", "cancelled"];
  var VARIANTS = { queued: "info", running: "primary", failed: "danger", succeeded: "success", cancelled: "secondary" };

  S.activity.QueuePanel = function QueuePanel(props) {
    var B = S.lib.Bootstrap;
    var source = props.source || {};
    var stats = source.data || { by_state: {}, by_type: {}, mean_seconds: {} };
    var count = S.core.format.count;
    var types = Object.keys(stats.by_type);
    return h(
      S.activity.Panel,
      { title: "Queue", source: source, className: "stash-sense-queue" },
      h(
        "div",
        { className: "stash-sense-queue-states mb-2" },
        STATES.map(function (state) {
          return h(
            B.Badge,
            { key: state, variant: VARIANTS[state], className: "mr-2", "data-state": state },
            state + " " + count(stats.by_state[state] || 0)
          );
        })
      ),
      types.length === 0
        ? h("div", { className: "text-muted" }, "No jobs yet.")
        : h(
            B.Table,
            { size: "sm", variant: "dark", className: "stash-sense-queue-types mb-0" },
            h("thead", null, h("tr", null, h("th", null, "Job type"), STATES.map(function (state) {
              return h("th", { key: state, className: "text-right" }, state);
            }), h("th", { className: "text-right" }, "mean time"))),
            h("tbody", null, types.map(function (type) {
              var row = stats.by_type[type];
              return h(
                "tr",
                { key: type, "data-type": type },
                h("td", null, type),
                STATES.map(function (state) { return h("td", { key: state, className: "text-right" }, count(row[state] || 0)); }),
                h("td", { className: "text-right" }, S.activity.duration(stats.mean_seconds[type]))
              );
            }))
          )
    );
  };
})(window.StashSense);

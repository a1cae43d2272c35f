// Analyzers: schedule, last and next run, and "run now" for each curation analyzer.
(function (S) {
  "use strict";

  var h = S.h;

  function lastRun(analyzer) {
    var when = S.core.format.relative(analyzer.last_run_at);
    if (analyzer.last_error) {
      return h("span", null, when, h("div", { className: "small text-warning stash-sense-analyzer-error" }, analyzer.last_error));
    }
    return when;
  }

  function Analyzer(props) {
    var B = S.lib.Bootstrap;
    var a = props.analyzer;
    var live = a.running_job_state;
    return h(
      "tr",
      { className: "stash-sense-analyzer", "data-analyzer": a.name },
      h("td", null, a.title, h("div", { className: "small text-muted" }, a.name)),
      h("td", null, a.enabled ? a.schedule : h("span", { className: "text-muted" }, "disabled")),
      h("td", { title: S.core.format.date(a.last_run_at) }, lastRun(a)),
      h("td", { title: S.core.format.date(a.next_run_at) }, a.enabled ? S.core.format.relative(a.next_run_at) : "—"),
      h(
        "td",
        { className: "text-right" },
        live
          ? h(B.Badge, { variant: "info", className: "stash-sense-analyzer-live" }, live)
          : h(B.Button, { size: "sm", variant: "secondary", className: "stash-sense-run-now", disabled: props.busy, onClick: function () { props.onRun(a.name); } }, "Run now")
      )
    );
  }

  S.activity.AnalyzersPanel = function AnalyzersPanel(props) {
    var B = S.lib.Bootstrap;
    var source = props.source || {};
    var analyzers = (source.data && source.data.analyzers) || [];
    return h(
      S.activity.Panel,
      { title: "Analyzers", source: source, className: "stash-sense-analyzers", error: props.actionError },
      h(
        B.Table,
        { size: "sm", variant: "dark", className: "mb-0" },
        h("thead", null, h("tr", null, ["Analyzer", "Schedule", "Last run", "Next run", ""].map(function (label, i) {
          return h("th", { key: i }, label);
        }))),
        h("tbody", null, analyzers.map(function (a) {
          return h(Analyzer, { key: a.name, analyzer: a, busy: props.busy === a.name, onRun: props.onRun });
        }))
      )
    );
  };
})(window.StashSense);

// The activity page (/plugins/stash-sense/activity): health, queue, running and failed
// jobs, analyzers, identification coverage and evaluation, each in its own panel.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;

  // One action at a time per panel: which item is busy, and the last failure to show.
  function useAction(refetch) {
    var pair = React.useState({ busy: null, error: null });
    var run = function (key, call) {
      pair[1]({ busy: key, error: null });
      return call().then(
        function () {
          pair[1]({ busy: null, error: null });
          return refetch();
        },
        function (error) { pair[1]({ busy: null, error: error }); }
      );
    };
    return { busy: pair[0].busy, error: pair[0].error, run: run };
  }

  function Panels(props) {
    var client = props.client;
    var activity = S.activity.useActivity(client);
    var retry = useAction(activity.refetch);
    var analyze = useAction(activity.refetch);
    var backfill = useAction(activity.refetch);
    var sources = activity.sources || {};
    return h(
      "div",
      { className: "stash-sense-activity-panels" },
      h(S.activity.HealthPanel, { source: sources.health, client: client }),
      h(S.activity.QueuePanel, { source: sources.stats }),
      h(S.activity.RunningJobs, { source: sources.running, jobs: activity.running }),
      h(S.activity.FailedJobs, {
        source: sources.failed,
        busy: retry.busy,
        actionError: retry.error,
        onRetry: function (id) { retry.run(id, function () { return client.post("/api/v1/jobs/" + id + "/retry"); }); },
      }),
      h(S.activity.AnalyzersPanel, {
        source: sources.analyzers,
        busy: analyze.busy,
        actionError: analyze.error,
        onRun: function (name) {
          analyze.run(name, function () { return client.post("/api/v1/analyzers/" + encodeURIComponent(name) + "/run"); });
        },
      }),
      h(S.activity.CoveragePanel, {
        source: sources.coverage,
        busy: backfill.busy,
        actionError: backfill.error,
        onBackfill: function () { backfill.run("backfill", function () { return client.post("/api/v1/scenes/backfill"); }); },
      }),
      h(S.activity.EvaluationPanel, { client: client })
    );
  }

  S.activity.Page = function ActivityPage() {
    var daemon = S.core.useDaemon();
    return h(
      "div",
      { className: "stash-sense-page stash-sense-activity container-fluid" },
      h("h2", null, "Stash Sense activity"),
      // The connection check (connection/), when loaded, sits above everything it explains.
      S.connection.Panel ? h(S.connection.Panel, null) : null,
      h(S.components.ErrorBox, { error: daemon.error, onRetry: daemon.retry }),
      daemon.client ? h(Panels, { client: daemon.client }) : null
    );
  };
})(window.StashSense);

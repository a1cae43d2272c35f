// Evaluation: the auto-apply threshold in force, a button to evaluate identification on
// tagged scenes, the latest report's figures and chart, and applying its recommendation.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var EVALUATION_JOBS = ["evaluate_sample", "evaluate_scene"];

  // Ask for the latest report only when the list shows one, so a new install makes no 404.
  function load(client) {
    return Promise.all([
      client.get("/api/v1/calibrations", { query: { limit: 1 } }),
      client.get("/api/v1/evaluations", { query: { limit: 20 } }),
    ]).then(function (both) {
      var reported = both[1].evaluations.some(function (e) { return e.state === "finished" || e.state === "cancelled"; });
      var latest = reported ? client.get("/api/v1/evaluations/latest") : Promise.resolve(null);
      return latest.then(function (found) { return { threshold: both[0].auto_threshold, latest: found }; });
    });
  }

  function ratio(value) {
    return value === null || value === undefined ? "—" : S.core.format.percent(value);
  }

  function ThresholdFacts(props) {
    var t = props.threshold || {};
    return h(
      "div",
      { className: "stash-sense-threshold" },
      S.activity.fact("threshold", "Auto-apply threshold", t.value === null || t.value === undefined ? "—" : String(t.value)),
      S.activity.fact("threshold-source", "From", [t.mode, t.source].filter(Boolean).join(", ") || "—"),
      t.note ? h("div", { className: "small text-muted stash-sense-threshold-note" }, t.note) : null
    );
  }

  function Report(props) {
    var latest = props.latest;
    var report = latest.report || {};
    var scenes = report.scenes || {};
    var byState = scenes.by_state || {};
    var reasons = scenes.skipped_reasons || {};
    var rec = report.recommendation;
    return h(
      "div",
      { className: "stash-sense-evaluation-report", "data-evaluation-id": latest.id },
      h("h6", null, "Evaluation #" + latest.id + " (" + latest.state + ", " + S.core.format.date(latest.finished_at) + ")"),
      S.activity.fact("eval-scenes", "Scenes evaluated / skipped", S.core.format.count(scenes.evaluated || 0) + " / " + S.core.format.count(byState.skipped || 0)),
      Object.keys(reasons).map(function (reason) {
        return h("div", { key: reason, className: "small text-muted stash-sense-skip-reason" }, reason + ": " + reasons[reason]);
      }),
      S.activity.fact("eval-matcher", "Matcher", report.matcher || "—"),
      rec
        ? h(
            "div",
            null,
            S.activity.fact("eval-recommendation", "Recommended threshold", String(rec.threshold)),
            S.activity.fact("eval-precision", "Precision", ratio(rec.precision)),
            S.activity.fact("eval-recall", "Recall (raw / seen)", ratio(rec.recall) + " / " + ratio(rec.recall_seen))
          )
        : h("div", { className: "text-warning stash-sense-no-recommendation" }, "No threshold reached the target precision."),
      latest.chart_signed_url
        ? h("img", { className: "stash-sense-pr-chart", alt: "Precision-recall curves", src: props.client.imageUrl(latest.chart_signed_url), width: 480, height: 360 })
        : null
    );
  }

  function StartForm(props) {
    var B = S.lib.Bootstrap;
    var pair = React.useState("50");
    var scenes = parseInt(pair[0], 10);
    return h(
      "div",
      { className: "d-flex align-items-center my-2 stash-sense-evaluate-form" },
      h(B.Form.Control, {
        type: "number",
        min: 1,
        value: pair[0],
        className: "stash-sense-evaluate-scenes mr-2",
        style: { width: "7em" },
        "aria-label": "Scenes to evaluate",
        onChange: function (event) { pair[1](event.target.value); },
      }),
      h(B.Button, {
        variant: "primary",
        className: "stash-sense-evaluate",
        disabled: props.busy || !(scenes > 0),
        onClick: function () { props.onStart(scenes); },
      }, "Evaluate")
    );
  }

  S.activity.EvaluationPanel = function EvaluationPanel(props) {
    var B = S.lib.Bootstrap;
    var client = props.client;
    var source = S.core.useAsync(function () { return client && load(client); }, [client]);
    var job = S.activity.useJobWatch(client, EVALUATION_JOBS, source.reload);
    var action = React.useState({ busy: false, error: null, confirm: false });
    var state = action[0];
    var setState = action[1];
    var data = source.data || {};
    var latest = data.latest;

    function run(call) {
      setState({ busy: true, error: null, confirm: false });
      return call().then(
        function () { setState({ busy: false, error: null, confirm: false }); source.reload(); },
        function (error) { setState({ busy: false, error: error, confirm: false }); }
      );
    }

    return h(
      S.activity.Panel,
      { title: "Evaluation", source: source, className: "stash-sense-evaluation", error: state.error },
      h(ThresholdFacts, { threshold: data.threshold }),
      h(StartForm, {
        busy: state.busy || !!job,
        onStart: function (scenes) { run(function () { return client.post("/api/v1/evaluations", { body: { scenes: scenes } }); }); },
      }),
      job ? h("div", { className: "small stash-sense-evaluation-job", "data-job-id": job.id }, S.activity.jobLine(job)) : null,
      latest ? h(Report, { latest: latest, client: client }) : h("div", { className: "text-muted" }, "No evaluation yet."),
      latest && latest.recommendation
        ? h(B.Button, {
            variant: "outline-primary",
            className: "mt-2 stash-sense-apply-recommendation",
            disabled: state.busy,
            onClick: function () { setState({ busy: false, error: null, confirm: true }); },
          }, "Apply recommendation")
        : null,
      h(S.components.ConfirmDialog, {
        show: state.confirm,
        title: "Apply the recommended threshold?",
        body: latest && latest.recommendation ? "Auto-tagging will use " + latest.recommendation.threshold + " while its mode is \"calibrated\"." : null,
        confirmLabel: "Apply",
        variant: "primary",
        onConfirm: function () { run(function () { return client.post("/api/v1/evaluations/" + latest.id + "/apply"); }); },
        onCancel: function () { setState({ busy: false, error: null, confirm: false }); },
      })
    );
  };
})(window.StashSense);

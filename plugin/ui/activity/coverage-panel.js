// Coverage: how much of the library was identified, and a button to identify the rest
// (backfill) with the number of scenes and an estimate of the time it takes.
(function (S) {
  "use strict";

  var h = S.h;

  function estimateText(coverage) {
    if (coverage.estimate_seconds === null || coverage.estimate_seconds === undefined) {
      return coverage.gpu_workers === 0
        ? "unknown (no GPU worker is configured)"
        : "unknown until some scenes have been identified";
    }
    var workers = coverage.gpu_workers === 1 ? "1 worker" : coverage.gpu_workers + " workers";
    return "about " + S.activity.duration(coverage.estimate_seconds) + " (" + workers + ", " +
      S.activity.duration(coverage.identify_mean_seconds) + " per scene)";
  }

  function BackfillStatus(props) {
    var job = props.job;
    var progress = job.progress || {};
    return h(
      "div",
      { className: "stash-sense-backfill-job mt-2", "data-job-id": job.id },
      "Backfill " + job.state + (progress.message ? ": " + progress.message : "")
    );
  }

  S.activity.CoveragePanel = function CoveragePanel(props) {
    var B = S.lib.Bootstrap;
    var source = props.source || {};
    var c = source.data || {};
    var count = S.core.format.count;
    var share = c.scenes ? c.identified / c.scenes : 0;
    var todo = c.never_identified || 0;
    return h(
      S.activity.Panel,
      { title: "Identification coverage", source: source, className: "stash-sense-coverage", error: props.actionError },
      h(
        "div",
        { className: "stash-sense-coverage-summary" },
        count(c.identified) + " of " + count(c.scenes) + " scenes identified (" + S.core.format.percent(share) + ")"
      ),
      h(B.ProgressBar, { now: Math.round(share * 100), variant: "success", className: "my-2" }),
      S.activity.fact("never-identified", "Never identified", count(todo)),
      S.activity.fact("estimate", "Estimated time", estimateText(c)),
      h(
        B.Button,
        {
          variant: "primary",
          className: "mt-2 stash-sense-backfill",
          disabled: todo === 0 || !!c.backfill_job || props.busy,
          onClick: props.onBackfill,
        },
        todo === 0 ? "Every scene has been identified" : "Identify " + count(todo) + (todo === 1 ? " scene" : " scenes")
      ),
      c.backfill_job ? h(BackfillStatus, { job: c.backfill_job }) : null
    );
  };
})(window.StashSense);

// Running jobs: one progress bar per job, moved live by the `job` topic.
(function (S) {
  "use strict";

  var h = S.h;

  function JobProgress(props) {
    var B = S.lib.Bootstrap;
    var job = props.job;
    var progress = job.progress || {};
    var known = typeof progress.total === "number" && progress.total > 0;
    var percent = known ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : 100;
    return h(
      "li",
      { className: "stash-sense-running-job", "data-job-id": job.id },
      h(
        "div",
        { className: "d-flex justify-content-between" },
        h("span", null, "#" + job.id + " " + job.type + (job.scene_id ? " (scene " + job.scene_id + ")" : "")),
        h("span", { className: "text-muted stash-sense-progress-text" }, known ? progress.done + " / " + progress.total : "")
      ),
      h(B.ProgressBar, {
        now: percent,
        animated: !known,
        striped: !known,
        className: "stash-sense-progress",
        "aria-valuetext": known ? progress.done + " of " + progress.total : "working",
      }),
      progress.message ? h("div", { className: "small text-muted stash-sense-progress-message" }, progress.message) : null
    );
  }

  S.activity.RunningJobs = function RunningJobs(props) {
    var jobs = props.jobs || [];
    return h(
      S.activity.Panel,
      { title: "Running jobs", source: props.source, className: "stash-sense-running" },
      jobs.length === 0
        ? h("div", { className: "text-muted" }, "Nothing is running.")
        : h("ul", { className: "list-unstyled mb-0" }, jobs.map(function (job) { return h(JobProgress, { key: job.id, job: job }); }))
    );
  };
})(window.StashSense);

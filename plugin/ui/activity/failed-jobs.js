// Failed jobs: why each failed (as plain text) and a button to queue it again.
(function (S) {
  "use strict";

  var h = S.h;

  function FailedJob(props) {
    var B = S.lib.Bootstrap;
    var job = props.job;
    return h(
      "tr",
      { className: "stash-sense-failed-job", "data-job-id": job.id },
      h("td", null, "#" + job.id),
      h("td", null, job.type, job.args && job.args.scene_id ? h("div", { className: "small text-muted" }, "scene " + job.args.scene_id) : null),
      h("td", { title: S.core.format.date(job.finished_at) }, S.core.format.relative(job.finished_at)),
      h("td", null, job.attempts + " / " + job.max_attempts),
      h("td", { className: "stash-sense-job-error" }, job.last_error || "—"),
      h(
        "td",
        { className: "text-right" },
        h(B.Button, { size: "sm", variant: "secondary", className: "stash-sense-retry", disabled: props.busy, onClick: function () { props.onRetry(job.id); } }, "Retry")
      )
    );
  }

  S.activity.FailedJobs = function FailedJobs(props) {
    var B = S.lib.Bootstrap;
    var source = props.source || {};
    var page = source.data || { jobs: [], total: 0 };
    var more = page.total - page.jobs.length;
    return h(
      S.activity.Panel,
      { title: "Failed jobs", source: source, className: "stash-sense-failed", error: props.actionError },
      page.jobs.length === 0
        ? h("div", { className: "text-muted" }, "No failed jobs.")
        : h(
            B.Table,
            { size: "sm", variant: "dark", className: "mb-0" },
            h("thead", null, h("tr", null, ["Job", "Type", "Failed", "Attempts", "Reason", ""].map(function (label, i) {
              return h("th", { key: i }, label);
            }))),
            h("tbody", null, page.jobs.map(function (job) {
              return h(FailedJob, { key: job.id, job: job, busy: props.busy === job.id, onRetry: props.onRetry });
            }))
          ),
      more > 0 ? h("div", { className: "small text-muted mt-1" }, "and " + S.core.format.count(more) + " older failed jobs") : null
    );
  };
})(window.StashSense);

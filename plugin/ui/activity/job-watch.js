// useJobWatch: the latest live change of jobs of some types, and a reload when one ends.
(function (S) {
  "use strict";

  var React = S.React;

  // `types` are job type names; `reload` runs on "resync" and whenever such a job leaves
  // "running" or "queued", so the panel refetches what the job changed.
  S.activity.useJobWatch = function (client, types, reload) {
    var pair = React.useState(null);
    S.core.useLive(client, ["job"], function (message) {
      if (message.type === "resync") {
        reload();
        return;
      }
      var job = message.data || {};
      if (types.indexOf(job.type) < 0) return;
      var live = job.state === "running" || job.state === "queued";
      pair[1](live ? job : null);
      if (!live) reload();
    });
    return pair[0];
  };

  // One line for a live job: its type, its state and its progress message or count.
  S.activity.jobLine = function (job) {
    var progress = job.progress || {};
    var count = typeof progress.total === "number" && progress.total > 0 ? " " + progress.done + " / " + progress.total : "";
    return job.type + " " + job.state + count + (progress.message ? ": " + progress.message : "");
  };
})(window.StashSense);

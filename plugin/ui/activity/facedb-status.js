// Face-database status inside the health panel: installed and loaded release, the last
// update check, and buttons to check, install the newest release and roll back.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var FACEDB_JOBS = ["facedb.install", "facedb.rollback"];

  function UpdateLine(props) {
    var update = props.update;
    if (!update || !update.checked_at) return h("div", { className: "small text-muted stash-sense-facedb-update" }, "Not checked for updates yet.");
    var text = update.error
      ? "Update check failed: " + update.error
      : update.update_available
        ? "Update available: " + update.latest_version
        : update.update_available === false
          ? "Up to date (latest " + update.latest_version + ")"
          : "The source cannot tell its version before downloading.";
    return h(
      "div",
      { className: "small stash-sense-facedb-update" + (update.error ? " text-warning" : "") },
      text,
      " — checked " + S.core.format.relative(update.checked_at)
    );
  }

  S.activity.FaceDbStatus = function FaceDbStatus(props) {
    var B = S.lib.Bootstrap;
    var client = props.client;
    var source = S.core.useAsync(function () { return client && client.get("/api/v1/facedb"); }, [client]);
    var liveJob = S.activity.useJobWatch(client, FACEDB_JOBS, source.reload);
    var action = React.useState({ busy: null, error: null, confirm: false });
    var state = action[0];
    var setState = action[1];
    var db = source.data;
    if (!db) return h(S.components.ErrorBox, { error: source.error });
    var job = liveJob || db.job;
    var update = db.update;
    var loaded = db.loaded || {};

    function run(key, call) {
      setState({ busy: key, error: null, confirm: false });
      return call().then(
        function () { setState({ busy: null, error: null, confirm: false }); source.reload(); },
        function (error) { setState({ busy: null, error: error, confirm: false }); }
      );
    }

    return h(
      "div",
      { className: "stash-sense-facedb mt-2" },
      S.activity.fact("facedb-installed", "Installed release", db.installed_version || "none"),
      S.activity.fact("facedb-loaded", "Loaded release", loaded.version || "not loaded"),
      db.previous ? S.activity.fact("facedb-previous", "Previous release", db.previous) : null,
      h(UpdateLine, { update: update }),
      job ? h("div", { className: "small stash-sense-facedb-job", "data-job-id": job.id }, S.activity.jobLine(job)) : null,
      h(S.components.ErrorBox, { error: state.error }),
      h(
        "div",
        { className: "mt-1" },
        h(B.Button, {
          size: "sm", variant: "secondary", className: "mr-2 stash-sense-facedb-check", disabled: !!state.busy,
          onClick: function () { run("check", function () { return client.post("/api/v1/facedb/check"); }); },
        }, "Check for update"),
        update && update.update_available
          ? h(B.Button, {
              size: "sm", variant: "primary", className: "mr-2 stash-sense-facedb-install", disabled: !!state.busy || !!job,
              onClick: function () { run("install", function () { return client.post("/api/v1/facedb/install"); }); },
            }, "Install update")
          : null,
        db.previous
          ? h(B.Button, {
              size: "sm", variant: "outline-danger", className: "stash-sense-facedb-rollback", disabled: !!state.busy || !!job,
              onClick: function () { setState({ busy: null, error: null, confirm: true }); },
            }, "Roll back")
          : null
      ),
      h(S.components.ConfirmDialog, {
        show: state.confirm,
        title: "Roll back the face database?",
        body: "Identification goes back to release " + (db.previous || "") + ".",
        confirmLabel: "Roll back",
        onConfirm: function () { run("rollback", function () { return client.post("/api/v1/facedb/rollback"); }); },
        onCancel: function () { setState({ busy: null, error: null, confirm: false }); },
      })
    );
  };
})(window.StashSense);

// The Faces tab's content: the scene's latest identification, kept live over the
// WebSocket, with "Identify again" and the actions on each person.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var FINAL = ["succeeded", "failed", "cancelled"];

  function useFaces(client, sceneId) {
    var load = S.core.useAsync(function () {
      return client ? client.get("/api/v1/scenes/" + sceneId + "/faces") : null;
    }, [client, sceneId]);
    var jobPair = React.useState(null);
    var setJob = jobPair[1];
    React.useEffect(function () {
      if (load.data) setJob(load.data.job);
    }, [load.data]);
    S.core.useLive(client, ["job", "identification", "review", "write"], function (message) {
      if (message.type === "resync") return load.reload();
      var data = message.data || {};
      if (message.topic === "job") {
        if (data.scene_id !== Number(sceneId) || data.type !== "identify_scene") return undefined;
        setJob(FINAL.indexOf(data.state) >= 0 ? null : data);
        if (FINAL.indexOf(data.state) >= 0) load.reload();
        return undefined;
      }
      // Review items, identifications and writes all name their scene.
      if (data.scene_id === Number(sceneId)) load.reload();
      return undefined;
    });
    return { data: load.data, error: load.error, loading: load.loading, reload: load.reload, job: jobPair[0], setJob: setJob };
  }

  function Progress(props) {
    var B = S.lib.Bootstrap;
    var job = props.job;
    var p = job.progress || {};
    var now = p.total ? Math.round((100 * p.done) / p.total) : 0;
    return h(
      "div",
      { className: "stash-sense-identify-progress mb-3" },
      h("div", { className: "mb-1" }, job.state === "queued" ? "Waiting to identify…" : p.message || "Identifying…"),
      h(B.ProgressBar, { now: job.state === "queued" ? 0 : now, animated: true, striped: true, label: p.total ? now + "%" : "" })
    );
  }

  function Summary(props) {
    var ident = props.identification;
    var unknown = ident.unknown_persons || 0;
    return h(
      "div",
      { className: "stash-sense-identification-summary text-muted mb-2", "data-identification-id": ident.id },
      "Identified ",
      S.core.format.relative(ident.created_at),
      " · ",
      ident.frames_sampled,
      " frames sampled",
      unknown ? " · " + unknown + " unknown " + (unknown === 1 ? "person" : "persons") : ""
    );
  }

  S.faces.Panel = function FacesPanel(props) {
    var B = S.lib.Bootstrap;
    var sceneId = props.scene.id;
    var daemon = S.core.useDaemon();
    var client = daemon.client;
    var faces = useFaces(client, sceneId);
    var busyPair = React.useState(false);
    var errorPair = React.useState(null);
    var pickPair = React.useState(null);
    var undoPair = React.useState(null);

    function run(promise) {
      busyPair[1](true);
      errorPair[1](null);
      return promise.then(
        function () { busyPair[1](false); faces.reload(); },
        function (error) { busyPair[1](false); errorPair[1](error); faces.reload(); }
      );
    }

    function onAction(name, person) {
      if (name === "accept") run(client.post("/api/v1/review/items/" + person.review_item_id + "/accept", { body: {} }));
      else if (name === "reject") run(client.post("/api/v1/review/items/" + person.review_item_id + "/reject", { body: {} }));
      else if (name === "undo") undoPair[1](person);
      else if (name === "someoneElse") pickPair[1](person);
    }

    function identifyAgain() {
      errorPair[1](null);
      client.post("/api/v1/scenes/" + sceneId + "/identify", { query: { force: "true" } }).then(
        function (job) { faces.setJob(job); },
        function (error) { errorPair[1](error); }
      );
    }

    if (daemon.error) return h(S.components.ErrorBox, { error: daemon.error, onRetry: daemon.retry });
    var data = faces.data;
    var identification = data && data.identification;
    var persons = (data && data.persons) || [];
    return h(
      "div",
      { className: "stash-sense-faces" },
      h(
        "div",
        { className: "d-flex align-items-center mb-2" },
        h(
          B.Button,
          { size: "sm", variant: "primary", className: "stash-sense-identify-again", disabled: !client || !!faces.job, onClick: identifyAgain },
          h(S.components.Icon, { icon: S.icons.faSyncAlt }),
          identification ? " Identify again" : " Identify"
        ),
        h("span", { className: "ml-auto" }, h(S.components.ConnectionStatus, { client: client }))
      ),
      faces.job ? h(Progress, { job: faces.job }) : null,
      h(S.components.ErrorBox, { error: errorPair[0] || faces.error }),
      data && data.stash_error ? h(B.Alert, { variant: "warning" }, "Stash: ", data.stash_error) : null,
      identification ? h(Summary, { identification: identification }) : null,
      data && !identification && !faces.job
        ? h("div", { className: "text-muted stash-sense-not-identified" }, "This scene has not been identified yet.")
        : null,
      identification && !persons.length ? h("div", { className: "text-muted" }, "No faces found in this scene.") : null,
      persons.map(function (person) {
        return h(S.faces.PersonCard, { key: person.index, person: person, client: client, busy: busyPair[0], onAction: onAction });
      }),
      h(S.faces.PerformerPicker, {
        show: !!pickPair[0],
        title: pickPair[0] && pickPair[0].best ? "Not " + pickPair[0].best.name + "? Who is it?" : "Who is this?",
        onCancel: function () { pickPair[1](null); },
        onPick: function (performer) {
          var person = pickPair[0];
          pickPair[1](null);
          run(client.post("/api/v1/scenes/" + sceneId + "/faces/" + person.index + "/someone-else", {
            body: { performer_id: String(performer.id), identification_id: identification.id },
          }));
        },
      }),
      h(S.components.ConfirmDialog, {
        show: !!undoPair[0],
        title: "Undo this change?",
        body: "The performer is removed from the scene again and will not be suggested for it again.",
        confirmLabel: "Undo",
        onCancel: function () { undoPair[1](null); },
        onConfirm: function () {
          var person = undoPair[0];
          undoPair[1](null);
          run(client.post("/api/v1/audit/" + person.audit_id + "/undo", { body: {} }));
        },
      })
    );
  };
})(window.StashSense);

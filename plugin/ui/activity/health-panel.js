// Health panel: the daemon, its Stash connection, the face models and database in use.
(function (S) {
  "use strict";

  var h = S.h;
  var fact = S.activity.fact;

  function yesNo(ok, yes, no) {
    return h(S.lib.Bootstrap.Badge, { variant: ok ? "success" : "danger" }, ok ? yes : no);
  }

  function StashFacts(props) {
    var stash = props.stash || {};
    return h(
      "div",
      { className: "stash-sense-health-stash" },
      h("h6", null, "Stash"),
      fact("stash-reachable", "Connection", yesNo(stash.reachable, "reachable", "unreachable")),
      stash.version ? fact("stash-version", "Version", stash.version) : null,
      stash.reachable ? fact("stash-compatible", "Schema", yesNo(stash.compatible, "compatible", "incompatible")) : null,
      stash.error ? h("div", { className: "text-warning stash-sense-health-error" }, stash.error) : null,
      (stash.problems || []).map(function (problem, i) {
        return h("div", { key: i, className: "text-warning small" }, problem);
      })
    );
  }

  function FaceFacts(props) {
    var faces = props.faces || {};
    var db = faces.database || {};
    var providers = faces.providers || {};
    var state = faces.ready ? "ready" : faces.loading ? "loading…" : "not loaded";
    return h(
      "div",
      { className: "stash-sense-health-faces" },
      h("h6", null, "Face recognition"),
      fact("faces-state", "State", h(S.lib.Bootstrap.Badge, { variant: faces.ready ? "success" : faces.loading ? "info" : "danger" }, state)),
      faces.error ? h("div", { className: "text-warning stash-sense-health-error" }, faces.error) : null,
      db.version ? fact("facedb-version", "Face database", db.version + (db.sources && db.sources.length ? " (" + db.sources.join(", ") + ")" : "")) : null,
      db.version ? fact("facedb-counts", "Faces / performers", S.core.format.count(db.face_count) + " / " + S.core.format.count(db.performer_count)) : null,
      faces.models_version ? fact("models-version", "Models", faces.models_version) : null,
      Object.keys(providers).map(function (model) {
        return fact("providers-" + model, model, (providers[model] || []).join(", ") || "—");
      }),
      // Reserved for face-database status (GET /api/v1/facedb/...: updates, downloads), which
      // another change adds as S.activity.FaceDbStatus; nothing renders here until it exists.
      S.activity.FaceDbStatus ? h(S.activity.FaceDbStatus, { client: props.client }) : null
    );
  }

  S.activity.HealthPanel = function HealthPanel(props) {
    var source = props.source || {};
    var health = source.data || {};
    var B = S.lib.Bootstrap;
    return h(
      S.activity.Panel,
      {
        title: "Health",
        source: source,
        className: "stash-sense-health",
        extra: health.status ? h(B.Badge, { variant: health.status === "ok" ? "success" : "warning", className: "ml-2", "data-status": health.status }, health.status) : null,
      },
      h(
        "div",
        { className: "stash-sense-health-grid" },
        h(
          "div",
          null,
          h("h6", null, "Daemon"),
          fact("daemon-version", "Version", health.version || "—"),
          fact("uptime", "Up for", S.activity.duration(health.uptime_seconds)),
          fact("database", "Database", health.database && health.database.ok ? "schema " + health.database.schema_version : "unavailable"),
          fact("live", "Live updates", h(S.components.ConnectionStatus, { client: props.client }))
        ),
        h(StashFacts, { stash: health.stash }),
        h(FaceFacts, { faces: health.faces, client: props.client })
      )
    );
  };
})(window.StashSense);

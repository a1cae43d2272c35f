// Card: a local scene whose fingerprints a stash-box scene carries; accepting links it.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function FingerprintMatchCard(props) {
    var item = props.item;
    var p = item.payload || {};
    var local = [
      ["Scene", h(parts.StashLink, { to: "/scenes/" + item.scene_id }, p.local_title || "Scene " + item.scene_id)],
      ["Duration", parts.duration(p.local_duration)],
      ["Fingerprints", String(p.local_fingerprints)],
    ];
    var remote = [
      ["Title", parts.text(p.title)],
      ["Studio", parts.text(p.studio)],
      ["Performers", parts.text(p.performers)],
      ["Date", parts.text(p.date)],
      ["Code", parts.text(p.code)],
      ["Duration", parts.duration(p.remote_duration)],
      ["Stash-box id", parts.text(p.stashbox_scene_id), { mono: true }],
    ];
    return h(
      "div",
      { className: "stash-sense-card-body" },
      h(
        "div",
        { className: "stash-sense-sides" },
        h("div", { className: "stash-sense-side" }, h("h6", null, "In your library"), h(parts.Facts, { rows: local })),
        h("div", { className: "stash-sense-side" }, h("h6", null, "On " + (p.endpoint_name || p.endpoint)), h(parts.Facts, { rows: remote }))
      ),
      h(parts.Facts, {
        rows: [
          ["Matching", p.match_count + " of " + p.local_fingerprints + " (" + Math.round(p.match_percentage) + "%)"],
          ["Duration difference", p.duration_diff === null || p.duration_diff === undefined ? "—" : p.duration_diff.toFixed(1) + " s"],
          ["Matched hashes", (p.matching || []).map(function (m) { return m.algorithm + " " + m.hash; }).join(", "), { mono: true }],
        ],
      }),
      p.ambiguous ? h(S.lib.Bootstrap.Alert, { variant: "warning" }, "Another scene on this stash-box matches as well.") : null
    );
  }

  S.review.registerCard("scene_fingerprint_match", { label: "Stash-box match", Card: FingerprintMatchCard });
})(window.StashSense);

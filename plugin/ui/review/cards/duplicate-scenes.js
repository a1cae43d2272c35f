// Card: two scenes that look like the same video, side by side with the file facts that
// decide which to keep; accepting merges the other into the kept one.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function side(s, bests, i) {
    return [
      ["Title", h(parts.StashLink, { to: "/scenes/" + s.id }, s.title || "Scene " + s.id)],
      ["Studio", parts.text(s.studio)],
      ["Performers", parts.text(s.performers)],
      ["Date", parts.text(s.date)],
      ["Resolution", parts.resolution(s.width, s.height), { better: bests.pixels === i }],
      ["Codec", parts.text(s.video_codec)],
      ["Bit rate", parts.bitrate(s.bit_rate), { better: bests.bitrate === i }],
      ["Duration", parts.duration(s.duration), { better: bests.duration === i }],
      ["Size", parts.bytes(s.size), { better: bests.size === i }],
      ["Path", parts.text(s.path), { mono: true }],
    ];
  }

  function DuplicateScenesCard(props) {
    var item = props.item;
    var p = item.payload || {};
    var sides = [p.scene_a || {}, p.scene_b || {}];
    var keep = props.options.keep !== undefined ? Number(props.options.keep) : p.suggested_keep_id;
    var bests = {
      pixels: parts.best(sides.map(function (s) { return (s.width || 0) * (s.height || 0); })),
      bitrate: parts.best(sides.map(function (s) { return s.bit_rate; })),
      duration: parts.best(sides.map(function (s) { return s.duration; })),
      size: parts.best(sides.map(function (s) { return s.size; })),
    };
    var signals = p.signals || {};
    return h(
      "div",
      { className: "stash-sense-card-body" },
      h(
        "div",
        { className: "stash-sense-sides" },
        sides.map(function (s, i) {
          return h(
            parts.KeepSide,
            { key: s.id || i, itemId: item.id, value: s.id, keep: keep, suggested: p.suggested_keep_id, onKeep: function (id) { props.setOptions({ keep: id }); } },
            h(parts.Facts, { rows: side(s, bests, i) })
          );
        })
      ),
      h(
        "div",
        { className: "stash-sense-reasons" },
        h("h6", null, "Why"),
        h("ul", null, (p.reasoning || []).map(function (reason, i) { return h("li", { key: i }, reason); })),
        h(parts.Facts, {
          rows: [
            ["Phash distance", parts.text(signals.phash_distance)],
            ["Stash-box match", signals.stashbox_match ? parts.text(signals.stashbox_endpoint) : "no"],
            ["Metadata", parts.text(signals.metadata_reasoning)],
            ["Faces", parts.text(signals.face_reasoning)],
          ],
        })
      )
    );
  }

  S.review.registerCard("duplicate_scenes", { label: "Duplicate scenes", Card: DuplicateScenesCard });
})(window.StashSense);

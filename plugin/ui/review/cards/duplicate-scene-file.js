// Card: a scene with several files, best first; accepting keeps one and deletes the rest.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function DuplicateSceneFileCard(props) {
    var item = props.item;
    var p = item.payload || {};
    var files = p.files || [];
    var keep = props.options.keep_file_id !== undefined ? String(props.options.keep_file_id) : p.suggested_keeper_id;
    var bests = {
      pixels: parts.best(files.map(function (f) { return f.width * f.height; })),
      bitrate: parts.best(files.map(function (f) { return f.bit_rate; })),
      duration: parts.best(files.map(function (f) { return f.duration; })),
      score: parts.best(files.map(function (f) { return f.quality_score; })),
    };
    return h(
      "div",
      { className: "stash-sense-card-body" },
      h(
        "p",
        null,
        h(parts.StashLink, { to: "/scenes/" + item.scene_id }, p.scene_title || "Scene " + item.scene_id),
        p.studio ? " · " + p.studio : "",
        p.performers && p.performers.length ? " · " + p.performers.join(", ") : ""
      ),
      h(
        "div",
        { className: "stash-sense-sides" },
        files.map(function (f, i) {
          return h(
            parts.KeepSide,
            { key: f.id, itemId: item.id, value: f.id, keep: keep, suggested: p.suggested_keeper_id, onKeep: function (id) { props.setOptions({ keep_file_id: id }); } },
            h(parts.Facts, {
              rows: [
                ["File", parts.text(f.basename)],
                ["Resolution", parts.resolution(f.width, f.height), { better: bests.pixels === i }],
                ["Codec", parts.text(f.video_codec) + " / " + parts.text(f.audio_codec)],
                ["Bit rate", parts.bitrate(f.bit_rate), { better: bests.bitrate === i }],
                ["Frame rate", f.frame_rate ? f.frame_rate.toFixed(2) + " fps" : "—"],
                ["Duration", parts.duration(f.duration), { better: bests.duration === i }],
                ["Size", parts.bytes(f.size)],
                ["Quality score", f.quality_score.toFixed(1), { better: bests.score === i }],
                ["Path", parts.text(f.path), { mono: true }],
              ],
            })
          );
        })
      ),
      h("p", { className: "text-muted" }, "Deleting the others frees " + parts.bytes(p.potential_savings) + " of " + parts.bytes(p.total_size) + ".")
    );
  }

  S.review.registerCard("duplicate_scene_file", { label: "Duplicate files", Card: DuplicateSceneFileCard });
})(window.StashSense);

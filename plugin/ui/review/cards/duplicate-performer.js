// Card: performers sharing one stash-box id; accepting merges them into the kept one.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function DuplicatePerformerCard(props) {
    var item = props.item;
    var p = item.payload || {};
    var performers = p.performers || [];
    var keep = props.options.keeper_id !== undefined ? String(props.options.keeper_id) : p.suggested_keeper_id;
    var totals = performers.map(function (m) { return m.scene_count + m.image_count + m.gallery_count; });
    var most = parts.best(totals);
    return h(
      "div",
      { className: "stash-sense-card-body" },
      h("p", { className: "text-muted" }, "All linked to ", h("span", { className: "stash-sense-mono" }, parts.text(p.stash_id)), " on ", parts.text(p.endpoint), "."),
      h(
        "div",
        { className: "stash-sense-sides" },
        performers.map(function (m, i) {
          return h(
            parts.KeepSide,
            { key: m.id, itemId: item.id, value: m.id, keep: keep, suggested: p.suggested_keeper_id, onKeep: function (id) { props.setOptions({ keeper_id: id }); } },
            h(parts.Image, { src: "/performer/" + m.id + "/image", alt: "Image of " + m.name, className: "stash-sense-reference-image" }),
            h(parts.Facts, {
              rows: [
                ["Name", h(parts.StashLink, { to: "/performers/" + m.id }, m.name)],
                ["Scenes", String(m.scene_count), { better: most === i }],
                ["Images", String(m.image_count)],
                ["Galleries", String(m.gallery_count)],
              ],
            })
          );
        })
      )
    );
  }

  S.review.registerCard("duplicate_performer", { label: "Duplicate performers", Card: DuplicatePerformerCard });
})(window.StashSense);

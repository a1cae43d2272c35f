// Card: a performer suggested for a scene by face identification. The evidence crops
// from the scene sit beside the performer's reference image, with the alternatives.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = S.review.parts;

  function Crops(props) {
    var signed = (props.details && props.details.crop_signed_urls) || [];
    var count = (props.payload.crop_ids || []).length;
    if (!count) return h("p", { className: "text-muted" }, "No face crops were kept for this person.");
    if (!props.details) return h("p", { className: "text-muted stash-sense-loading" }, "Loading " + count + " face crops…");
    return h(
      "div",
      { className: "stash-sense-crops" },
      signed.map(function (url, i) {
        return h(S.components.Crop, {
          key: i,
          src: props.client ? props.client.imageUrl(url) : null,
          alt: "Face " + (i + 1) + " found in the scene",
        });
      })
    );
  }

  function Alternatives(props) {
    var list = props.alternatives || [];
    if (!list.length) return null;
    return h(
      "div",
      { className: "stash-sense-alternatives" },
      h("h6", null, "Alternatives"),
      h("ul", { className: "list-unstyled" }, list.map(function (alt, i) {
        return h(
          "li",
          { key: i },
          parts.text(alt.name || alt.universal_id),
          " ",
          typeof alt.confidence === "number" ? h(S.components.ConfidenceBadge, { value: alt.confidence }) : null
        );
      }))
    );
  }

  function PerformerSuggestionCard(props) {
    var item = props.item;
    var p = item.payload || {};
    var reference = props.details ? props.details.reference_image_url : null;
    var who = p.performer_id
      ? h(parts.StashLink, { to: "/performers/" + p.performer_id, className: "stash-sense-performer-name" }, p.name)
      : h("span", { className: "stash-sense-performer-name" }, p.name);
    return h(
      "div",
      { className: "stash-sense-card-body stash-sense-face-card" },
      h(
        "div",
        { className: "stash-sense-face-sides" },
        h("div", { className: "stash-sense-face-side" }, h("h6", null, "Seen in the scene"), h(Crops, { payload: p, details: props.details, client: props.client })),
        h(
          "div",
          { className: "stash-sense-face-side stash-sense-reference" },
          h("h6", null, "Reference"),
          h(parts.Image, { src: reference, alt: "Reference image of " + (p.name || "the performer"), className: "stash-sense-reference-image" }),
          h("div", null, who),
          p.performer_id ? null : h("div", { className: "text-muted small" }, "Not in your library: accepting creates it from " + (p.endpoint || "stash-box") + ".")
        )
      ),
      h(parts.Facts, {
        rows: [
          ["Confidence", h(S.components.ConfidenceBadge, { value: p.confidence })],
          ["Frames", String(p.frames)],
          ["Scene", h(parts.StashLink, { to: "/scenes/" + item.scene_id }, "Scene " + item.scene_id)],
          ["Stash-box id", parts.text(p.universal_id), { mono: true }],
        ],
      }),
      h(Alternatives, { alternatives: p.alternatives })
    );
  }

  S.review.registerCard("performer_suggestion", { label: "Face suggestion", Card: PerformerSuggestionCard });
})(window.StashSense);

// The card kinds: each card file registers how its review kind is shown. Kinds nobody
// registered fall back to the generic card.
(function (S) {
  "use strict";

  S.review.cards = S.review.cards || {};

  // register("duplicate_scenes", {label: "Duplicate scenes", Card: Component}).
  S.review.registerCard = function (kind, entry) {
    S.review.cards[kind] = entry;
  };

  S.review.cardFor = function (kind) {
    return S.review.cards[kind] || S.review.cards["*"];
  };

  S.review.kindLabel = function (kind) {
    var entry = S.review.cards[kind];
    return entry && entry.label ? entry.label : String(kind);
  };
})(window.StashSense);

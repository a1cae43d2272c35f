// Card: what changed upstream on a linked studio (the per-field diff of upstream-diff.js).
(function (S) {
  "use strict";

  S.review.registerUpstream("upstream_studio_changes", "Upstream studio changes", "studio");
})(window.StashSense);

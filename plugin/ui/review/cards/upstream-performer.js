// Card: what changed upstream on a linked performer (the per-field diff of upstream-diff.js).
(function (S) {
  "use strict";

  S.review.registerUpstream("upstream_performer_changes", "Upstream performer changes", "performer");
})(window.StashSense);

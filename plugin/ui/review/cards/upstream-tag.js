// Card: what changed upstream on a linked tag (the per-field diff of upstream-diff.js).
(function (S) {
  "use strict";

  S.review.registerUpstream("upstream_tag_changes", "Upstream tag changes", "tag");
})(window.StashSense);

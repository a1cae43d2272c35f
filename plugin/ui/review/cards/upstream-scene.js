// Card: what changed upstream on a linked scene (the per-field diff of upstream-diff.js).
(function (S) {
  "use strict";

  S.review.registerUpstream("upstream_scene_changes", "Upstream scene changes", "scene");
})(window.StashSense);

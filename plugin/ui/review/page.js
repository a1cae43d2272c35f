// Review queue page (placeholder: the review page engineer replaces this file).
(function (S) {
  "use strict";

  var h = S.h;

  S.review.Page = function ReviewPage() {
    var daemon = S.core.useDaemon();
    return h(
      "div",
      { className: "stash-sense-page stash-sense-review container-fluid" },
      h("h2", null, "Stash Sense review"),
      h(S.components.ErrorBox, { error: daemon.error, onRetry: daemon.retry })
    );
  };
})(window.StashSense);

// Activity page (placeholder: the activity page engineer replaces this file).
(function (S) {
  "use strict";

  var h = S.h;

  S.activity.Page = function ActivityPage() {
    var daemon = S.core.useDaemon();
    return h(
      "div",
      { className: "stash-sense-page stash-sense-activity container-fluid" },
      h("h2", null, "Stash Sense activity"),
      h(S.connection.Panel || "div", null),
      h(S.components.ErrorBox, { error: daemon.error, onRetry: daemon.retry })
    );
  };
})(window.StashSense);

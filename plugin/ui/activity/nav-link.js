// A navbar link to the activity page, beside the review button.
(function (S) {
  "use strict";

  var h = S.h;

  S.activity.NavLink = function ActivityNavLink() {
    var Link = S.lib.ReactRouterDOM.Link;
    return h(
      Link,
      { to: S.routes.activity, className: "btn minimal stash-sense-activity-link", title: "Stash Sense activity" },
      h(S.components.Icon, { icon: S.icons.faChartLine })
    );
  };
})(window.StashSense);

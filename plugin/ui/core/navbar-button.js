// The navbar button: a link to the review queue with the live count of pending items.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var REFRESH_MS = 250;

  function usePendingCount(client) {
    var pair = React.useState(null);
    var setCount = pair[1];
    var refresh = React.useCallback(function () {
      if (!client) return;
      client.get("/api/v1/review/counts").then(
        function (body) { setCount(body.pending); },
        function () { setCount(null); }
      );
    }, [client]);
    React.useEffect(refresh, [refresh]);
    // New, decided and expired items all move the count. A bulk decision publishes one
    // change per item: refetch once after a burst, not once per change.
    var timer = React.useRef(null);
    React.useEffect(function () {
      return function () { clearTimeout(timer.current); };
    }, []);
    S.core.useLive(client, ["review"], function () {
      if (timer.current) return;
      timer.current = setTimeout(function () {
        timer.current = null;
        refresh();
      }, REFRESH_MS);
    });
    return pair[0];
  }

  S.components.NavbarButton = function NavbarButton() {
    var daemon = S.core.useDaemon();
    var count = usePendingCount(daemon.client);
    var Link = S.lib.ReactRouterDOM.Link;
    var title = daemon.error ? "Stash Sense: " + daemon.error.message : "Stash Sense review queue";
    return h(
      Link,
      { to: S.routes.review, className: "btn minimal stash-sense-navbar-button", title: title },
      h(S.components.Icon, { icon: S.icons.faUserCheck }),
      h("span", { className: "stash-sense-navbar-label" }, "Review"),
      typeof count === "number" && count > 0
        ? h(S.lib.Bootstrap.Badge, { pill: true, variant: "info", className: "stash-sense-pending-count" }, S.core.format.count(count))
        : null
    );
  };
})(window.StashSense);

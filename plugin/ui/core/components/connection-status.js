// ConnectionStatus: a dot and a word for the live-update connection of a client.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var LABELS = {
    idle: "not connected",
    connecting: "connecting…",
    open: "live",
    closed: "reconnecting…",
    unauthorized: "token rejected",
  };

  S.components.ConnectionStatus = function ConnectionStatus(props) {
    var live = props.client ? props.client.live : null;
    var pair = React.useState(live ? live.state : "idle");
    React.useEffect(function () {
      if (!live) return undefined;
      pair[1](live.state);
      return live.onState(pair[1]);
    }, [live]);
    var state = pair[0];
    return h(
      "span",
      { className: "stash-sense-live stash-sense-live-" + state, "data-state": state },
      h("span", { className: "stash-sense-live-dot" }),
      " ",
      LABELS[state] || state
    );
  };
})(window.StashSense);

// The "test connection" control: one button, then one line per problem (or "connected").
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;

  S.connection.Panel = function ConnectionPanel() {
    var B = S.lib.Bootstrap;
    var pair = React.useState({ running: false, result: null });
    var state = pair[0];
    var setState = pair[1];

    function test() {
      setState({ running: true, result: null });
      // The check reads the settings afresh itself; pages keep their client (and socket).
      S.connection.check().then(function (result) { setState({ running: false, result: result }); });
    }

    var result = state.result;
    return h(
      "div",
      { className: "stash-sense-connection mb-3" },
      h(
        B.Button,
        { size: "sm", variant: "secondary", className: "stash-sense-test-connection", onClick: test, disabled: state.running },
        h(S.components.Icon, { icon: S.icons.faPlug }),
        state.running ? " Testing…" : " Test connection"
      ),
      result && result.ok
        ? h(
            B.Alert,
            { variant: "success", className: "mt-2 stash-sense-connection-ok" },
            "Connected to the daemon at ",
            result.url,
            " (version ",
            result.daemonVersion,
            ")."
          )
        : null,
      result && !result.ok
        ? result.problems.map(function (p, i) {
            return h(
              B.Alert,
              { key: i, variant: "danger", className: "mt-2 stash-sense-connection-problem", "data-kind": p.kind },
              h("div", { className: "stash-sense-error-message" }, p.message),
              p.hint ? h("div", { className: "stash-sense-error-hint" }, p.hint) : null
            );
          })
        : null
    );
  };
})(window.StashSense);

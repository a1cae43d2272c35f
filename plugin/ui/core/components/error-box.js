// ErrorBox: a failure from the daemon client as one plain sentence plus what to do.
(function (S) {
  "use strict";

  var h = S.h;

  S.components.ErrorBox = function ErrorBox(props) {
    var error = props.error;
    if (!error) return null;
    var B = S.lib.Bootstrap;
    var kind = error.kind || "error";
    var hint = error.hint && error.hint !== error.message ? error.hint : null;
    return h(
      B.Alert,
      { variant: kind === "http" ? "warning" : "danger", className: "stash-sense-error", "data-kind": kind },
      h("div", { className: "stash-sense-error-message" }, String(error.message || error)),
      hint ? h("div", { className: "stash-sense-error-hint" }, hint) : null,
      props.onRetry
        ? h(B.Button, { size: "sm", variant: "outline-light", className: "mt-2", onClick: props.onRetry }, "Try again")
        : null
    );
  };
})(window.StashSense);

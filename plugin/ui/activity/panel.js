// Panel: one card of the activity page, with its title, its load error, and its body.
(function (S) {
  "use strict";

  var h = S.h;

  S.activity.Panel = function Panel(props) {
    var B = S.lib.Bootstrap;
    var source = props.source || {};
    return h(
      B.Card,
      { className: "stash-sense-activity-panel " + (props.className || "") },
      h(B.Card.Header, null, h("span", { className: "stash-sense-activity-title" }, props.title), props.extra || null),
      h(
        B.Card.Body,
        null,
        h(S.components.ErrorBox, { error: source.error || props.error || null }),
        source.data ? props.children : source.error ? null : h(B.Spinner, { animation: "border", size: "sm" })
      )
    );
  };

  // A label and its value on one line; `name` is its key and test handle.
  S.activity.fact = function (name, label, value) {
    return h(
      "div",
      { key: name, className: "stash-sense-fact", "data-fact": name },
      h("span", { className: "stash-sense-fact-label" }, label),
      h("span", { className: "stash-sense-fact-value" }, value)
    );
  };
})(window.StashSense);

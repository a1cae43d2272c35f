// ConfidenceBadge: a match confidence as a coloured percentage.
(function (S) {
  "use strict";

  var h = S.h;

  S.components.ConfidenceBadge = function ConfidenceBadge(props) {
    var value = props.value;
    var variant = value >= 0.8 ? "success" : value >= 0.6 ? "warning" : "secondary";
    return h(
      S.lib.Bootstrap.Badge,
      { variant: variant, className: "stash-sense-confidence", title: "Match confidence" },
      S.core.format.percent(value)
    );
  };
})(window.StashSense);

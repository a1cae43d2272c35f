// The keyboard help overlay ("?").
(function (S) {
  "use strict";

  var h = S.h;

  function HelpOverlay(props) {
    var B = S.lib.Bootstrap;
    return h(
      B.Modal,
      { show: props.show, onHide: props.onHide, className: "stash-sense-help" },
      h(B.Modal.Header, { closeButton: true }, h(B.Modal.Title, null, "Review keys")),
      h(
        B.Modal.Body,
        null,
        h("table", { className: "table table-sm" }, h("tbody", null, S.review.KEYS.map(function (entry) {
          return h(
            "tr",
            { key: entry.action },
            h("td", null, entry.keys.map(function (k) { return h("kbd", { key: k }, k === "down" ? "↓" : k === "up" ? "↑" : k); })),
            h("td", null, entry.label)
          );
        }))),
        h("p", { className: "text-muted small" }, "Your place (filter, page and item) is in the address: reload or go back and forth and you are where you were. Undo of a rejection reopens the item; undo of an accepted face suggestion removes the performer again.")
      )
    );
  }

  S.review.HelpOverlay = HelpOverlay;
})(window.StashSense);

// Bulk decisions: over the checked items, or over every pending item matching the
// filter. Destructive kinds in scope ask for confirmation first (the API needs confirm).
(function (S) {
  "use strict";

  var h = S.h;

  function BulkBar(props) {
    var B = S.lib.Bootstrap;
    var ids = Object.keys(props.checked);
    var filterable = props.view.states.length === 1 && props.view.states[0] === "pending";
    var progress = props.progress;
    return h(
      "div",
      { className: "stash-sense-bulk" },
      ids.length
        ? h(
          "span",
          { className: "stash-sense-bulk-selection" },
          h("span", { className: "stash-sense-bulk-count" }, ids.length + " selected"),
          h(B.Button, { size: "sm", variant: "success", className: "stash-sense-bulk-accept-selected", disabled: props.busy, onClick: function () { props.onBulk("accept", "selection"); } }, "Accept selected"),
          h(B.Button, { size: "sm", variant: "danger", className: "stash-sense-bulk-reject-selected", disabled: props.busy, onClick: function () { props.onBulk("reject", "selection"); } }, "Reject selected"),
          h(B.Button, { size: "sm", variant: "link", onClick: props.onClear }, "Clear")
        )
        : null,
      filterable && props.total
        ? h(
          "span",
          { className: "stash-sense-bulk-filter" },
          h(B.Button, { size: "sm", variant: "outline-success", className: "stash-sense-bulk-accept-filter", disabled: props.busy, onClick: function () { props.onBulk("accept", "filter"); } }, "Accept all " + S.core.format.count(props.total) + " matching"),
          h(B.Button, { size: "sm", variant: "outline-danger", className: "stash-sense-bulk-reject-filter", disabled: props.busy, onClick: function () { props.onBulk("reject", "filter"); } }, "Reject all " + S.core.format.count(props.total) + " matching")
        )
        : null,
      progress
        ? h(
          "span",
          { className: "stash-sense-bulk-progress" },
          (progress.done ? "Done: " : "Working: ") + progress.accepted + " accepted, " + progress.rejected + " rejected, " + progress.failed + " failed",
          progress.errors.length ? " (first error: " + progress.errors[0].message + ")" : ""
        )
        : null
    );
  }

  // The kinds a bulk call may touch, and whether any of them is destructive.
  function destructiveInScope(kinds, counts) {
    var destructive = (counts && counts.destructive) || [];
    return kinds.filter(function (k) { return destructive.indexOf(k) >= 0; });
  }

  S.review.BulkBar = BulkBar;
  S.review.destructiveInScope = destructiveInScope;
})(window.StashSense);

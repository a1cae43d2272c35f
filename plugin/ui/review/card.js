// The selected item: a frame (kind, state, confidence, dates, the last error) around the
// card of its kind, and the decision buttons with their keys.
(function (S) {
  "use strict";

  var h = S.h;

  var STATE_VARIANTS = { pending: "info", accepting: "warning", accepted: "success", rejected: "danger" };

  function Outcome(props) {
    var item = props.item;
    if (item.state === "pending" || item.state === "accepting") return null;
    var who = item.decided_by ? " by " + item.decided_by : "";
    return h("p", { className: "stash-sense-outcome text-muted small" }, item.state + who + " · " + S.core.format.date(item.decided_at));
  }

  function Buttons(props) {
    var B = S.lib.Bootstrap;
    var pending = props.item.state === "pending";
    return h(
      "div",
      { className: "stash-sense-actions" },
      h(B.Button, { variant: "success", className: "stash-sense-accept", disabled: !pending || props.busy, onClick: props.onAccept, title: "a" }, props.item.destructive ? "Accept… (a)" : "Accept (a)"),
      h(B.Button, { variant: "danger", className: "stash-sense-reject", disabled: !pending || props.busy, onClick: props.onReject, title: "r" }, "Reject (r)"),
      h(B.Button, { variant: "secondary", className: "stash-sense-skip", disabled: props.busy, onClick: props.onSkip, title: "s" }, "Skip (s)"),
      h(B.Button, { variant: "outline-secondary", className: "stash-sense-undo", disabled: props.busy || !props.canUndo, onClick: props.onUndo, title: "u" }, "Undo (u)")
    );
  }

  function ItemCard(props) {
    var item = props.item;
    if (!item) return h("div", { className: "stash-sense-card stash-sense-empty" }, "Nothing to review here.");
    var entry = S.review.cardFor(item.kind);
    return h(
      "div",
      { className: "stash-sense-card card", "data-id": item.id, "data-kind": item.kind, "data-state": item.state },
      h(
        "div",
        { className: "card-header stash-sense-card-header" },
        h("span", { className: "stash-sense-card-kind" }, S.review.kindLabel(item.kind)),
        " ",
        h(S.lib.Bootstrap.Badge, { variant: STATE_VARIANTS[item.state] || "secondary", className: "stash-sense-card-state" }, item.state),
        " ",
        typeof item.confidence === "number" ? h(S.components.ConfidenceBadge, { value: item.confidence }) : null,
        item.destructive ? h(S.lib.Bootstrap.Badge, { variant: "warning", className: "ml-1" }, "destructive") : null,
        h("span", { className: "stash-sense-card-date text-muted small" }, " #" + item.id + " · proposed " + S.core.format.date(item.created_at))
      ),
      h(
        "div",
        { className: "card-body" },
        item.error ? h(S.lib.Bootstrap.Alert, { variant: "warning", className: "stash-sense-item-error" }, "Last accept failed: " + item.error) : null,
        h(S.components.ErrorBox, { error: props.detailsError }),
        h(entry.Card, {
          item: item,
          details: props.details,
          client: props.client,
          options: props.options || {},
          setOptions: props.setOptions,
        }),
        h(Outcome, { item: item })
      ),
      h("div", { className: "card-footer" }, h(Buttons, props))
    );
  }

  S.review.ItemCard = ItemCard;
})(window.StashSense);

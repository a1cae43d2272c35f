// Card for a kind this page does not know (a newer daemon): its payload as text.
(function (S) {
  "use strict";

  var h = S.h;

  function GenericCard(props) {
    var item = props.item;
    return h(
      "div",
      { className: "stash-sense-card-body stash-sense-generic-card" },
      h("p", { className: "text-muted" }, "This page has no card for the kind " + JSON.stringify(item.kind) + "; its data:"),
      h("pre", { className: "stash-sense-payload" }, JSON.stringify(item.payload, null, 2))
    );
  }

  S.review.registerCard("*", { label: "Other", Card: GenericCard });
})(window.StashSense);

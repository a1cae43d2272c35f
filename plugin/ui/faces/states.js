// The words and colours for each person's state, and which actions each state offers.
(function (S) {
  "use strict";

  S.faces.states = {
    applied: { label: "Added automatically", variant: "success", actions: ["undo", "someoneElse"] },
    accepted: { label: "Accepted", variant: "success", actions: ["undo", "someoneElse"] },
    pending: { label: "Waiting for review", variant: "info", actions: ["accept", "reject", "someoneElse"] },
    rejected: { label: "Rejected", variant: "secondary", actions: ["someoneElse"] },
    undone: { label: "Undone", variant: "secondary", actions: ["someoneElse"] },
    corrected: { label: "Corrected", variant: "primary", actions: ["undo"] },
    in_scene: { label: "Already in the scene", variant: "success", actions: [] },
    not_suggested: { label: "Not suggested (low confidence)", variant: "dark", actions: ["someoneElse"] },
    unknown: { label: "Unknown person", variant: "dark", actions: ["someoneElse"] },
  };

  S.faces.stateOf = function (name) {
    return S.faces.states[name] || { label: String(name), variant: "secondary", actions: [] };
  };
})(window.StashSense);

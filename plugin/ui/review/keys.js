// Keyboard walk with the Mousetrap Stash ships: bindings live while the page is mounted
// and always call the newest handlers.
(function (S) {
  "use strict";

  var React = S.React;

  // The page's keys, also shown by the help overlay (first key of each entry is shown).
  var KEYS = [
    { keys: ["j", "down"], action: "next", label: "Next item" },
    { keys: ["k", "up"], action: "previous", label: "Previous item" },
    { keys: ["a"], action: "accept", label: "Accept (asks first for destructive kinds)" },
    { keys: ["r"], action: "reject", label: "Reject" },
    { keys: ["s"], action: "skip", label: "Skip: leave it pending, go to the next" },
    { keys: ["u"], action: "undo", label: "Undo the last decision or skip" },
    { keys: ["x"], action: "select", label: "Select or unselect for bulk" },
    { keys: ["?"], action: "help", label: "Show or hide this help" },
  ];

  // The page's own Mousetrap, listening on <body>: a key reaches it before Stash's global
  // Mousetrap (on document), so "?" shows this page's help instead of Stash's manual, and
  // leaving the page resets only these bindings, never Stash's own.
  var keyboard = null;
  function pageKeyboard() {
    if (!keyboard) keyboard = new S.lib.Mousetrap(document.body);
    return keyboard;
  }

  // useKeys({next: fn, ...}, enabled): bind while mounted and enabled.
  function useKeys(handlers, enabled) {
    var ref = React.useRef(handlers);
    ref.current = handlers;
    React.useEffect(function () {
      if (!enabled || !S.lib.Mousetrap) return undefined;
      var mousetrap = pageKeyboard();
      KEYS.forEach(function (entry) {
        mousetrap.bind(entry.keys, function () {
          var fn = ref.current[entry.action];
          if (!fn) return true;
          fn();
          // Handled: Mousetrap stops the event, so Stash's bindings do not see it.
          return false;
        });
      });
      return function () { mousetrap.reset(); };
    }, [enabled]);
  }

  S.review.KEYS = KEYS;
  S.review.useKeys = useKeys;
  S.review.keyboard = pageKeyboard;
})(window.StashSense);

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

  // useKeys({next: fn, ...}, enabled): bind while mounted and enabled.
  function useKeys(handlers, enabled) {
    var ref = React.useRef(handlers);
    ref.current = handlers;
    React.useEffect(function () {
      var Mousetrap = S.lib.Mousetrap;
      if (!enabled || !Mousetrap) return undefined;
      KEYS.forEach(function (entry) {
        Mousetrap.bind(entry.keys, function (event) {
          var fn = ref.current[entry.action];
          if (!fn) return true;
          if (event && event.preventDefault) event.preventDefault();
          fn();
          return false;
        });
      });
      return function () {
        KEYS.forEach(function (entry) { Mousetrap.unbind(entry.keys); });
      };
    }, [enabled]);
  }

  S.review.KEYS = KEYS;
  S.review.useKeys = useKeys;
})(window.StashSense);

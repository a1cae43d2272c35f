// The keyboard walk's logic: where "next" goes (the next row, or the next page counting
// only the items that still match the filter), decisions, skips and the undo stack.
(function (S) {
  "use strict";

  var React = S.React;

  // props: client, view, go, page (usePage), index, ask (confirm dialog), options.
  function useWalk(props) {
    var ref = React.useRef(props);
    ref.current = props;
    var alive = S.review.useAlive();
    var undoStack = React.useRef([]);
    var selectLast = React.useRef(false);
    var busyPair = React.useState(false);
    var messagePair = React.useState(null);
    var skippedPair = React.useState({});
    // Re-render when the undo stack changes, for the Undo button.
    var undoCount = React.useState(0);
    var setUndoCount = function (n) { if (alive.current) undoCount[1](n); };
    var setBusy = function (value) { if (alive.current) busyPair[1](value); };
    var setMessage = function (value) { if (alive.current) messagePair[1](value); };

    function select(index) {
      var p = ref.current;
      var items = p.page.items;
      if (index >= 0 && index < items.length) {
        p.go({ item: items[index].id }, { replace: true });
        var ahead = items[index + 1];
        if (ahead) p.prefetch(ahead);
        return;
      }
      if (index >= items.length) {
        // Decided items left the filter: the next page starts that much earlier.
        var kept = items.filter(function (i) { return S.review.query.keeps(p.view, i.state); }).length;
        var remaining = p.page.total - (items.length - kept);
        var offset = p.view.offset + kept;
        if (offset < remaining) p.go({ offset: offset, item: null });
        else setMessage({ kind: "info", message: "That was the last item of this view." });
        return;
      }
      if (p.view.offset > 0) {
        selectLast.current = true;
        p.go({ offset: Math.max(0, p.view.offset - S.review.query.PAGE_SIZE), item: null });
      }
    }

    function current() {
      var p = ref.current;
      return p.page.items[p.index] || null;
    }

    // Decide optimistically: the item shows its new state and the walk moves on at once,
    // so quick keys are never lost; a failure puts the item back and says why. The undo
    // entry is stacked now, in key order, and its undo waits for the answer.
    function run(action, item, call) {
      var p = ref.current;
      setMessage(null);
      p.page.patch(Object.assign({}, item, { state: action === "accept" ? "accepting" : "rejected" }));
      var entry = { action: action, item: item };
      undoStack.current.push(entry);
      setUndoCount(undoStack.current.length);
      select(p.index + 1);
      entry.done = call().then(
        function (updated) {
          entry.item = updated;
          ref.current.page.patch(updated);
          return updated;
        },
        function (error) {
          undoStack.current = undoStack.current.filter(function (e) { return e !== entry; });
          setUndoCount(undoStack.current.length);
          ref.current.page.patch(item);
          setMessage(error);
          throw error;
        }
      );
      entry.done.catch(function () {});
    }

    function decide(action) {
      var item = current();
      var p = ref.current;
      if (!item || !p.client || item.state !== "pending") return;
      var options = p.options[item.id] || {};
      if (action === "reject") {
        run("reject", item, function () { return S.review.actions.reject(p.client, item); });
        return;
      }
      var accept = function () { return run("accept", item, function () { return S.review.actions.accept(p.client, item, options); }); };
      if (!item.destructive) {
        accept();
        return;
      }
      p.ask({
        title: "Accept: " + S.review.kindLabel(item.kind),
        body: "This changes your library and cannot be undone here: " + S.review.summary(item),
        confirmLabel: "Accept",
        onConfirm: accept,
      });
    }

    function skip() {
      var item = current();
      if (!item) return;
      undoStack.current.push({ action: "skip", item: item });
      setUndoCount(undoStack.current.length);
      skippedPair[1](function (s) { var n = Object.assign({}, s); n[item.id] = true; return n; });
      select(ref.current.index + 1);
    }

    function undo() {
      var last = undoStack.current.pop();
      var p = ref.current;
      setUndoCount(undoStack.current.length);
      if (!last || !p.client) return;
      if (last.action === "skip") {
        skippedPair[1](function (s) { var n = Object.assign({}, s); delete n[last.item.id]; return n; });
        p.go({ item: last.item.id }, { replace: true });
        return;
      }
      setBusy(true);
      last.done.then(function () { return S.review.actions.undo(p.client, last); }).then(
        function (item) {
          setBusy(false);
          p.page.patch(item);
          p.go({ item: item.id }, { replace: true });
        },
        function (error) {
          setBusy(false);
          setMessage(error);
        }
      );
    }

    return {
      busy: busyPair[0],
      message: messagePair[0],
      clearMessage: function () { setMessage(null); },
      skipped: skippedPair[0],
      canUndo: undoStack.current.length > 0,
      selectLast: selectLast,
      select: select,
      next: function () { select(ref.current.index + 1); },
      previous: function () { select(ref.current.index - 1); },
      accept: function () { decide("accept"); },
      reject: function () { decide("reject"); },
      skip: skip,
      undo: undo,
    };
  }

  S.review.useWalk = useWalk;
})(window.StashSense);

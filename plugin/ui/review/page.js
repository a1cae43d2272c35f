// The review queue page (/plugins/stash-sense/review): filters, the page's items, the
// selected item's card, bulk decisions, the keyboard walk and live updates, with the
// whole view in the URL.
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;

  function useToggles() {
    var pair = React.useState({});
    return {
      value: pair[0],
      toggle: function (item) {
        pair[1](function (s) {
          var n = Object.assign({}, s);
          if (n[item.id]) delete n[item.id];
          else n[item.id] = item;
          return n;
        });
      },
      clear: function () { pair[1]({}); },
    };
  }

  function Message(props) {
    var message = props.message;
    if (!message) return null;
    if (message.kind === "info") {
      return h(S.lib.Bootstrap.Alert, { variant: "info", className: "stash-sense-info", dismissible: true, onClose: props.onClose }, message.message);
    }
    return h(S.components.ErrorBox, { error: message });
  }

  function useBulk(client, view, counts, page, checked, ask) {
    var alive = S.review.useAlive();
    var progressPair = React.useState(null);
    var busyPair = React.useState(false);
    var setProgress = function (value) { if (alive.current) progressPair[1](value); };
    var setBusy = function (value) { if (alive.current) busyPair[1](value); };

    function start(action, scope) {
      var items = Object.keys(checked.value).map(function (id) { return checked.value[id]; });
      var kinds = scope === "selection"
        ? items.map(function (i) { return i.kind; })
        : view.kinds.length ? view.kinds : Object.keys((counts && counts.by_kind) || {});
      var target = scope === "selection"
        ? { ids: items.map(function (i) { return i.id; }) }
        : { filter: S.review.query.bulkFilter(view, kinds) };
      var howMany = scope === "selection" ? items.length : page.total;
      function go() {
        setBusy(true);
        target.confirm = action === "accept";
        S.review.actions.bulk(client, action, target, function (total) {
          setProgress(Object.assign({ done: false }, total));
        }).then(
          function (total) {
            setBusy(false);
            setProgress(Object.assign({ done: true }, total));
            checked.clear();
            page.reload();
          },
          function (error) {
            setBusy(false);
            setProgress({ done: true, accepted: 0, rejected: 0, failed: howMany, errors: [error] });
          }
        );
      }
      var risky = action === "accept" ? S.review.destructiveInScope(kinds, counts) : [];
      if (!risky.length) {
        go();
        return;
      }
      ask({
        title: "Accept " + S.core.format.count(howMany) + " items?",
        body: "These kinds change your library and cannot be undone here: " + risky.map(S.review.kindLabel).join(", ") + ".",
        confirmLabel: "Accept all",
        onConfirm: go,
      });
    }

    return { start: start, progress: progressPair[0], busy: busyPair[0] };
  }

  function ReviewPage() {
    var daemon = S.core.useDaemon();
    var client = daemon.client;
    var nav = S.review.useView();
    var view = nav.view;
    var page = S.review.usePage(client, view);
    var counts = S.review.useCounts(client);
    var checked = useToggles();
    var optionsPair = React.useState({});
    var confirmPair = React.useState(null);
    var helpPair = React.useState(false);
    var confirm = confirmPair[0];

    var found = page.items.findIndex(function (i) { return i.id === view.item; });
    var walkRef = React.useRef(null);
    var index = found >= 0 ? found : walkRef.current && walkRef.current.selectLast.current && page.items.length ? page.items.length - 1 : 0;
    var item = page.loading ? null : page.items[index] || null;
    var details = S.review.useDetails(client, item);

    var walk = S.review.useWalk({
      client: client,
      view: view,
      go: nav.go,
      page: page,
      index: index,
      options: optionsPair[0],
      prefetch: details.prefetch,
      ask: confirmPair[1],
    });
    walkRef.current = walk;
    // A page opened without a (known) item selects its first one, or its last when the
    // walk stepped back from the next page; the URL then names it, for reload and back.
    React.useEffect(function () {
      if (page.loading || found >= 0 || !page.items.length) return;
      var target = walk.selectLast.current ? page.items.length - 1 : 0;
      walk.selectLast.current = false;
      nav.go({ item: page.items[target].id }, { replace: true });
    }, [page.loading, found, page.items]);

    var bulk = useBulk(client, view, counts, page, checked, confirmPair[1]);

    S.review.useKeys({
      next: walk.next,
      previous: walk.previous,
      accept: walk.accept,
      reject: walk.reject,
      skip: walk.skip,
      undo: walk.undo,
      select: function () { if (item) checked.toggle(item); },
      help: function () { helpPair[1](function (v) { return !v; }); },
    }, !confirm);

    if (daemon.error) {
      return h("div", { className: "stash-sense-page stash-sense-review container-fluid" }, h("h2", null, "Review"), h(S.components.ErrorBox, { error: daemon.error, onRetry: daemon.retry }));
    }

    var setOptions = function (options) {
      if (!item) return;
      optionsPair[1](function (s) { var n = Object.assign({}, s); n[item.id] = options; return n; });
    };

    return h(
      "div",
      { className: "stash-sense-page stash-sense-review container-fluid" },
      h(
        "div",
        { className: "stash-sense-review-header" },
        h("h2", null, "Review"),
        h(S.components.ConnectionStatus, { client: client }),
        h(S.lib.Bootstrap.Button, { size: "sm", variant: "link", className: "stash-sense-help-button", onClick: function () { helpPair[1](true); } }, "Keys (?)")
      ),
      h(S.review.FilterBar, { view: view, go: nav.go, counts: counts }),
      h(S.review.BulkBar, {
        view: view,
        total: page.total,
        checked: checked.value,
        busy: bulk.busy,
        progress: bulk.progress,
        onBulk: bulk.start,
        onClear: checked.clear,
      }),
      page.fresh
        ? h(S.lib.Bootstrap.Alert, { variant: "info", className: "stash-sense-fresh" },
          page.fresh + " new item" + (page.fresh > 1 ? "s" : "") + " since this page loaded. ",
          h(S.lib.Bootstrap.Button, { size: "sm", variant: "link", onClick: page.reload }, "Show"))
        : null,
      h(S.components.ErrorBox, { error: page.error, onRetry: page.reload }),
      h(Message, { message: walk.message, onClose: walk.clearMessage }),
      h(
        "div",
        { className: "row" },
        h(
          "div",
          { className: "col-md-4" },
          h(S.review.ItemList, {
            items: page.items,
            index: page.loading ? -1 : index,
            checked: checked.value,
            skipped: walk.skipped,
            onSelect: function (id) { nav.go({ item: id }, { replace: true }); },
            onCheck: checked.toggle,
            pager: {
              offset: view.offset,
              count: page.items.length,
              total: page.total,
              hasNext: view.offset + page.items.length < page.total,
              onPrevious: function () { nav.go({ offset: Math.max(0, view.offset - S.review.query.PAGE_SIZE), item: null }); },
              onNext: function () { nav.go({ offset: view.offset + page.items.length, item: null }); },
            },
          })
        ),
        h(
          "div",
          { className: "col-md-8" },
          page.loading
            ? h("div", { className: "stash-sense-loading" }, "Loading…")
            : h(S.review.ItemCard, {
              item: item,
              details: details.details,
              detailsError: details.error,
              client: client,
              options: item ? optionsPair[0][item.id] : null,
              setOptions: setOptions,
              busy: walk.busy,
              canUndo: walk.canUndo,
              onAccept: walk.accept,
              onReject: walk.reject,
              onSkip: walk.skip,
              onUndo: walk.undo,
            })
        )
      ),
      h(S.review.HelpOverlay, { show: helpPair[0], onHide: function () { helpPair[1](false); } }),
      h(S.components.ConfirmDialog, {
        show: !!confirm,
        title: confirm && confirm.title,
        body: confirm && confirm.body,
        confirmLabel: confirm && confirm.confirmLabel,
        onCancel: function () { confirmPair[1](null); },
        onConfirm: function () {
          var run = confirm.onConfirm;
          confirmPair[1](null);
          run();
        },
      })
    );
  }

  S.review.Page = ReviewPage;
})(window.StashSense);

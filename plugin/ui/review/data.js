// What the review page shows, loaded from the daemon and kept current by live changes:
// one page of items, the counts per kind and state, and the selected item's details.
(function (S) {
  "use strict";

  var React = S.React;
  var COUNTS_DELAY_MS = 300;

  // A ref that is true while the component is mounted: answers arriving after the reader
  // left the page are dropped instead of updating a component that is gone.
  function useAlive() {
    var ref = React.useRef(true);
    React.useEffect(function () {
      ref.current = true;
      return function () { ref.current = false; };
    }, []);
    return ref;
  }

  // One page of items for a view. Live changes update the items in place (their state),
  // count new items for a "show new" banner instead of moving the list under the
  // reader's keys, and a resync reloads the page.
  function usePage(client, view) {
    var query = S.review.query.apiQuery(view);
    var key = JSON.stringify(query);
    var pair = React.useState({ key: null, items: [], total: 0, error: null, fresh: 0 });
    var state = pair[0];
    var setState = pair[1];
    var attempt = React.useState(0);

    React.useEffect(function () {
      var alive = true;
      // Straight from the shared client's promise: the first page does not wait for the
      // render that hands the client to this component.
      S.core.daemon().then(function (daemon) {
        return daemon.get("/api/v1/review/items", { query: query });
      }).then(
        function (body) {
          if (alive) setState({ key: key, items: body.items, total: body.total, error: null, fresh: 0 });
        },
        function (error) {
          if (alive) setState(function (s) { return Object.assign({}, s, { key: key, error: error }); });
        }
      );
      return function () { alive = false; };
    }, [key, attempt[0]]);

    var reload = React.useCallback(function () { attempt[1](function (n) { return n + 1; }); }, []);

    // Replace one item of the page (after a decision, or a live change of it).
    var alive = useAlive();
    var patch = React.useCallback(function (item) {
      if (!alive.current) return;
      setState(function (s) {
        var found = false;
        var items = s.items.map(function (i) {
          if (i.id !== item.id) return i;
          found = true;
          return Object.assign({}, i, item);
        });
        return found ? Object.assign({}, s, { items: items }) : s;
      });
    }, []);

    S.core.useLive(client, ["review"], function (message) {
      if (message.type === "resync") {
        reload();
        return;
      }
      var data = message.data || {};
      setState(function (s) {
        var known = s.items.some(function (i) { return i.id === data.id; });
        if (known) {
          var items = s.items.map(function (i) {
            return i.id === data.id ? Object.assign({}, i, { state: data.state }) : i;
          });
          return Object.assign({}, s, { items: items });
        }
        var fits = (!view.kinds.length || view.kinds.indexOf(data.kind) >= 0) &&
          S.review.query.keeps(view, data.state) && (!view.scene || view.scene === data.scene_id);
        if (fits && (message.action === "created" || message.action === "reopened")) {
          return Object.assign({}, s, { fresh: s.fresh + 1 });
        }
        return s;
      });
    });

    return {
      loading: state.key !== key,
      items: state.items,
      total: state.total,
      error: state.error,
      fresh: state.fresh,
      reload: reload,
      patch: patch,
    };
  }

  // Counts per kind and state, refetched (debounced) on every review change.
  function useCounts(client) {
    var pair = React.useState(null);
    var timer = React.useRef(null);
    var alive = useAlive();
    var refresh = React.useCallback(function () {
      S.core.daemon().then(function (daemon) {
        return daemon.get("/api/v1/review/counts");
      }).then(function (counts) { if (alive.current) pair[1](counts); }, function () {});
    }, []);
    React.useEffect(refresh, [refresh]);
    React.useEffect(function () { return function () { clearTimeout(timer.current); }; }, []);
    S.core.useLive(client, ["review"], function () {
      // A bulk decision sends one change per item: count once it settles.
      clearTimeout(timer.current);
      timer.current = setTimeout(refresh, COUNTS_DELAY_MS);
    });
    return pair[0];
  }

  // The details (signed crop URLs, reference images) of one item, cached per page visit;
  // `prefetch` warms the cache for the item the reader is likely to open next.
  function useDetails(client, item) {
    var cache = React.useRef({});
    var pair = React.useState(0);
    var alive = useAlive();
    var bump = function () { if (alive.current) pair[1](function (n) { return n + 1; }); };
    var load = React.useCallback(function (target) {
      if (!client || !target || cache.current[target.id + ":" + target.updated_at]) return;
      var key = target.id + ":" + target.updated_at;
      cache.current[key] = { loading: true };
      client.get("/api/v1/review/items/" + target.id).then(
        function (body) { cache.current[key] = { details: body.details || {} }; bump(); },
        function (error) { cache.current[key] = { error: error }; bump(); }
      );
    }, [client]);
    React.useEffect(function () { load(item); }, [load, item && item.id, item && item.updated_at]);
    var entry = item ? cache.current[item.id + ":" + item.updated_at] : null;
    return {
      details: entry && entry.details ? entry.details : null,
      error: entry && entry.error ? entry.error : null,
      prefetch: load,
    };
  }

  S.review.useAlive = useAlive;
  S.review.usePage = usePage;
  S.review.useCounts = useCounts;
  S.review.useDetails = useDetails;
})(window.StashSense);

// The review page's view lives in the URL query, so reload and back/forward keep it:
// filters (kind, state, scene, confidence), sort, offset and the selected item.
(function (S) {
  "use strict";

  var React = S.React;
  var PAGE_SIZE = 50;
  var SORTS = ["-date", "date", "-confidence", "confidence"];
  var STATES = ["pending", "accepting", "accepted", "rejected", "superseded", "expired"];

  function list(params, name) {
    var raw = params.get(name);
    return raw ? raw.split(",").filter(Boolean) : [];
  }

  function fraction(params, name) {
    var raw = params.get(name);
    if (raw === null || raw === "") return null;
    var value = Number(raw);
    return isFinite(value) && value >= 0 && value <= 1 ? value : null;
  }

  function positive(params, name) {
    var raw = params.get(name);
    if (!raw || !/^\d{1,15}$/.test(raw)) return null;
    var value = Number(raw);
    return value > 0 ? value : null;
  }

  // "?kind=a,b&state=all&min=0.5&item=7" -> a view; anything unreadable falls back to defaults.
  function parse(search) {
    var params = new URLSearchParams(search || "");
    var states = params.has("state") ? list(params, "state") : ["pending"];
    var sort = params.get("sort");
    return {
      kinds: list(params, "kind"),
      // "all" (or an empty value) shows every state.
      states: states.indexOf("all") >= 0 ? [] : states.filter(function (s) { return STATES.indexOf(s) >= 0; }),
      scene: positive(params, "scene"),
      min: fraction(params, "min"),
      max: fraction(params, "max"),
      sort: SORTS.indexOf(sort) >= 0 ? sort : "-date",
      offset: Math.max(0, Number(params.get("offset")) || 0),
      item: positive(params, "item"),
    };
  }

  // The inverse of parse, leaving out defaults so plain links stay short.
  function serialize(view) {
    var params = new URLSearchParams();
    if (view.kinds.length) params.set("kind", view.kinds.join(","));
    var states = view.states.join(",");
    if (states !== "pending") params.set("state", states || "all");
    if (view.scene) params.set("scene", String(view.scene));
    if (view.min !== null) params.set("min", String(view.min));
    if (view.max !== null) params.set("max", String(view.max));
    if (view.sort !== "-date") params.set("sort", view.sort);
    if (view.offset) params.set("offset", String(view.offset));
    if (view.item) params.set("item", String(view.item));
    var text = params.toString();
    return text ? "?" + text : "";
  }

  // Query parameters of GET /api/v1/review/items for a view.
  function apiQuery(view) {
    return {
      kind: view.kinds.length ? view.kinds.join(",") : undefined,
      state: view.states.length ? view.states.join(",") : undefined,
      scene: view.scene || undefined,
      min_confidence: view.min === null ? undefined : view.min,
      max_confidence: view.max === null ? undefined : view.max,
      sort: view.sort,
      limit: PAGE_SIZE,
      offset: view.offset,
    };
  }

  // The bulk filter of a view (bulk acts on pending items only). The API refuses an
  // empty filter, so "every kind" is spelled out from the kinds the daemon knows.
  function bulkFilter(view, knownKinds) {
    var filter = { kind: view.kinds.length ? view.kinds : knownKinds };
    if (view.scene) filter.scene = view.scene;
    if (view.min !== null) filter.min_confidence = view.min;
    if (view.max !== null) filter.max_confidence = view.max;
    return filter;
  }

  // Whether an item in this state still belongs to the view (decided items may not).
  function keeps(view, state) {
    return !view.states.length || view.states.indexOf(state) >= 0;
  }

  // {view, go}: go(changes, {replace}) moves to a new view through react-router history.
  function useView() {
    var Router = S.lib.ReactRouterDOM;
    var location = Router.useLocation();
    var history = Router.useHistory();
    var view = React.useMemo(function () { return parse(location.search); }, [location.search]);
    var latest = React.useRef(view);
    latest.current = view;
    var go = React.useCallback(function (changes, options) {
      // A late answer (or effect) after the reader left the page must not drag them back.
      if (history.location.pathname !== location.pathname) return;
      var next = Object.assign({}, latest.current, changes);
      latest.current = next;
      var url = location.pathname + serialize(next);
      if (options && options.replace) history.replace(url);
      else history.push(url);
    }, [history, location.pathname]);
    return { view: view, go: go };
  }

  S.review.query = {
    PAGE_SIZE: PAGE_SIZE,
    SORTS: SORTS,
    STATES: STATES,
    parse: parse,
    serialize: serialize,
    apiQuery: apiQuery,
    bulkFilter: bulkFilter,
    keeps: keeps,
  };
  S.review.useView = useView;
})(window.StashSense);

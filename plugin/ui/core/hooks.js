// React hooks every page uses: the shared daemon client, async loads, live subscriptions.
(function (S) {
  "use strict";

  var React = S.React;

  // {client, error} once the client is ready or failed; `retry` forgets and tries again.
  S.core.useDaemon = function () {
    var pair = React.useState({ client: null, error: null, attempt: 0 });
    var state = pair[0];
    var setState = pair[1];
    React.useEffect(function () {
      var alive = true;
      S.core.daemon().then(
        function (client) { if (alive) setState(function (s) { return { client: client, error: null, attempt: s.attempt }; }); },
        function (error) { if (alive) setState(function (s) { return { client: null, error: error, attempt: s.attempt }; }); }
      );
      return function () { alive = false; };
    }, [state.attempt]);
    return {
      client: state.client,
      error: state.error,
      retry: function () {
        S.core.resetDaemon();
        setState(function (s) { return { client: null, error: null, attempt: s.attempt + 1 }; });
      },
    };
  };

  // Run `load()` (a promise) when deps change; `reload()` runs it again keeping old data.
  S.core.useAsync = function (load, deps) {
    var pair = React.useState({ data: null, error: null, loading: true, version: 0 });
    var state = pair[0];
    var setState = pair[1];
    React.useEffect(function () {
      var alive = true;
      var promise = load();
      if (!promise) return undefined;
      promise.then(
        function (data) { if (alive) setState(function (s) { return { data: data, error: null, loading: false, version: s.version }; }); },
        function (error) { if (alive) setState(function (s) { return { data: s.data, error: error, loading: false, version: s.version }; }); }
      );
      return function () { alive = false; };
    }, deps.concat([state.version]));
    return {
      data: state.data,
      error: state.error,
      loading: state.loading,
      reload: function () {
        setState(function (s) { return { data: s.data, error: null, loading: true, version: s.version + 1 }; });
      },
    };
  };

  // Call `onMessage` for changes on `topics` (and for resync) while mounted.
  S.core.useLive = function (client, topics, onMessage) {
    var ref = React.useRef(onMessage);
    ref.current = onMessage;
    var key = topics.join(",");
    React.useEffect(function () {
      if (!client) return undefined;
      return client.live.subscribe(topics, function (message) { ref.current(message); });
    }, [client, key]);
  };
})(window.StashSense);

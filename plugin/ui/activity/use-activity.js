// The activity page's data: one fetch per panel, running jobs patched live from the `job`
// topic, and a throttled refetch when jobs change state (or everything on "resync").
(function (S) {
  "use strict";

  var React = S.React;
  // A backfill queues thousands of jobs at once: refetch at most once per this many ms.
  var REFETCH_MS = 800;
  var FAILED_SHOWN = 20;

  var SOURCES = {
    health: function (c) { return c.get("/api/v1/health"); },
    stats: function (c) { return c.get("/api/v1/jobs/stats"); },
    running: function (c) { return c.get("/api/v1/jobs", { query: { state: "running", limit: 100 } }); },
    failed: function (c) { return c.get("/api/v1/jobs", { query: { state: "failed", limit: FAILED_SHOWN } }); },
    analyzers: function (c) { return c.get("/api/v1/analyzers"); },
    coverage: function (c) { return c.get("/api/v1/scenes/coverage"); },
  };

  // Each source settles on its own: one failing panel never blanks the others.
  function fetchAll(client) {
    var names = Object.keys(SOURCES);
    return Promise.all(names.map(function (name) {
      return SOURCES[name](client).then(
        function (data) { return { data: data, error: null }; },
        function (error) { return { data: null, error: error }; }
      );
    })).then(function (results) {
      var out = {};
      names.forEach(function (name, i) { out[name] = results[i]; });
      return out;
    });
  }

  // Apply one live job change to the running list: patch, add or drop the job.
  function applyJobChange(jobs, data) {
    var rest = jobs.filter(function (job) { return job.id !== data.id; });
    if (data.state !== "running") return rest;
    var old = jobs.find(function (job) { return job.id === data.id; });
    var merged = Object.assign({}, old || {}, data);
    return old ? jobs.map(function (job) { return job.id === data.id ? merged : job; }) : [merged].concat(rest);
  }

  S.activity.useActivity = function (client) {
    var pair = React.useState(null);
    var sources = pair[0];
    var setSources = pair[1];
    var runningPair = React.useState([]);
    var setRunning = runningPair[1];
    var timer = React.useRef(null);
    var alive = React.useRef(true);

    var refetch = React.useCallback(function () {
      if (!client) return Promise.resolve();
      return fetchAll(client).then(function (fetched) {
        if (!alive.current) return;
        setSources(fetched);
        setRunning(fetched.running.data ? fetched.running.data.jobs : []);
      });
    }, [client]);

    React.useEffect(function () {
      alive.current = true;
      refetch();
      return function () {
        alive.current = false;
        clearTimeout(timer.current);
      };
    }, [refetch]);

    function refetchSoon() {
      if (timer.current) return;
      timer.current = setTimeout(function () {
        timer.current = null;
        refetch();
      }, REFETCH_MS);
    }

    S.core.useLive(client, ["job"], function (message) {
      if (message.type === "resync") {
        refetch();
        return;
      }
      setRunning(function (jobs) { return applyJobChange(jobs, message.data); });
      // Progress moves bars only; any other change moves counts, lists and coverage.
      if (message.action !== "progress") refetchSoon();
    });

    return { sources: sources, running: runningPair[0], refetch: refetch };
  };
})(window.StashSense);

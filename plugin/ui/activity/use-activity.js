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

  // A refetch answers with the jobs as they were when it was sent: a job that a live
  // change touched since then keeps its live state (newer progress, or gone if it ended).
  function mergeFetched(fresh, current, liveAt, sent) {
    var newer = function (id) { return (liveAt[id] || 0) > sent; };
    var kept = [];
    fresh.forEach(function (job) {
      if (!newer(job.id)) {
        kept.push(job);
        return;
      }
      var live = current.find(function (c) { return c.id === job.id; });
      if (live) kept.push(live);
    });
    current.forEach(function (job) {
      var listed = fresh.some(function (f) { return f.id === job.id; });
      if (!listed && newer(job.id)) kept.push(job);
    });
    return kept;
  }

  S.activity.useActivity = function (client) {
    var pair = React.useState(null);
    var sources = pair[0];
    var setSources = pair[1];
    var runningPair = React.useState([]);
    var setRunning = runningPair[1];
    var timer = React.useRef(null);
    var alive = React.useRef(true);
    var liveAt = React.useRef({});

    var refetch = React.useCallback(function () {
      if (!client) return Promise.resolve();
      var sent = performance.now();
      return fetchAll(client).then(function (fetched) {
        if (!alive.current) return;
        setSources(fetched);
        var fresh = fetched.running.data ? fetched.running.data.jobs : [];
        setRunning(function (current) {
          return mergeFetched(fresh, current, liveAt.current, sent);
        });
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
      liveAt.current[message.data.id] = performance.now();
      setRunning(function (jobs) { return applyJobChange(jobs, message.data); });
      // Progress moves bars only; any other change moves counts, lists and coverage.
      if (message.action !== "progress") refetchSoon();
    });

    return { sources: sources, running: runningPair[0], refetch: refetch };
  };
})(window.StashSense);

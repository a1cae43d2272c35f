// "Test connection": finds exactly what stands between this page and the daemon, in the
// order a user has to fix things: settings, CSP, reachability, CORS, token, versions.
(function (S) {
  "use strict";

  var MARKER = "@STASH_SENSE_" + "VERSION@"; // split so the packager leaves it alone

  function problem(kind, message, hint) {
    return { kind: kind, message: message, hint: hint || S.core.errorKinds[kind] || "" };
  }

  function plainFetch(url, init) {
    var started = Date.now();
    return fetch(url, init).then(
      function (response) { return { response: response }; },
      function () {
        // Let the CSP violation event (if any) arrive before deciding.
        return new Promise(function (resolve) { setTimeout(resolve, 60); }).then(function () {
          return { failed: true, csp: S.connection.cspBlocked(url, started) };
        });
      }
    );
  }

  // Resolves to {ok, problems: [{kind, message, hint}], daemonVersion, pluginVersion, url}.
  S.connection.check = function () {
    var result = { ok: false, problems: [], daemonVersion: null, pluginVersion: S.version, url: null };
    return S.core.settings.load().then(function (settings) {
      result.url = settings.daemonUrl;
      if (!settings.daemonUrl || !settings.daemonToken) {
        result.problems.push(problem("not-configured", "The daemon URL or token is not set."));
        return result;
      }
      var health = settings.daemonUrl + "/api/v1/health";
      // 1. An opaque request: CSP applies to it, CORS does not.
      return plainFetch(health, { mode: "no-cors", credentials: "omit" }).then(function (opaque) {
        if (opaque.failed) {
          result.problems.push(opaque.csp
            ? problem("csp-blocked", "Stash's content security policy blocks " + settings.daemonUrl + ".")
            : problem("unreachable", "The daemon does not answer at " + settings.daemonUrl + "."));
          return result;
        }
        // 2. The same request with CORS: fails when the daemon does not allow this origin.
        return plainFetch(health, { mode: "cors", credentials: "omit" }).then(function (cors) {
          if (cors.failed || !cors.response.ok) {
            result.problems.push(problem(
              "cors",
              "The daemon answers but does not allow this Stash page (" + window.location.origin + ").",
              "Add " + window.location.origin + " to server.cors_origins in the daemon's config."
            ));
            return result;
          }
          return cors.response.json().then(function (body) {
            result.daemonVersion = body.version;
            return checkToken(settings, result);
          });
        });
      });
    }, function (error) {
      result.problems.push(problem("stash", "Could not read the plugin settings from Stash: " + error.message, ""));
      return result;
    });
  };

  function checkToken(settings, result) {
    var client = new S.core.Client(settings.daemonUrl, settings.daemonToken);
    return client.get("/api/v1/review/counts").then(
      function () { return checkVersion(result); },
      function (error) {
        if (error.kind === "unauthorized") result.problems.push(problem("unauthorized", "The daemon rejected the token."));
        else result.problems.push(problem(error.kind, error.message));
        return checkVersion(result);
      }
    );
  }

  function checkVersion(result) {
    if (result.pluginVersion === MARKER) {
      result.problems.push(problem(
        "version-mismatch",
        "This plugin was not installed from the daemon's plugin source, so its version is unknown (daemon " + result.daemonVersion + ").",
        "Install the plugin from <daemon URL>/plugin/index.yml (Settings → Plugins → Available plugins)."
      ));
    } else if (result.daemonVersion !== result.pluginVersion) {
      result.problems.push(problem(
        "version-mismatch",
        "Version mismatch: plugin " + result.pluginVersion + ", daemon " + result.daemonVersion + "."
      ));
    }
    result.ok = result.problems.length === 0;
    return result;
  }

  // Whether Stash's CSP blocked a connection to the URL's origin since `since` (ms).
  S.connection.cspBlocked = function (url, since) {
    return S.core.cspBlocked(url, since);
  };
})(window.StashSense);

// THE client every page uses to talk to the daemon: base URL and token from the plugin
// settings, `Authorization: Bearer` on every call, and failures turned into typed errors.
(function (S) {
  "use strict";

  // Kinds of failure, each with the sentence a user needs to fix it.
  var KINDS = {
    "not-configured": "Set the daemon URL and token in Settings → Plugins → Stash Sense.",
    unreachable: "The Stash Sense daemon does not answer at this URL. Is it running, and can this browser reach it?",
    unauthorized: "The daemon rejected the token. Copy the daemon's API token into the plugin settings.",
    "csp-blocked": "Stash's content security policy blocked the call to the daemon. Install the plugin from the daemon's own plugin source so its URL is allowed.",
    "version-mismatch": "The plugin and the daemon are different versions. Update the plugin from Settings → Plugins.",
    http: "The daemon answered with an error.",
  };

  function DaemonError(kind, message, extra) {
    this.name = "DaemonError";
    this.kind = kind;
    this.message = message || KINDS[kind] || kind;
    this.hint = KINDS[kind] || "";
    this.status = (extra && extra.status) || 0;
    this.code = (extra && extra.code) || "";
  }
  DaemonError.prototype = Object.create(Error.prototype);
  S.core.DaemonError = DaemonError;
  S.core.errorKinds = KINDS;

  // Stash's CSP reports blocked connections as events; remember recent ones so a failed
  // fetch can tell "blocked by CSP" from "nobody answers".
  var violations = [];
  document.addEventListener("securitypolicyviolation", function (event) {
    violations.push({ uri: String(event.blockedURI || ""), at: Date.now() });
    if (violations.length > 50) violations.shift();
  });

  S.core.cspBlocked = blockedByCsp;

  function blockedByCsp(baseUrl, since) {
    var origin;
    try { origin = new URL(baseUrl).origin; } catch (e) { return false; }
    return violations.some(function (v) { return v.at >= since && v.uri.indexOf(origin) === 0; });
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function networkFailure(baseUrl, started) {
    // The violation event may arrive just after the rejected fetch: give it a moment.
    return wait(60).then(function () {
      if (blockedByCsp(baseUrl, started)) {
        return new DaemonError("csp-blocked", "Blocked by Stash's content security policy: " + baseUrl);
      }
      return new DaemonError("unreachable", "No answer from the daemon at " + baseUrl);
    });
  }

  function queryString(query) {
    if (!query) return "";
    var parts = [];
    Object.keys(query).forEach(function (key) {
      var value = query[key];
      if (value === undefined || value === null || value === "") return;
      (Array.isArray(value) ? value : [value]).forEach(function (v) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(v)));
      });
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function Client(baseUrl, token) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.live = new S.core.Live(baseUrl, token);
  }

  // request("GET", "/api/v1/review/items", {query: {...}}) resolves to the parsed JSON body.
  Client.prototype.request = function (method, path, options) {
    var opts = options || {};
    var baseUrl = this.baseUrl;
    var headers = { Authorization: "Bearer " + this.token };
    var init = { method: method, headers: headers, mode: "cors", credentials: "omit" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    var started = Date.now();
    return fetch(baseUrl + path + queryString(opts.query), init).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (response.ok) return body;
          var err = (body && body.error) || {};
          var kind = response.status === 401 ? "unauthorized" : "http";
          throw new DaemonError(kind, err.message || "HTTP " + response.status, {
            status: response.status,
            code: err.code,
          });
        });
      },
      function () {
        return networkFailure(baseUrl, started).then(function (error) { throw error; });
      }
    );
  };

  ["get", "post", "put", "delete"].forEach(function (verb) {
    Client.prototype[verb] = function (path, options) {
      return this.request(verb.toUpperCase(), path, options);
    };
  });

  // An image URL the daemon signed ("/api/v1/crops/3?exp=..&sig=..") made absolute.
  Client.prototype.imageUrl = function (signedPath) {
    if (!signedPath) return null;
    return /^https?:/.test(signedPath) ? signedPath : this.baseUrl + signedPath;
  };

  var current = null;

  // Resolves to the shared client; rejects with a DaemonError when settings are missing.
  S.core.daemon = function () {
    if (!current) {
      current = S.core.settings.load().then(function (settings) {
        if (!settings.daemonUrl || !settings.daemonToken) {
          throw new DaemonError("not-configured");
        }
        return new Client(settings.daemonUrl, settings.daemonToken);
      });
      current.catch(function () { current = null; });
    }
    return current;
  };

  // Forget the client (settings changed); the next S.core.daemon() reads them again.
  S.core.resetDaemon = function () {
    var old = current;
    current = null;
    if (old) old.then(function (client) { client.live.close(); }, function () {});
  };

  S.core.Client = Client;
})(window.StashSense);

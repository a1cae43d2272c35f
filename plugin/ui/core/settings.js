// Reads the plugin's settings (daemon URL and token) from Stash's GraphQL at the same
// origin, as every plugin must: Stash gives plugin settings no other way into the page.
(function (S) {
  "use strict";

  var QUERY = "query StashSenseSettings($ids: [ID!]) { configuration { plugins(include: $ids) } }";

  // Same-origin GraphQL: the session cookie goes along, no key needed in the page.
  S.core.stashGraphQL = function (query, variables) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      if (!response.ok) throw new Error("Stash answered HTTP " + response.status);
      return response.json();
    }).then(function (body) {
      if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
      return body.data;
    });
  };

  S.core.settings = {
    // Resolves to {daemonUrl, daemonToken}; both "" when unset.
    load: function () {
      return S.core.stashGraphQL(QUERY, { ids: [S.pluginId] }).then(function (data) {
        var all = (data.configuration && data.configuration.plugins) || {};
        var mine = all[S.pluginId] || {};
        return {
          daemonUrl: String(mine.daemonUrl || "").trim().replace(/\/+$/, ""),
          daemonToken: String(mine.daemonToken || "").trim(),
        };
      });
    },
  };
})(window.StashSense);

// Stash Sense UI: the first file Stash loads. It creates the one global namespace every
// other file adds to, and records the version the daemon's packager baked in.
(function () {
  "use strict";

  var S = (window.StashSense = window.StashSense || {});
  // The daemon replaces this marker when it builds the plugin zip; a folder copied by
  // hand keeps it, and the connection check reports that as "version unknown".
  S.version = "@STASH_SENSE_VERSION@";
  S.pluginId = "stash-sense";
  S.core = S.core || {};
  S.components = S.components || {};
  S.connection = S.connection || {};
  S.faces = S.faces || {};
  S.review = S.review || {};
  S.activity = S.activity || {};

  var api = window.PluginApi;
  // Every file takes React and the libraries from here, never from globals of its own.
  S.React = api.React;
  S.h = api.React.createElement;
  S.lib = api.libraries;
  S.routes = {
    review: "/plugins/stash-sense/review",
    activity: "/plugins/stash-sense/activity",
  };
})();

// The last file Stash loads: registers the plugin's routes and patches with PluginApi.
(function (S) {
  "use strict";

  var h = S.h;
  var api = window.PluginApi;

  api.register.route(S.routes.review, S.review.Page);
  api.register.route(S.routes.activity, S.activity.Page);

  // Navbar: the review button (with the pending count) and the activity link, before
  // Stash's own utility items.
  api.patch.before("MainNavBar.UtilityItems", function (props) {
    return [
      Object.assign({}, props, {
        children: h(S.React.Fragment, null, h(S.components.NavbarButton, { key: "stash-sense" }), h(S.activity.NavLink, { key: "stash-sense-activity" }), props.children),
      }),
    ];
  });

  // Scene page: a "Faces" tab beside Stash's own tabs, when the faces files are loaded.
  if (S.faces.TabNav && S.faces.TabPane) {
    api.patch.before("ScenePage.Tabs", function (props) {
      return [Object.assign({}, props, { children: h(S.React.Fragment, null, props.children, h(S.faces.TabNav, { key: "stash-sense-faces" })) })];
    });
    api.patch.before("ScenePage.TabContent", function (props) {
      return [Object.assign({}, props, { children: h(S.React.Fragment, null, props.children, h(S.faces.TabPane, { key: "stash-sense-faces", scene: props.scene })) })];
    });
  }
})(window.StashSense);

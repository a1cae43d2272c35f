// A minimal Stash shell for the browser tests: navbar (with MainNavBar.UtilityItems), a
// scene page at /scenes/:id with Bootstrap tabs (ScenePage.Tabs / ScenePage.TabContent),
// and /plugins/* rendered through PluginRoutes. Loaded after the plugin's files.
(function () {
  "use strict";

  var h = React.createElement;
  var api = window.PluginApi;
  var B = window.ReactBootstrap;
  var R = window.ReactRouterDOM;
  var UtilityItems = api._host.patchContainer("MainNavBar.UtilityItems");
  var Tabs = api._host.patchContainer("ScenePage.Tabs");
  var TabContent = api._host.patchContainer("ScenePage.TabContent");
  var PluginRoutes = api._host.patchContainer("PluginRoutes");

  var SCENE_QUERY =
    "query ShellScene($id: ID!) { findScene(id: $id) { id title " +
    "files { path duration } performers { id name } } }";

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: variables }),
    }).then(function (r) { return r.json(); });
  }

  function NavBar() {
    return h(
      "nav",
      { className: "navbar navbar-dark bg-dark top-nav" },
      h(R.Link, { to: "/", className: "navbar-brand" }, "Stash"),
      h(R.Link, { to: "/scenes/1", className: "nav-link" }, "Scenes"),
      h("div", { className: "navbar-buttons ml-auto" }, h(UtilityItems, null, h("span", { className: "nav-utility-stash" }, "⚙")))
    );
  }

  function ScenePage() {
    var id = R.useParams().id;
    var pair = React.useState(null);
    var scene = pair[0];
    var setScene = pair[1];
    var load = React.useCallback(function () {
      graphql(SCENE_QUERY, { id: id }).then(function (body) { setScene(body.data.findScene); });
    }, [id]);
    React.useEffect(load, [load]);
    if (!scene) return h("div", { className: "loading" }, "Loading…");
    var props = { scene: scene };
    return h(
      "div",
      { className: "row scene-page" },
      h(
        "div",
        { className: "scene-tabs col-md-5" },
        h("h3", { className: "scene-header" }, scene.title || "Scene " + scene.id),
        h(
          B.Tab.Container,
          { id: "scene-tabs", defaultActiveKey: "scene-details-panel" },
          h(
            B.Nav,
            { variant: "tabs", className: "mr-auto" },
            h(
              Tabs,
              props,
              h(B.Nav.Item, null, h(B.Nav.Link, { eventKey: "scene-details-panel" }, "Details")),
              h(B.Nav.Item, null, h(B.Nav.Link, { eventKey: "scene-file-info-panel" }, "File Info"))
            )
          ),
          h(
            B.Tab.Content,
            null,
            h(
              TabContent,
              props,
              h(
                B.Tab.Pane,
                { eventKey: "scene-details-panel" },
                h("ul", { className: "scene-performers" }, scene.performers.map(function (p) {
                  return h("li", { key: p.id, "data-performer-id": p.id }, p.name);
                })),
                h(B.Button, { size: "sm", className: "shell-reload-scene", onClick: load }, "Reload")
              ),
              h(B.Tab.Pane, { eventKey: "scene-file-info-panel" }, (scene.files[0] || {}).path || "")
            )
          )
        )
      ),
      h(
        "div",
        { className: "scene-player-container col-md-7" },
        // The player: a bare <video> like the one inside Stash's video.js player.
        h("div", { className: "video-js" }, h("video", { id: "VideoJsPlayer_html5_api", className: "vjs-tech", preload: "none" }))
      )
    );
  }

  function Home() {
    return h("div", { className: "shell-home" }, "Stash");
  }

  function App() {
    return h(
      R.BrowserRouter,
      null,
      h(NavBar),
      h(
        "div",
        { className: "main container-fluid" },
        h(
          R.Switch,
          null,
          h(R.Route, { path: "/scenes/:id", component: ScenePage }),
          h(R.Route, { path: "/plugins", render: function () { return h(PluginRoutes); } }),
          h(R.Route, { path: "/", component: Home })
        )
      )
    );
  }

  // Scripts load in <head>; render once the body exists.
  document.addEventListener("DOMContentLoaded", function () {
    ReactDOM.render(h(ReactIntl.IntlProvider, { locale: "en" }, h(App)), document.getElementById("root"));
  });
})();

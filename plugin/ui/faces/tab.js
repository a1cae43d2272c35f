// The "Faces" tab on the scene page: its title in ScenePage.Tabs and its pane in
// ScenePage.TabContent (main.js registers both patches).
(function (S) {
  "use strict";

  var h = S.h;
  var EVENT_KEY = "stash-sense-faces-panel";

  S.faces.TabNav = function FacesTabNav() {
    var B = S.lib.Bootstrap;
    return h(B.Nav.Item, null, h(B.Nav.Link, { eventKey: EVENT_KEY, className: "stash-sense-faces-tab" }, "Faces"));
  };

  S.faces.TabPane = function FacesTabPane(props) {
    var B = S.lib.Bootstrap;
    // mountOnEnter: nothing is fetched until someone opens the tab.
    return h(
      B.Tab.Pane,
      { eventKey: EVENT_KEY, mountOnEnter: true, className: "stash-sense-faces-pane" },
      props.scene ? h(S.faces.Panel, { scene: props.scene }) : null
    );
  };
})(window.StashSense);

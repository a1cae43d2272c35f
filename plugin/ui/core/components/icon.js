// Icon: draws a FontAwesome icon definition (from PluginApi.libraries.FontAwesomeSolid)
// as an inline SVG, the way Stash's own icons look, without another library.
(function (S) {
  "use strict";

  var h = S.h;

  S.components.Icon = function Icon(props) {
    var def = props.icon;
    if (!def || !def.icon) return null;
    var width = def.icon[0];
    var height = def.icon[1];
    var path = def.icon[4];
    var paths = Array.isArray(path) ? path : [path];
    return h(
      "svg",
      {
        className: "svg-inline--fa fa-icon stash-sense-icon " + (props.className || ""),
        viewBox: "0 0 " + width + " " + height,
        "aria-hidden": "true",
        focusable: "false",
        role: "img",
      },
      paths.map(function (d, i) { return h("path", { key: i, fill: "currentColor", d: d }); })
    );
  };

  // The solid icon set Stash hands to plugins.
  S.icons = S.lib.FontAwesomeSolid;
})(window.StashSense);

// Crop: a face image from a signed daemon URL (or any image URL), optionally clickable.
(function (S) {
  "use strict";

  var h = S.h;

  S.components.Crop = function Crop(props) {
    var src = props.src;
    var className = "stash-sense-crop " + (props.className || "");
    if (!src) {
      return h("div", { className: className + " stash-sense-crop-missing", title: props.title }, "?");
    }
    var img = h("img", { src: src, alt: props.alt || "", title: props.title, loading: "lazy" });
    if (!props.onClick) return h("div", { className: className }, img);
    return h(
      "button",
      { type: "button", className: className + " stash-sense-crop-button", onClick: props.onClick, title: props.title },
      img
    );
  };
})(window.StashSense);

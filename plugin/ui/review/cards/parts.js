// Small pieces every card uses: file facts, values as text, links into Stash, images.
// Every string from Stash, stash-box or the face database is a React text child here.
(function (S) {
  "use strict";

  var h = S.h;
  var parts = {};

  parts.bytes = function (n) {
    if (typeof n !== "number" || !isFinite(n) || n <= 0) return "—";
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
    var value = n / Math.pow(1024, i);
    return (i === 0 ? String(n) : value.toFixed(value >= 100 ? 0 : 1)) + " " + units[i];
  };

  parts.bitrate = function (n) {
    if (typeof n !== "number" || !isFinite(n) || n <= 0) return "—";
    return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + " Mbit/s";
  };

  parts.resolution = function (width, height) {
    if (!width || !height) return "—";
    return width + "×" + height + (height >= 2160 ? " (4K)" : height >= 1080 ? " (1080p)" : height >= 720 ? " (720p)" : "");
  };

  parts.duration = function (seconds) {
    return typeof seconds === "number" && seconds > 0 ? S.core.format.timecode(seconds) : "—";
  };

  // Any JSON value as plain text: refs by name, lists joined, objects as JSON.
  parts.text = function (value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.length ? value.map(parts.text).join(", ") : "—";
    if (typeof value === "object") {
      if (typeof value.name === "string") return value.name + (value.as ? " (as " + value.as + ")" : "");
      return JSON.stringify(value);
    }
    return String(value);
  };

  // A link to a page of Stash itself (scenes, performers, studios, tags).
  parts.StashLink = function StashLink(props) {
    var Link = S.lib.ReactRouterDOM.Link;
    return h(Link, { to: props.to, className: props.className, title: props.title }, props.children);
  };

  // A two-column table of facts: rows [[label, value, {better: bool}], ...].
  parts.Facts = function Facts(props) {
    return h(
      "table",
      { className: "table table-sm stash-sense-facts" },
      h("tbody", null, props.rows.map(function (row) {
        var extra = row[2] || {};
        return h(
          "tr",
          { key: row[0], className: extra.better ? "stash-sense-better" : undefined },
          h("th", { scope: "row" }, row[0]),
          h("td", { className: extra.mono ? "stash-sense-mono" : undefined }, row[1])
        );
      }))
    );
  };

  // An image that may be a path on Stash's own origin (/performer/7/image), a signed
  // daemon path, or any URL; none shows an empty frame.
  parts.Image = function Image(props) {
    return h(S.components.Crop, { src: props.src || null, alt: props.alt || "", title: props.title, className: props.className });
  };

  // Compare one numeric fact across sides: the index of the best side (highest), or -1.
  parts.best = function (values) {
    var top = -1;
    var tie = false;
    values.forEach(function (v, i) {
      if (typeof v !== "number" || !(v > 0)) return;
      if (top < 0 || v > values[top]) { top = i; tie = false; } else if (v === values[top]) tie = true;
    });
    return tie ? -1 : top;
  };

  // A "keep this one" choice shown on each side of a duplicate card.
  parts.KeepChoice = function KeepChoice(props) {
    var B = S.lib.Bootstrap;
    return h(B.Form.Check, {
      type: "radio",
      id: "stash-sense-keep-" + props.itemId + "-" + props.value,
      name: "stash-sense-keep-" + props.itemId,
      label: props.suggested ? "Keep (suggested)" : "Keep",
      checked: props.checked,
      onChange: props.onChange,
      className: "stash-sense-keep",
    });
  };

  // One side of a duplicate card: a frame (green when kept) with its "keep" choice on top.
  // props: itemId, value, keep (the chosen value), suggested (value), onKeep(value).
  parts.KeepSide = function KeepSide(props) {
    var kept = props.keep === props.value;
    return h(
      "div",
      { className: "stash-sense-side" + (kept ? " stash-sense-kept" : "") },
      h(parts.KeepChoice, {
        itemId: props.itemId,
        value: props.value,
        suggested: props.value === props.suggested,
        checked: kept,
        onChange: function () { props.onKeep(props.value); },
      }),
      props.children
    );
  };

  S.review.parts = parts;
})(window.StashSense);

// Formatting helpers shared by every page: dates, durations, percents, counts.
(function (S) {
  "use strict";

  function toDate(value) {
    if (value === null || value === undefined || value === "") return null;
    var date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }

  S.core.format = {
    // "2026-12-03 14:05" in the browser's time zone; "—" when there is no date.
    date: function (value) {
      var d = toDate(value);
      if (!d) return "—";
      var pad = function (n) { return String(n).padStart(2, "0"); };
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    // "3 min ago", "in 2 h": coarse on purpose.
    relative: function (value, now) {
      var d = toDate(value);
      if (!d) return "—";
      var seconds = Math.round(((now || Date.now()) - d.getTime()) / 1000);
      var future = seconds < 0;
      var s = Math.abs(seconds);
      var text = s < 60 ? s + " s" : s < 3600 ? Math.round(s / 60) + " min" :
        s < 86400 ? Math.round(s / 3600) + " h" : Math.round(s / 86400) + " d";
      return future ? "in " + text : text + " ago";
    },
    // 0.873 -> "87%".
    percent: function (fraction) {
      if (typeof fraction !== "number" || isNaN(fraction)) return "—";
      return Math.round(fraction * 100) + "%";
    },
    // 754.2 -> "12:34".
    timecode: function (seconds) {
      if (typeof seconds !== "number" || isNaN(seconds)) return "—";
      var s = Math.max(0, Math.floor(seconds));
      var h = Math.floor(s / 3600);
      var m = Math.floor((s % 3600) / 60);
      var rest = String(s % 60).padStart(2, "0");
      return h ? h + ":" + String(m).padStart(2, "0") + ":" + rest : m + ":" + rest;
    },
    count: function (n) {
      return typeof n === "number" ? n.toLocaleString("en") : "—";
    },
  };
})(window.StashSense);

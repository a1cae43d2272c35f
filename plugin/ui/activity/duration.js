// Durations for the activity page: "45 s", "12 min", "1 h 26 min", "3 d 4 h".
(function (S) {
  "use strict";

  S.activity.duration = function (seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "—";
    var s = Math.round(seconds);
    if (s < 60) return s + " s";
    var minutes = Math.round(s / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    var days = Math.floor(hours / 24);
    return days + " d" + (hours % 24 ? " " + (hours % 24) + " h" : "");
  };
})(window.StashSense);

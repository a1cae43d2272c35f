// Seeking the scene player to where a face was seen. Stash's PluginApi has no player API,
// so this sets the time on the page's <video> element (the one inside Stash's video.js
// player); when Stash's player markup changes, clicking a crop only shows the time.
(function (S) {
  "use strict";

  S.faces.seek = function (seconds) {
    var video = document.querySelector(".video-js video") || document.querySelector("video");
    if (!video || typeof seconds !== "number") return false;
    video.currentTime = seconds;
    var container = video.closest(".video-js") || video;
    if (container.scrollIntoView) container.scrollIntoView({ block: "nearest" });
    return true;
  };
})(window.StashSense);

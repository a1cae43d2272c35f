// Live updates: one WebSocket to the daemon's change feed. The token travels in the first
// message (never in the URL); the socket reconnects with backoff; pages subscribe by topic
// and refetch what they show when told to "resync".
(function (S) {
  "use strict";

  var MIN_DELAY = 500;
  var MAX_DELAY = 15000;
  var UNAUTHORIZED = 4401;

  function Live(baseUrl, token) {
    this.url = baseUrl.replace(/^http/, "ws") + "/api/v1/changes/ws";
    this.token = token;
    this.handlers = [];
    this.stateHandlers = [];
    this.state = "idle"; // idle | connecting | open | closed | unauthorized
    this.daemonVersion = null;
    this.socket = null;
    this.delay = MIN_DELAY;
    this.timer = null;
    this.everOpen = false;
    this.stopped = false;
  }

  Live.prototype.setState = function (state) {
    this.state = state;
    this.stateHandlers.slice().forEach(function (fn) { fn(state); });
  };

  Live.prototype.onState = function (fn) {
    var self = this;
    this.stateHandlers.push(fn);
    return function () { self.stateHandlers = self.stateHandlers.filter(function (f) { return f !== fn; }); };
  };

  // subscribe(["job"], fn): fn gets {type:"change", topic, action, data} or {type:"resync"}.
  Live.prototype.subscribe = function (topics, fn) {
    var self = this;
    var entry = { topics: topics, fn: fn };
    this.handlers.push(entry);
    if (this.state === "idle") this.connect();
    return function () { self.handlers = self.handlers.filter(function (e) { return e !== entry; }); };
  };

  Live.prototype.dispatch = function (message) {
    this.handlers.slice().forEach(function (entry) {
      if (message.type === "resync" || entry.topics.indexOf(message.topic) >= 0) {
        try { entry.fn(message); } catch (e) { console.warn("Stash Sense live handler failed", e); }
      }
    });
  };

  Live.prototype.connect = function () {
    var self = this;
    if (this.stopped) return;
    this.setState("connecting");
    var socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "auth", token: self.token }));
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "ready") {
        self.daemonVersion = message.version;
        self.delay = MIN_DELAY;
        var reconnected = self.everOpen;
        self.everOpen = true;
        self.setState("open");
        // Changes may have happened while we were away: everyone refetches.
        if (reconnected) self.dispatch({ type: "resync" });
      } else if (message.type === "change" || message.type === "resync") {
        self.dispatch(message);
      }
    };
    socket.onclose = function (event) {
      self.socket = null;
      if (self.stopped) return;
      if (event.code === UNAUTHORIZED) {
        self.setState("unauthorized");
        return;
      }
      self.setState("closed");
      self.timer = setTimeout(function () { self.connect(); }, self.delay);
      self.delay = Math.min(self.delay * 2, MAX_DELAY);
    };
  };

  Live.prototype.close = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.setState("idle");
  };

  S.core.Live = Live;
})(window.StashSense);

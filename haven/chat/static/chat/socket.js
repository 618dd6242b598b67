/* A WebSocket that reconnects by itself, with a growing pause between tries.
 * Shared by the visitor page and the console. No dependencies. */
(function () {
  "use strict";

  function HavenSocket(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
  }

  HavenSocket.prototype.url = function () {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + this.path;
  };

  HavenSocket.prototype.open = function () {
    var self = this;
    if (self.stopped) return;
    var ws = new WebSocket(self.url());
    self.ws = ws;
    ws.onopen = function () {
      self.attempt = 0;
      if (self.handlers.open) self.handlers.open();
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (self.handlers.frame) self.handlers.frame(frame);
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      if (self.handlers.close) self.handlers.close(event.code);
      if (self.stopped) return;
      // 4403: not allowed; retrying will not help.
      if (event.code === 4403) return;
      var pause = Math.min(8000, 500 * Math.pow(2, self.attempt));
      if (event.code === 4429) pause = 10000;
      self.attempt += 1;
      self.timer = window.setTimeout(function () { self.open(); }, pause);
    };
  };

  HavenSocket.prototype.isOpen = function () {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  };

  HavenSocket.prototype.send = function (frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  };

  HavenSocket.prototype.stop = function () {
    this.stopped = true;
    if (this.timer) window.clearTimeout(this.timer);
    if (this.ws) {
      try { this.ws.close(1000); } catch (e) { /* already closed */ }
    }
    this.ws = null;
  };

  /* A random id for a message, made in the browser (works without a secure context). */
  HavenSocket.newId = function () {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  };

  /* "%(name)s" placeholders, filled in as text. */
  HavenSocket.format = function (template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : "";
    });
  };

  // The clock time of ``iso``; in ``timeZone`` when given (staff pages: the helpline's own
  // zone, whatever the computer is set to), else in the browser's.
  HavenSocket.time = function (iso, language, timeZone) {
    var options = { hour: "2-digit", minute: "2-digit" };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Date(iso).toLocaleTimeString(language, options);
    } catch (e) {
      return "";
    }
  };

  window.HavenSocket = HavenSocket;
})();

/*!
 * socket.io.js: the flask-sio browser client (MIT licence).
 * The socket.io client API as documented for 2.x, speaking Engine.IO 4 and Socket.IO 5.
 */
/*
 * One file, no dependencies, no build step. Read it top to bottom:
 *
 *   1. small helpers: Emitter, URLs and queries, base64, binary detection, Backoff
 *   2. Engine.IO 4 packets and polling payloads
 *   3. transports: XHR long-polling and WebSocket
 *   4. EngineSocket: handshake, heartbeat, write buffer, upgrade from polling to websocket
 *   5. Socket.IO 5 packets: encoder (binary placeholders) and incremental decoder
 *   6. Manager: one Engine.IO connection, reconnection with backoff, namespaces multiplexed
 *   7. Socket: one namespace; emit/ack, buffering, volatile, compress
 *   8. io(): lookup with auto-discovery and a cache of Managers
 *
 * The specifications: github.com/socketio/engine.io-protocol (v4) and
 * github.com/socketio/socket.io-protocol (v5).
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.io = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // -- 1. helpers ------------------------------------------------------------------------

  var slice = Array.prototype.slice;

  function noop() {}

  /** The first argument that is neither undefined nor null. */
  function pick(value, fallback) {
    return value === undefined || value === null ? fallback : value;
  }

  /** Copy the own properties of each source onto target (Object.assign). */
  function extend(target) {
    for (var i = 1; i < arguments.length; i++) {
      var source = arguments[i];
      if (source) {
        for (var key in source) {
          if (Object.prototype.hasOwnProperty.call(source, key)) target[key] = source[key];
        }
      }
    }
    return target;
  }

  /**
   * Event emitter mixed into every class: on/addEventListener, once, off/removeListener/
   * removeAllListeners/removeEventListener, emit, listeners, hasListeners.
   */
  function Emitter() {}

  Emitter.prototype.on = function (event, fn) {
    var table = this._listeners || (this._listeners = Object.create(null));
    (table[event] || (table[event] = [])).push(fn);
    return this;
  };

  Emitter.prototype.once = function (event, fn) {
    var self = this;
    function once() {
      self.off(event, once);
      fn.apply(this, arguments);
    }
    once.listener = fn;
    return this.on(event, once);
  };

  Emitter.prototype.off = function (event, fn) {
    var table = this._listeners;
    if (!table) return this;
    if (arguments.length === 0) {
      this._listeners = Object.create(null);
    } else if (arguments.length === 1) {
      delete table[event];
    } else if (table[event]) {
      table[event] = table[event].filter(function (f) {
        return f !== fn && f.listener !== fn;
      });
      if (!table[event].length) delete table[event];
    }
    return this;
  };

  Emitter.prototype.emit = function (event) {
    var list = this._listeners && this._listeners[event];
    if (list) {
      var args = slice.call(arguments, 1);
      list = list.slice();
      for (var i = 0; i < list.length; i++) list[i].apply(this, args);
    }
    return this;
  };

  Emitter.prototype.listeners = function (event) {
    return ((this._listeners && this._listeners[event]) || []).slice();
  };

  Emitter.prototype.hasListeners = function (event) {
    return this.listeners(event).length > 0;
  };

  Emitter.prototype.addEventListener = Emitter.prototype.on;
  Emitter.prototype.removeListener = Emitter.prototype.off;
  Emitter.prototype.removeAllListeners = Emitter.prototype.off;
  Emitter.prototype.removeEventListener = Emitter.prototype.off;

  /** Make Child inherit from Parent (and so from Emitter). */
  function inherit(Child, Parent) {
    Child.prototype = Object.create(Parent.prototype);
    Child.prototype.constructor = Child;
  }

  /** Listen to event on emitter; returns the function that stops listening. */
  function listen(emitter, event, fn) {
    emitter.on(event, fn);
    return function () {
      emitter.off(event, fn);
    };
  }

  /** {a: 1, b: "x y"} → "a=1&b=x%20y" */
  function encodeQuery(obj) {
    var parts = [];
    for (var key in obj) {
      if (Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(obj[key]));
      }
    }
    return parts.join("&");
  }

  /** "a=1&b=x%20y" → {a: "1", b: "x y"} */
  function decodeQuery(str) {
    var obj = {};
    str.split("&").forEach(function (pair) {
      if (!pair) return;
      var at = pair.indexOf("=");
      var key = at < 0 ? pair : pair.slice(0, at);
      obj[decodeURIComponent(key)] = at < 0 ? "" : decodeURIComponent(pair.slice(at + 1));
    });
    return obj;
  }

  /**
   * Resolve what io() was given against the page's location: undefined → the page's
   * origin, "/chat" → that namespace on the page's origin, "//host/x", "host:3000",
   * "http://host:3000/chat?x=1" and "ws(s)://..." as expected.
   */
  function parseUrl(uri) {
    var loc = typeof location !== "undefined" ? location : null;
    var scheme = loc && /^https?:$/.test(loc.protocol) ? loc.protocol : "http:";
    if (uri === undefined || uri === null || uri === "") uri = loc ? loc.host : "";
    if (uri.charAt(0) === "/") {
      uri = uri.charAt(1) === "/" ? scheme + uri : scheme + "//" + (loc ? loc.host : "") + uri;
    } else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
      uri = scheme + "//" + uri;
    }
    var url = new URL(uri);
    var protocol = url.protocol.slice(0, -1).replace(/^ws/, "http");
    var secure = protocol === "https";
    var port = url.port || (secure ? "443" : "80");
    return {
      protocol: protocol,
      secure: secure,
      hostname: url.hostname,
      port: port,
      nsp: decodeURIComponent(url.pathname) || "/",
      query: url.search.slice(1),
      id: protocol + "://" + url.hostname + ":" + port,
      source: protocol + "://" + url.host,
    };
  }

  var hasBlob = typeof Blob === "function";
  var hasArrayBuffer = typeof ArrayBuffer === "function";

  /** ArrayBuffer, typed array, DataView, Blob or File. */
  function isBinary(obj) {
    return (
      (hasArrayBuffer && (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj))) ||
      (hasBlob && obj instanceof Blob)
    );
  }

  /** Whether a value sent with emit() holds binary anywhere (toJSON results included). */
  function hasBinary(obj) {
    if (!obj || typeof obj !== "object") return false;
    if (isBinary(obj)) return true;
    if (Array.isArray(obj)) return obj.some(hasBinary);
    if (typeof obj.toJSON === "function") {
      var json = obj.toJSON();
      return json !== obj && hasBinary(json);
    }
    for (var key in obj) {
      if (Object.prototype.hasOwnProperty.call(obj, key) && hasBinary(obj[key])) return true;
    }
    return false;
  }

  /** The bytes of an ArrayBuffer or view, handed to cb (Blobs are read asynchronously). */
  function readBytes(data, cb) {
    if (hasBlob && data instanceof Blob) {
      var reader = new FileReader();
      reader.onload = function () {
        cb(new Uint8Array(reader.result));
      };
      reader.readAsArrayBuffer(data);
    } else if (data instanceof ArrayBuffer) {
      cb(new Uint8Array(data));
    } else {
      cb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }

  function toBase64(bytes) {
    var chars = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      chars += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(chars);
  }

  function fromBase64(str) {
    var chars = atob(str);
    var bytes = new Uint8Array(chars.length);
    for (var i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
    return bytes.buffer;
  }

  /** Bytes a string takes in UTF-8 (to respect the server's maxPayload). */
  function utf8Length(str) {
    var length = 0;
    for (var i = 0; i < str.length; i++) {
      var code = str.charCodeAt(i);
      if (code < 0x80) length += 1;
      else if (code < 0x800) length += 2;
      else if (code >= 0xd800 && code < 0xdc00) {
        length += 4;
        i++;
      } else length += 3;
    }
    return length;
  }

  /**
   * Exponential backoff with jitter: attempt n (from 0) waits
   * min × 2^n, moved up or down by up to jitter × that, and capped at max.
   */
  function Backoff(min, max, jitter) {
    this.min = min;
    this.max = max;
    this.jitter = jitter;
    this.attempts = 0;
  }

  Backoff.prototype.duration = function () {
    var ms = this.min * Math.pow(2, this.attempts++);
    if (this.jitter > 0) {
      var deviation = Math.random() * this.jitter * ms;
      ms = Math.random() < 0.5 ? ms - deviation : ms + deviation;
    }
    return Math.floor(Math.max(0, Math.min(ms, this.max)));
  };

  Backoff.prototype.reset = function () {
    this.attempts = 0;
  };

  var idCounter = 0;

  /** A fresh cache-busting value for the "t" query parameter. */
  function timestamp() {
    return Date.now().toString(36) + "." + (idCounter++).toString(36);
  }

  // -- 2. Engine.IO packets --------------------------------------------------------------

  var PACKET_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
  var SEPARATOR = "\x1e"; // joins packets in a polling payload

  /**
   * Encode one Engine.IO packet for cb: a string, or (when binaryOk, i.e. on a websocket)
   * the binary data itself. Over polling, binary is "b" + base64.
   */
  function encodePacket(packet, binaryOk, cb) {
    var data = packet.data;
    if (isBinary(data)) {
      if (binaryOk) return cb(data);
      return readBytes(data, function (bytes) {
        cb("b" + toBase64(bytes));
      });
    }
    cb(PACKET_TYPES.indexOf(packet.type) + (data === undefined ? "" : String(data)));
  }

  /** One Engine.IO packet from a string or an ArrayBuffer (a binary websocket frame). */
  function decodePacket(data) {
    if (typeof data !== "string") return { type: "message", data: data };
    if (data.charAt(0) === "b") {
      try {
        return { type: "message", data: fromBase64(data.slice(1)) };
      } catch (e) {
        return { type: "error", data: "bad base64" };
      }
    }
    var type = PACKET_TYPES[data.charAt(0)];
    if (!type) return { type: "error", data: "unknown packet type" };
    return data.length > 1 ? { type: type, data: data.slice(1) } : { type: type };
  }

  /** Encode packets into one polling payload (asynchronous only when a Blob is sent). */
  function encodePayload(packets, cb) {
    var out = new Array(packets.length);
    var left = packets.length;
    packets.forEach(function (packet, i) {
      encodePacket(packet, false, function (encoded) {
        out[i] = encoded;
        if (--left === 0) cb(out.join(SEPARATOR));
      });
    });
  }

  function decodePayload(body) {
    return body.split(SEPARATOR).map(decodePacket);
  }

  /** Bytes a packet takes in a polling payload. */
  function encodedSize(packet) {
    var data = packet.data;
    if (isBinary(data)) {
      var length = hasBlob && data instanceof Blob ? data.size : data.byteLength;
      return 1 + 4 * Math.ceil(length / 3);
    }
    return 1 + (typeof data === "string" ? utf8Length(data) : 0);
  }

  // -- 3. transports ---------------------------------------------------------------------

  /**
   * What polling and websocket share. States: "" → opening → open (→ pausing → paused,
   * polling only) → closed. Events: open, packet, drain, error, close.
   */
  function Transport(opts) {
    this.opts = opts;
    this.query = opts.query;
    this.readyState = "";
    this.writable = false;
  }

  inherit(Transport, Emitter);

  Transport.prototype.open = function () {
    this.readyState = "opening";
    this.doOpen();
    return this;
  };

  Transport.prototype.close = function () {
    if (this.readyState !== "" && this.readyState !== "closed") {
      this.doClose();
      this.onClose("forced close");
    }
    return this;
  };

  Transport.prototype.send = function (packets) {
    if (this.readyState !== "closed") this.write(packets);
  };

  Transport.prototype.onOpen = function () {
    this.readyState = "open";
    this.writable = true;
    this.emit("open");
  };

  Transport.prototype.onPacket = function (packet) {
    if (packet.type === "close") return this.onClose("transport close");
    this.emit("packet", packet);
  };

  Transport.prototype.onError = function (message, detail) {
    var err = new Error(message);
    err.type = "TransportError";
    err.description = detail;
    this.emit("error", err);
  };

  Transport.prototype.onClose = function (reason) {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.writable = false;
    this.emit("close", reason);
  };

  /** This transport's URL, with the query and a fresh timestamp. */
  Transport.prototype.uri = function (scheme) {
    var opts = this.opts;
    var query = extend({}, this.query);
    if (opts.timestampRequests !== false) query[opts.timestampParam || "t"] = timestamp();
    var defaultPort = opts.secure ? "443" : "80";
    var host = opts.hostname + (String(opts.port) === defaultPort ? "" : ":" + opts.port);
    return scheme + "://" + host + opts.path + "?" + encodeQuery(query);
  };

  /** XHR long-polling: one pending GET receives, one POST at a time sends. */
  function Polling(opts) {
    Transport.call(this, opts);
    this.name = "polling";
    this.polling = false; // a GET is in flight
    this.requests = [];
  }

  inherit(Polling, Transport);

  Polling.prototype.doOpen = function () {
    this.poll();
  };

  Polling.prototype.poll = function () {
    var self = this;
    this.polling = true;
    this.request("GET", null, function (err, body) {
      if (err) return self.onError("xhr poll error", err);
      self.onData(body);
    });
    this.emit("poll");
  };

  Polling.prototype.onData = function (body) {
    var packets = decodePayload(body);
    for (var i = 0; i < packets.length; i++) {
      if (this.readyState === "closed") return;
      if (this.readyState === "opening" && packets[i].type === "open") this.onOpen();
      this.onPacket(packets[i]);
    }
    if (this.readyState === "closed") return;
    this.polling = false;
    this.emit("pollComplete");
    if (this.readyState === "open") this.poll();
  };

  Polling.prototype.write = function (packets) {
    var self = this;
    this.writable = false;
    encodePayload(packets, function (body) {
      if (self.readyState === "closed") return; // closed while a Blob was read
      self.request("POST", body, function (err) {
        if (err) return self.onError("xhr post error", err);
        self.writable = true;
        self.emit("drain");
      });
    });
  };

  /** Stop polling after the GET in flight (the first step of an upgrade). */
  Polling.prototype.pause = function () {
    if (this.readyState === "open") this.readyState = "pausing";
  };

  /** Poll again after a failed upgrade. */
  Polling.prototype.resume = function () {
    if (this.readyState !== "pausing" && this.readyState !== "paused") return;
    this.readyState = "open";
    if (!this.polling) this.poll();
  };

  /** Call cb once no GET and no POST is in flight (the transport is paused). */
  Polling.prototype.whenIdle = function (cb) {
    var self = this;
    function check() {
      if (self.polling || !self.writable) return;
      self.off("pollComplete", check);
      self.off("drain", check);
      self.readyState = "paused";
      cb();
    }
    this.on("pollComplete", check);
    this.on("drain", check);
    check();
  };

  Polling.prototype.doClose = function () {
    var self = this;
    if (this.readyState === "open" || this.readyState === "pausing") {
      this.write([{ type: "close" }]);
    }
    this.requests.forEach(function (xhr) {
      if (xhr.method === "GET") self.abort(xhr);
    });
  };

  Polling.prototype.request = function (method, body, cb) {
    var self = this;
    var xhr = new XMLHttpRequest();
    xhr.method = method;
    xhr.open(method, this.uri(this.opts.secure ? "https" : "http"), true);
    xhr.withCredentials = !!this.opts.withCredentials;
    var headers = this.opts.extraHeaders || {};
    for (var name in headers) {
      if (Object.prototype.hasOwnProperty.call(headers, name)) {
        xhr.setRequestHeader(name, headers[name]);
      }
    }
    if (method === "POST") xhr.setRequestHeader("Content-Type", "text/plain;charset=UTF-8");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      self.requests.splice(self.requests.indexOf(xhr), 1);
      if (xhr.status === 200) cb(null, xhr.responseText);
      else cb({ status: xhr.status, body: xhr.responseText });
    };
    this.requests.push(xhr);
    xhr.send(body);
  };

  Polling.prototype.abort = function (xhr) {
    xhr.onreadystatechange = noop;
    this.requests.splice(this.requests.indexOf(xhr), 1);
    try {
      xhr.abort();
    } catch (e) {
      // already done
    }
  };

  /** WebSocket: one Engine.IO packet per frame; binary frames are the raw bytes. */
  function WS(opts) {
    Transport.call(this, opts);
    this.name = "websocket";
  }

  inherit(WS, Transport);

  WS.prototype.doOpen = function () {
    var self = this;
    var ws;
    try {
      ws = this.ws = new WebSocket(this.uri(this.opts.secure ? "wss" : "ws"));
    } catch (err) {
      var transport = this;
      return setTimeout(function () {
        transport.onError("websocket error", err);
      }, 0);
    }
    ws.binaryType = "arraybuffer";
    ws.onopen = function () {
      self.onOpen();
    };
    ws.onmessage = function (event) {
      self.onPacket(decodePacket(event.data));
    };
    ws.onerror = function (event) {
      self.onError("websocket error", event);
    };
    ws.onclose = function (event) {
      self.onClose("transport close", event);
    };
  };

  WS.prototype.write = function (packets) {
    var self = this;
    var ws = this.ws;
    this.writable = false;
    packets.forEach(function (packet) {
      encodePacket(packet, true, function (data) {
        try {
          ws.send(data);
        } catch (e) {
          // the close event follows
        }
      });
    });
    setTimeout(function () {
      if (self.readyState === "closed") return;
      self.writable = true;
      self.emit("drain");
    }, 0);
  };

  WS.prototype.doClose = function () {
    if (this.ws) {
      this.ws.onclose = this.ws.onerror = this.ws.onmessage = noop;
      this.ws.close();
      this.ws = null;
    }
  };

  var TRANSPORTS = { polling: Polling, websocket: WS };

  // -- 4. EngineSocket -------------------------------------------------------------------

  /**
   * One Engine.IO connection. States: opening → open → closing → closed. Events: open,
   * handshake, packet, data, ping, pong, drain, flush, upgrading, upgrade, upgradeError,
   * error, close(reason).
   */
  function EngineSocket(opts) {
    this.opts = opts;
    this.transports = (opts.transports || ["polling", "websocket"]).filter(function (name) {
      return TRANSPORTS[name];
    });
    this.readyState = "";
    this.writeBuffer = [];
    this.prevBufferLen = 0;
    this.upgrading = false;
    this.id = null;
    this.transportSubs = [];
    this.open();
  }

  inherit(EngineSocket, Emitter);

  EngineSocket.prototype.createTransport = function (name) {
    var query = extend({}, this.opts.query, { EIO: 4, transport: name });
    if (this.id) query.sid = this.id;
    return new TRANSPORTS[name](extend({}, this.opts, { query: query }));
  };

  EngineSocket.prototype.open = function () {
    var self = this;
    this.readyState = "opening";
    if (!this.transports.length) {
      return setTimeout(function () {
        self.emit("error", new Error("No transports available"));
      }, 0);
    }
    var transport = this.createTransport(this.transports[0]);
    this.setTransport(transport);
    transport.open();
  };

  EngineSocket.prototype.setTransport = function (transport) {
    var self = this;
    this.transportSubs.forEach(function (unsubscribe) {
      unsubscribe();
    });
    this.transport = transport;
    this.transportSubs = [
      listen(transport, "drain", function () {
        self.onDrain();
      }),
      listen(transport, "packet", function (packet) {
        self.onPacket(packet);
      }),
      listen(transport, "error", function (err) {
        self.onError(err);
      }),
      listen(transport, "close", function (reason) {
        self.onClose(reason || "transport close");
      }),
    ];
  };

  EngineSocket.prototype.onPacket = function (packet) {
    if (this.readyState === "closed") return;
    this.emit("packet", packet);
    switch (packet.type) {
      case "open":
        var handshake;
        try {
          handshake = JSON.parse(packet.data);
        } catch (e) {
          return this.onError(new Error("bad handshake"));
        }
        this.onHandshake(handshake);
        break;
      case "ping":
        this.resetPingTimeout();
        this.emit("ping");
        this.sendPacket("pong");
        this.emit("pong");
        break;
      case "message":
        this.emit("data", packet.data);
        this.emit("message", packet.data);
        break;
      case "error":
        this.onError(new Error("parse error: " + packet.data));
        break;
    }
  };

  EngineSocket.prototype.onHandshake = function (data) {
    var self = this;
    this.emit("handshake", data);
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.upgrades = (data.upgrades || []).filter(function (name) {
      return self.transports.indexOf(name) >= 0;
    });
    this.pingInterval = data.pingInterval;
    this.pingTimeout = data.pingTimeout;
    this.maxPayload = data.maxPayload;
    this.readyState = "open";
    this.emit("open");
    if (this.readyState !== "open") return;
    this.resetPingTimeout();
    this.flush();
    if (this.opts.upgrade !== false && this.transport.name === "polling") {
      this.upgrades.forEach(function (name) {
        self.probe(name);
      });
    }
  };

  /** Close with "ping timeout" unless the server pings within pingInterval + pingTimeout. */
  EngineSocket.prototype.resetPingTimeout = function () {
    var self = this;
    var delay = this.pingInterval + this.pingTimeout;
    clearTimeout(this.pingTimer);
    if (!(delay > 0)) return; // a server that did not say: no detection
    this.pingTimer = setTimeout(function () {
      self.onClose("ping timeout");
    }, delay);
  };

  /**
   * Upgrade to another transport: open it with our sid, send "2probe" and stop polling
   * after the GET in flight (the server ends it with a noop). On "3probe", hold our
   * writes until no request is in flight, then send "5" and switch.
   */
  EngineSocket.prototype.probe = function (name) {
    var self = this;
    var transport = this.createTransport(name);
    var failed = false;
    var polling = this.transport;

    function cleanup() {
      transport.off("open", onOpen);
      transport.off("packet", onPacket);
      transport.off("error", onFail);
      transport.off("close", onFail);
      self.off("close", onEngineClose);
    }
    function onFail(err) {
      if (failed) return;
      failed = true;
      cleanup();
      transport.close();
      self.upgrading = false;
      if (self.transport === polling && self.readyState === "open") {
        polling.resume();
        self.flush();
      }
      var error = new Error("probe error: " + (err && err.message ? err.message : err));
      error.transport = name;
      self.emit("upgradeError", error);
    }
    function onOpen() {
      if (failed) return;
      transport.send([{ type: "ping", data: "probe" }]);
      polling.pause();
    }
    function onPacket(packet) {
      if (failed) return;
      if (packet.type !== "pong" || packet.data !== "probe") return onFail("unexpected packet");
      self.upgrading = true;
      self.emit("upgrading", transport);
      polling.whenIdle(function () {
        if (failed || self.readyState === "closed") return;
        cleanup();
        self.setTransport(transport);
        polling.readyState = "closed";
        transport.send([{ type: "upgrade" }]);
        self.emit("upgrade", transport);
        self.upgrading = false;
        self.flush();
      });
    }
    function onEngineClose() {
      onFail("socket closed");
    }

    transport.once("open", onOpen);
    transport.on("packet", onPacket);
    transport.once("error", onFail);
    transport.once("close", onFail);
    this.once("close", onEngineClose);
    transport.open();
  };

  EngineSocket.prototype.onDrain = function () {
    this.writeBuffer.splice(0, this.prevBufferLen);
    this.prevBufferLen = 0;
    if (this.writeBuffer.length) this.flush();
    else this.emit("drain");
  };

  EngineSocket.prototype.flush = function () {
    if (
      this.readyState !== "closed" &&
      this.transport.writable &&
      !this.upgrading &&
      this.writeBuffer.length
    ) {
      var packets = this.writablePackets();
      this.prevBufferLen = packets.length;
      this.transport.send(packets);
      this.emit("flush");
    }
  };

  /** As many buffered packets as one polling payload may hold (at least one). */
  EngineSocket.prototype.writablePackets = function () {
    if (this.transport.name !== "polling" || !this.maxPayload) return this.writeBuffer.slice();
    var size = 0;
    for (var i = 0; i < this.writeBuffer.length; i++) {
      size += encodedSize(this.writeBuffer[i]) + (i ? 1 : 0);
      if (i > 0 && size > this.maxPayload) return this.writeBuffer.slice(0, i);
    }
    return this.writeBuffer.slice();
  };

  /** Send a message packet (string or binary); fn runs once it is flushed. */
  EngineSocket.prototype.write = EngineSocket.prototype.send = function (data, options, fn) {
    this.sendPacket("message", data, options, fn);
    return this;
  };

  EngineSocket.prototype.sendPacket = function (type, data, options, fn) {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    this.writeBuffer.push({ type: type, data: data, options: options || {} });
    if (fn) this.once("flush", fn);
    this.flush();
  };

  /** Close once the write buffer is out (and any upgrade finished). */
  EngineSocket.prototype.close = function () {
    var self = this;
    function close() {
      self.onClose("forced close");
    }
    function afterUpgrade() {
      self.off("upgrade", afterUpgrade);
      self.off("upgradeError", afterUpgrade);
      close();
    }
    if (this.readyState === "opening" || this.readyState === "open") {
      this.readyState = "closing";
      if (this.writeBuffer.length) {
        this.once("drain", function () {
          if (self.upgrading) {
            self.on("upgrade", afterUpgrade);
            self.on("upgradeError", afterUpgrade);
          } else close();
        });
      } else if (this.upgrading) {
        this.on("upgrade", afterUpgrade);
        this.on("upgradeError", afterUpgrade);
      } else close();
    }
    return this;
  };

  EngineSocket.prototype.onError = function (err) {
    if (this.readyState === "closed") return;
    this.emit("error", err);
    this.onClose("transport error", err);
  };

  EngineSocket.prototype.onClose = function (reason, detail) {
    if (this.readyState === "closed" || this.readyState === "") return;
    clearTimeout(this.pingTimer);
    this.transportSubs.forEach(function (unsubscribe) {
      unsubscribe();
    });
    this.transportSubs = [];
    this.transport.close();
    this.readyState = "closed";
    this.id = null;
    this.writeBuffer = [];
    this.prevBufferLen = 0;
    this.emit("close", reason, detail);
  };

  // -- 5. Socket.IO packets --------------------------------------------------------------

  var CONNECT = 0;
  var DISCONNECT = 1;
  var EVENT = 2;
  var ACK = 3;
  var CONNECT_ERROR = 4;
  var BINARY_EVENT = 5;
  var BINARY_ACK = 6;

  /** Replace each binary value by {_placeholder: true, num: i}, collecting it in buffers. */
  function extractBinary(value, buffers) {
    if (!value || typeof value !== "object") return value;
    if (isBinary(value)) {
      buffers.push(value);
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (Array.isArray(value)) {
      return value.map(function (item) {
        return extractBinary(item, buffers);
      });
    }
    if (typeof value.toJSON === "function") {
      var json = value.toJSON();
      return json === value ? json : extractBinary(json, buffers);
    }
    var out = {};
    for (var key in value) {
      if (Object.prototype.hasOwnProperty.call(value, key)) {
        out[key] = extractBinary(value[key], buffers);
      }
    }
    return out;
  }

  /** The inverse of extractBinary, for a packet whose attachments all arrived. */
  function insertBinary(value, buffers) {
    if (!value || typeof value !== "object") return value;
    if (value._placeholder === true) {
      if (typeof value.num !== "number" || !(value.num in buffers)) {
        throw new Error("illegal attachment");
      }
      return buffers[value.num];
    }
    if (Array.isArray(value)) {
      for (var i = 0; i < value.length; i++) value[i] = insertBinary(value[i], buffers);
    } else {
      for (var key in value) {
        if (Object.prototype.hasOwnProperty.call(value, key)) {
          value[key] = insertBinary(value[key], buffers);
        }
      }
    }
    return value;
  }

  /**
   * A packet {type, nsp, id?, data?} as Engine.IO messages: the text
   * <type>[<attachments>-][<nsp>,][<id>][<json>], then each attachment.
   */
  function encodeSio(packet) {
    var type = packet.type;
    var data = packet.data;
    var buffers = [];
    if ((type === EVENT || type === ACK) && hasBinary(data)) {
      data = extractBinary(data, buffers);
      type = type === EVENT ? BINARY_EVENT : BINARY_ACK;
    }
    var text = String(type);
    if (buffers.length) text += buffers.length + "-";
    if (packet.nsp && packet.nsp !== "/") text += packet.nsp + ",";
    if (packet.id !== undefined) text += packet.id;
    if (data !== undefined) text += JSON.stringify(data);
    return [text].concat(buffers);
  }

  /** Parse the text part of a packet; throws on anything the spec does not allow. */
  function decodeSio(text) {
    var match = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),?)?(\d*)([\s\S]*)$/.exec(text);
    if (!match) throw new Error("invalid packet");
    var packet = { type: Number(match[1]), nsp: match[3] || "/" };
    var binary = packet.type === BINARY_EVENT || packet.type === BINARY_ACK;
    if (binary !== (match[2] !== undefined)) throw new Error("invalid attachments");
    packet.attachments = binary ? Number(match[2]) : 0;
    if (match[4]) packet.id = Number(match[4]);
    if (match[5]) packet.data = JSON.parse(match[5]);
    if (!payloadValid(packet)) throw new Error("invalid payload");
    return packet;
  }

  function payloadValid(packet) {
    var data = packet.data;
    switch (packet.type) {
      case CONNECT:
        return data === undefined || (typeof data === "object" && data !== null);
      case DISCONNECT:
        return data === undefined;
      case CONNECT_ERROR:
        return typeof data === "string" || (typeof data === "object" && data !== null);
      case EVENT:
      case BINARY_EVENT:
        return Array.isArray(data) && data.length > 0;
      default:
        return Array.isArray(data) && packet.id !== undefined;
    }
  }

  /**
   * Incremental decoder: add() Engine.IO message data (strings and ArrayBuffers) and get
   * "decoded" events, binary packets once their last attachment arrived.
   */
  function Decoder() {
    this.pending = null;
  }

  inherit(Decoder, Emitter);

  Decoder.prototype.add = function (data) {
    var packet;
    if (typeof data === "string") {
      if (this.pending) throw new Error("text while waiting for an attachment");
      packet = decodeSio(data);
      if (packet.attachments) {
        this.pending = { packet: packet, buffers: [] };
        return;
      }
    } else {
      if (!this.pending) throw new Error("unexpected binary data");
      var pending = this.pending;
      pending.buffers.push(data);
      if (pending.buffers.length < pending.packet.attachments) return;
      this.pending = null;
      packet = pending.packet;
      packet.data = insertBinary(packet.data, pending.buffers);
    }
    if (packet.type === BINARY_EVENT) packet.type = EVENT;
    if (packet.type === BINARY_ACK) packet.type = ACK;
    this.emit("decoded", packet);
  };

  Decoder.prototype.reset = function () {
    this.pending = null;
  };

  // -- 6. Manager ------------------------------------------------------------------------

  /**
   * One Engine.IO connection to a server, shared by the sockets of its namespaces, and
   * reopened with exponential backoff when it drops.
   *
   * @param {string} [uri] the server ("http://host:port"; default: the page's origin)
   * @param {object} [opts] path, reconnection, reconnectionAttempts, reconnectionDelay,
   *   reconnectionDelayMax, randomizationFactor, timeout, autoConnect, transports, query,
   *   auth, upgrade, withCredentials, extraHeaders, timestampRequests, timestampParam
   */
  function Manager(uri, opts) {
    if (!(this instanceof Manager)) return new Manager(uri, opts);
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = opts || {};
    this.uri = uri;
    this.opts = opts;
    this.target = parseUrl(uri);
    this.nsps = {};
    this.subs = [];
    this.backoff = new Backoff(1000, 5000, 0.5);
    this.reconnection(opts.reconnection !== false);
    this.reconnectionAttempts(pick(opts.reconnectionAttempts, Infinity));
    this.reconnectionDelay(pick(opts.reconnectionDelay, 1000));
    this.reconnectionDelayMax(pick(opts.reconnectionDelayMax, 5000));
    this.randomizationFactor(pick(opts.randomizationFactor, 0.5));
    this.timeout(pick(opts.timeout, 20000));
    this.readyState = "closed";
    this.reconnecting = false;
    this.skipReconnect = false;
    this.engine = null;
    this.decoder = new Decoder();
    this.autoConnect = opts.autoConnect !== false;
    if (this.autoConnect) this.open();
  }

  inherit(Manager, Emitter);

  /** A getter/setter in the 2.x style: f() reads, f(v) writes and returns the manager. */
  function option(name, apply) {
    return function (value) {
      if (!arguments.length) return this["_" + name];
      this["_" + name] = value;
      if (apply) apply.call(this, value);
      return this;
    };
  }

  Manager.prototype.reconnection = option("reconnection");
  Manager.prototype.reconnectionAttempts = option("reconnectionAttempts");
  Manager.prototype.reconnectionDelay = option("reconnectionDelay", function (value) {
    this.backoff.min = value;
  });
  Manager.prototype.reconnectionDelayMax = option("reconnectionDelayMax", function (value) {
    this.backoff.max = value;
  });
  Manager.prototype.randomizationFactor = option("randomizationFactor", function (value) {
    this.backoff.jitter = value;
  });
  Manager.prototype.timeout = option("timeout");

  /** Emit on the manager and on every socket of it (the 2.x forwarding of events). */
  Manager.prototype.emitAll = function () {
    this.emit.apply(this, arguments);
    for (var nsp in this.nsps) this.nsps[nsp].fire.apply(this.nsps[nsp], arguments);
  };

  Manager.prototype.engineOptions = function () {
    var opts = this.opts;
    var query = opts.query;
    if (typeof query === "string") query = decodeQuery(query);
    return extend({}, opts, {
      hostname: this.target.hostname,
      port: this.target.port,
      secure: this.target.secure,
      path: (opts.path || "/socket.io").replace(/\/$/, "") + "/",
      query: query || {},
    });
  };

  /** Open the connection; fn(err?) runs when it opened or failed. */
  Manager.prototype.open = Manager.prototype.connect = function (fn) {
    if (this.readyState === "open" || this.readyState === "opening") return this;
    var self = this;
    var engine = (this.engine = new EngineSocket(this.engineOptions()));
    this.readyState = "opening";
    this.skipReconnect = false;
    var stopOpen = listen(engine, "open", function () {
      self.onopen();
      if (fn) fn();
    });
    var stopError = listen(engine, "error", function (err) {
      self.cleanup();
      self.readyState = "closed";
      self.emitAll("connect_error", err);
      if (fn) {
        var error = new Error("Connection error");
        error.data = err;
        fn(error);
      } else {
        self.maybeReconnectOnOpen();
      }
    });
    this.subs.push(stopOpen, stopError);
    var timeout = this._timeout;
    if (timeout !== false && timeout !== Infinity) {
      var timer = setTimeout(function () {
        stopOpen();
        engine.close();
        engine.emit("error", new Error("timeout"));
        self.emitAll("connect_timeout", timeout);
      }, timeout);
      this.subs.push(function () {
        clearTimeout(timer);
      });
    }
    return this;
  };

  Manager.prototype.onopen = function () {
    var self = this;
    var engine = this.engine;
    this.cleanup();
    this.readyState = "open";
    this.emit("open");
    this.subs.push(
      listen(engine, "data", function (data) {
        self.ondata(data);
      }),
      listen(engine, "ping", function () {
        self.lastPing = Date.now();
        self.emitAll("ping");
      }),
      listen(engine, "pong", function () {
        self.emitAll("pong", Date.now() - self.lastPing);
      }),
      listen(engine, "error", function (err) {
        self.emitAll("error", err);
      }),
      listen(engine, "close", function (reason) {
        self.onclose(reason);
      }),
      listen(this.decoder, "decoded", function (packet) {
        self.emit("packet", packet);
      })
    );
  };

  Manager.prototype.ondata = function (data) {
    try {
      this.decoder.add(data);
    } catch (err) {
      var engine = this.engine;
      this.onclose("parse error");
      engine.close();
    }
  };

  /** Send a Socket.IO packet (called by sockets). */
  Manager.prototype.packet = function (packet) {
    var engine = this.engine;
    var options = packet.options;
    encodeSio(packet).forEach(function (data) {
      engine.write(data, options);
    });
  };

  /**
   * The socket for a namespace on this connection (the same one on each call).
   *
   * @param {string} nsp the namespace, e.g. "/chat"
   * @param {object} [opts] auth (object or function(cb))
   */
  Manager.prototype.socket = function (nsp, opts) {
    var socket = this.nsps[nsp];
    if (!socket) {
      socket = this.nsps[nsp] = new Socket(this, nsp, opts);
    } else if (this.autoConnect && !socket.active) {
      socket.open();
    }
    return socket;
  };

  /** Called by a socket that closed: the connection closes with its last socket. */
  Manager.prototype.destroySocket = function () {
    for (var nsp in this.nsps) {
      if (this.nsps[nsp].active) return;
    }
    this.close();
  };

  Manager.prototype.cleanup = function () {
    this.subs.forEach(function (unsubscribe) {
      unsubscribe();
    });
    this.subs = [];
    this.decoder.reset();
  };

  /** Close the connection and stop reconnecting. */
  Manager.prototype.close = Manager.prototype.disconnect = function () {
    this.skipReconnect = true;
    this.reconnecting = false;
    var engine = this.engine;
    this.onclose("forced close");
    if (engine) engine.close();
    return this;
  };

  Manager.prototype.onclose = function (reason) {
    this.cleanup();
    this.backoff.reset();
    var wasOpen = this.readyState !== "closed";
    this.readyState = "closed";
    if (wasOpen) this.emit("close", reason);
    if (this._reconnection && !this.skipReconnect) this.reconnect();
  };

  Manager.prototype.maybeReconnectOnOpen = function () {
    if (!this.reconnecting && this._reconnection && this.backoff.attempts === 0) {
      this.reconnect();
    }
  };

  Manager.prototype.reconnect = function () {
    if (this.reconnecting || this.skipReconnect) return this;
    var self = this;
    if (this.backoff.attempts >= this._reconnectionAttempts) {
      this.backoff.reset();
      this.emitAll("reconnect_failed");
      this.reconnecting = false;
      return this;
    }
    var delay = this.backoff.duration();
    this.reconnecting = true;
    var timer = setTimeout(function () {
      if (self.skipReconnect) return;
      var attempt = self.backoff.attempts;
      self.emitAll("reconnect_attempt", attempt);
      self.emitAll("reconnecting", attempt);
      if (self.skipReconnect) return;
      self.open(function (err) {
        if (err) {
          self.reconnecting = false;
          self.emitAll("reconnect_error", err.data);
          self.reconnect();
        } else {
          self.onreconnect();
        }
      });
    }, delay);
    this.subs.push(function () {
      clearTimeout(timer);
    });
    return this;
  };

  Manager.prototype.onreconnect = function () {
    var attempt = this.backoff.attempts;
    this.reconnecting = false;
    this.backoff.reset();
    this.emitAll("reconnect", attempt);
  };

  // -- 7. Socket -------------------------------------------------------------------------

  /** Events a socket fires itself; socket.emit(name) of one of them fires it locally. */
  var RESERVED = {
    connect: 1,
    connect_error: 1,
    connect_timeout: 1,
    connecting: 1,
    disconnect: 1,
    error: 1,
    reconnect: 1,
    reconnect_attempt: 1,
    reconnect_failed: 1,
    reconnect_error: 1,
    reconnecting: 1,
    ping: 1,
    pong: 1,
  };

  /**
   * A connection to one namespace over a Manager's connection.
   *
   * @param {Manager} io the manager
   * @param {string} nsp the namespace
   * @param {object} [opts] auth: an object sent with CONNECT, or function(cb) giving one
   */
  function Socket(io, nsp, opts) {
    this.io = io;
    this.nsp = nsp;
    this.id = undefined;
    this.ids = 0;
    this.acks = {};
    this.receiveBuffer = [];
    this.sendBuffer = [];
    this.connected = false;
    this.disconnected = true;
    this.flags = {};
    this.subs = null;
    this.auth = (opts && opts.auth) || io.opts.auth;
    // connection state recovery (socket.io 4.6+): whether the last connection got its
    // session back, the private session id the server gave and the last offset received
    this.recovered = false;
    this._pid = undefined;
    this._lastOffset = undefined;
    if (io.autoConnect) this.open();
  }

  inherit(Socket, Emitter);

  /** Fire an event on this socket's own listeners (never sent). */
  Socket.prototype.fire = Emitter.prototype.emit;

  Object.defineProperty(Socket.prototype, "active", {
    get: function () {
      return !!this.subs;
    },
  });

  /** socket.volatile.emit(...): dropped, not buffered, when it cannot be sent now. */
  Object.defineProperty(Socket.prototype, "volatile", {
    get: function () {
      this.flags.volatile = true;
      return this;
    },
  });

  Socket.prototype.subEvents = function () {
    if (this.subs) return;
    var self = this;
    var io = this.io;
    this.subs = [
      listen(io, "open", function () {
        self.onopen();
      }),
      listen(io, "packet", function (packet) {
        self.onpacket(packet);
      }),
      listen(io, "close", function (reason) {
        self.onclose(reason);
      }),
    ];
  };

  Socket.prototype.open = Socket.prototype.connect = function () {
    if (this.connected) return this;
    this.subEvents();
    if (!this.io.reconnecting) this.io.open();
    if (this.io.readyState === "open") this.onopen();
    this.fire("connecting");
    return this;
  };

  /** Send CONNECT with the auth payload (Socket.IO 5 connects every namespace, / too). */
  Socket.prototype.onopen = function () {
    var self = this;
    if (typeof this.auth === "function") {
      this.auth(function (data) {
        self.sendConnect(data);
      });
    } else {
      this.sendConnect(this.auth);
    }
  };

  /** The CONNECT packet; after a session with recovery on, it offers pid and offset. */
  Socket.prototype.sendConnect = function (auth) {
    var data = auth;
    if (this._pid) {
      data = { pid: this._pid };
      if (this._lastOffset !== undefined) data.offset = this._lastOffset;
      for (var key in auth) {
        if (Object.prototype.hasOwnProperty.call(auth, key)) data[key] = auth[key];
      }
    }
    this.packet({ type: CONNECT, data: data });
  };

  Socket.prototype.onpacket = function (packet) {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case CONNECT:
        if (packet.data && packet.data.sid) {
          this.onconnect(packet.data.sid, packet.data.pid);
        } else {
          this.fire("connect_error", new Error("CONNECT without a sid: not a Socket.IO 5 server"));
        }
        break;
      case EVENT:
        this.onevent(packet);
        break;
      case ACK:
        this.onack(packet);
        break;
      case DISCONNECT:
        this.destroy();
        this.onclose("io server disconnect");
        break;
      case CONNECT_ERROR:
        this.destroy();
        var data = packet.data;
        var err = new Error(typeof data === "string" ? data : data.message);
        err.data = data.data;
        this.fire("connect_error", err);
        break;
    }
  };

  Socket.prototype.onconnect = function (id, pid) {
    this.id = id;
    this.recovered = !!pid && this._pid === pid;
    this._pid = pid;
    this.connected = true;
    this.disconnected = false;
    this.emitBuffered();
    this.fire("connect");
  };

  Socket.prototype.emitBuffered = function () {
    var self = this;
    var received = this.receiveBuffer;
    var toSend = this.sendBuffer;
    this.receiveBuffer = [];
    this.sendBuffer = [];
    received.forEach(function (args) {
      self.emitEvent(args);
    });
    toSend.forEach(function (packet) {
      self.packet(packet);
    });
  };

  Socket.prototype.onevent = function (packet) {
    var args = packet.data.slice();
    if (packet.id !== undefined) args.push(this.ack(packet.id));
    if (this.connected) this.emitEvent(args);
    else this.receiveBuffer.push(args);
  };

  /** Run the listeners of an event; with recovery on, keep its offset (its last argument). */
  Socket.prototype.emitEvent = function (args) {
    this.fire.apply(this, args);
    var last = args[args.length - 1];
    if (this._pid && args.length > 1 && typeof last === "string") this._lastOffset = last;
  };

  /** The callback handed to a listener when the server asked for an ack. */
  Socket.prototype.ack = function (id) {
    var self = this;
    var sent = false;
    return function () {
      if (sent) return;
      sent = true;
      self.packet({ type: ACK, id: id, data: slice.call(arguments) });
    };
  };

  Socket.prototype.onack = function (packet) {
    var fn = this.acks[packet.id];
    if (typeof fn !== "function") return;
    delete this.acks[packet.id];
    fn.apply(this, packet.data);
  };

  Socket.prototype.onclose = function (reason) {
    var wasConnected = this.connected;
    this.connected = false;
    this.disconnected = true;
    this.id = undefined;
    if (wasConnected) this.fire("disconnect", reason);
  };

  /** Stop listening to the manager (which closes its connection after its last socket). */
  Socket.prototype.destroy = function () {
    if (!this.subs) return;
    this.subs.forEach(function (unsubscribe) {
      unsubscribe();
    });
    this.subs = null;
    this.io.destroySocket(this);
  };

  /**
   * Send an event; a function as the last argument is called with the server's ack.
   * Reserved names (connect, disconnect, ...) fire locally, as in the 2.x client.
   */
  Socket.prototype.emit = function (event) {
    if (Object.prototype.hasOwnProperty.call(RESERVED, event)) {
      this.fire.apply(this, arguments);
      return this;
    }
    var args = slice.call(arguments);
    var flags = this.flags;
    this.flags = {};
    var ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    var packet = { type: EVENT, data: args, options: { compress: flags.compress !== false } };
    var engine = this.io.engine;
    var writable = engine && engine.transport && engine.transport.writable;
    if (flags.volatile && !(writable && this.connected)) return this;
    if (ack) {
      this.acks[this.ids] = ack;
      packet.id = this.ids++;
    }
    if (this.connected) this.packet(packet);
    else this.sendBuffer.push(packet);
    return this;
  };

  /** emit("message", ...args). */
  Socket.prototype.send = function () {
    return this.emit.apply(this, ["message"].concat(slice.call(arguments)));
  };

  Socket.prototype.packet = function (packet) {
    packet.nsp = this.nsp;
    this.io.packet(packet);
  };

  /** Whether the next emit may be compressed (kept for the API; browsers decide). */
  Socket.prototype.compress = function (compress) {
    this.flags.compress = compress;
    return this;
  };

  /** Kept for the 2.x API: binary data is always detected. */
  Socket.prototype.binary = function () {
    return this;
  };

  /** Leave the namespace (DISCONNECT) and stop reconnecting it. */
  Socket.prototype.close = Socket.prototype.disconnect = function () {
    if (this.connected) this.packet({ type: DISCONNECT });
    this.destroy();
    this.onclose("io client disconnect");
    return this;
  };

  // -- 8. io() ---------------------------------------------------------------------------

  var managers = {};

  /**
   * io(url?, opts?): the socket for the namespace in url, on a connection shared with the
   * other namespaces of the same server unless opts.forceNew or opts.multiplex === false
   * (or this namespace is already open on it).
   */
  function lookup(uri, opts) {
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = opts || {};
    var parsed = parseUrl(uri);
    var id = parsed.id + (opts.path || "/socket.io");
    if (parsed.query && !opts.query) opts = extend({}, opts, { query: parsed.query });
    var cached = managers[id];
    var io;
    if (
      opts.forceNew ||
      opts["force new connection"] ||
      opts.multiplex === false ||
      (cached && cached.nsps[parsed.nsp])
    ) {
      io = new Manager(parsed.source, opts);
    } else {
      io = cached || (managers[id] = new Manager(parsed.source, opts));
    }
    return io.socket(parsed.nsp, opts);
  }

  lookup.connect = lookup;
  lookup.protocol = 5;
  lookup.Manager = Manager;
  lookup.Socket = Socket;
  lookup.managers = managers;
  lookup.Emitter = Emitter;
  return lookup;
});

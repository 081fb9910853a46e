// The client scenarios the browser tests run, against any server that implements the
// conformance contract (../shared/docs/conformance-app.md): ours or the reference socket.io@4.
// Loaded into the page after the bundle; tests call scenarios[name](...args) through
// page.evaluate and check the JSON-able result in Python. Every wait has a timeout.
/* global io */
(function () {
  "use strict";

  const WAIT = 5000;

  // io() for a namespace: on the page's origin (auto-discovery) unless window.BASE is set
  function connect(nsp, opts) {
    const base = window.BASE || "";
    return base ? io(base + nsp, opts) : io(nsp, opts);
  }

  function timeout(ms, what) {
    let timer;
    const promise = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("timed out after " + ms + " ms: " + what)), ms);
    });
    return { promise, cancel: () => clearTimeout(timer) };
  }

  // the arguments of the next `event` on `emitter`
  function wait(emitter, event, ms) {
    const limit = timeout(ms || WAIT, "waiting for " + event);
    return Promise.race([
      new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
      limit.promise,
    ]).finally(limit.cancel);
  }

  // every `event` on `emitter` from now on, taken in order with next()
  function inbox(emitter, event) {
    const items = [];
    const waiters = [];
    emitter.on(event, (...args) => {
      const waiter = waiters.shift();
      if (waiter) waiter(args);
      else items.push(args);
    });
    return {
      items,
      next(ms) {
        if (items.length) return Promise.resolve(items.shift());
        const limit = timeout(ms || WAIT, "waiting for " + event);
        let waiter;
        const got = new Promise((resolve) => {
          waiter = resolve;
          waiters.push(resolve);
        });
        return Promise.race([got, limit.promise]).finally(() => {
          limit.cancel();
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
        });
      },
    };
  }

  // emit with an ack; resolves with the ack's arguments
  function call(socket, ...args) {
    const limit = timeout(WAIT, "ack of " + args[0]);
    return Promise.race([
      new Promise((resolve) => socket.emit(...args, (...answer) => resolve(answer))),
      limit.promise,
    ]).finally(limit.cancel);
  }

  function connected(socket) {
    return socket.connected ? Promise.resolve() : wait(socket, "connect");
  }

  // whatever binary arrived, as {type, bytes}
  function describe(value) {
    if (value instanceof ArrayBuffer) {
      return { type: "ArrayBuffer", bytes: Array.from(new Uint8Array(value)) };
    }
    if (Array.isArray(value)) return value.map(describe);
    if (value && typeof value === "object") {
      const out = {};
      for (const key of Object.keys(value)) out[key] = describe(value[key]);
      return out;
    }
    return value;
  }

  function transportsUsed(socket) {
    const names = [socket.io.engine.transport.name];
    socket.io.engine.on("upgrade", (transport) => names.push(transport.name));
    return names;
  }

  async function upgraded(socket) {
    if (socket.io.engine.transport.name !== "websocket") await wait(socket.io.engine, "upgrade");
  }

  const scenarios = {
    // the global API itself
    api() {
      const manager = io.Manager("http://127.0.0.1:1", { autoConnect: false });
      const chained = manager
        .reconnection(false)
        .reconnectionAttempts(3)
        .reconnectionDelay(200)
        .reconnectionDelayMax(800)
        .randomizationFactor(0.25)
        .timeout(1234);
      return {
        connectIsIo: io.connect === io,
        protocol: io.protocol,
        manager: typeof io.Manager,
        socket: typeof io.Socket,
        newManager: new io.Manager("http://127.0.0.1:1", { autoConnect: false }) instanceof io.Manager,
        chained: chained === manager,
        values: [
          manager.reconnection(),
          manager.reconnectionAttempts(),
          manager.reconnectionDelay(),
          manager.reconnectionDelayMax(),
          manager.randomizationFactor(),
          manager.timeout(),
        ],
        defaults: (() => {
          const m = io.Manager("http://127.0.0.1:1", { autoConnect: false });
          return [m.reconnection(), m.reconnectionAttempts(), m.reconnectionDelay(),
            m.reconnectionDelayMax(), m.randomizationFactor(), m.timeout()];
        })(),
        engine: manager.engine !== null,
      };
    },

    // delays drawn by the backoff: attempt n waits delay × 2^n, ± the factor, capped
    backoff(delay, max, factor, attempt, samples) {
      const manager = io.Manager("http://127.0.0.1:1", {
        autoConnect: false, reconnectionDelay: delay, reconnectionDelayMax: max,
        randomizationFactor: factor,
      });
      const out = [];
      for (let i = 0; i < samples; i++) {
        manager.backoff.attempts = attempt;
        out.push(manager.backoff.duration());
      }
      return out;
    },

    // connect, events both ways, acks both ways, send/message, then a client disconnect
    async basics(transports) {
      const socket = connect("/", { transports, forceNew: true });
      const used = transportsUsed(socket);
      const welcome = wait(socket, "welcome");
      await connected(socket);
      const result = { id: socket.id, connected: socket.connected, disconnected: socket.disconnected };
      result.welcome = (await welcome)[0];
      const echo = wait(socket, "echo");
      socket.emit("echo", "a", 1, { b: [true, null] }, ["x", 2.5], "ünïcødé ✓ 😀");
      result.echo = await echo;
      result.ackEcho = await call(socket, "ack-echo", 1, "two", { three: 3 });
      const message = wait(socket, "message");
      socket.send("hi");
      result.message = await message;
      socket.on("question", (question, ack) => {
        result.question = question;
        ack(42);
      });
      const answer = wait(socket, "answer-was");
      socket.emit("ask-client");
      result.answer = await answer;
      result.clients = (await call(socket, "list-clients"))[0];
      if (transports.length > 1) await upgraded(socket);
      result.transports = used.slice();
      const gone = wait(socket, "disconnect");
      socket.disconnect();
      result.reason = (await gone)[0];
      result.after = { connected: socket.connected, disconnected: socket.disconnected, id: socket.id };
      return result;
    },

    // many emits right after connecting, across the upgrade: all arrive, in order
    async burst(transports, count) {
      const socket = connect("/", { transports, forceNew: true });
      const echoes = inbox(socket, "echo");
      const used = transportsUsed(socket);
      for (let i = 0; i < count; i++) socket.emit("echo", i);
      await connected(socket);
      for (let i = 0; i < count; i++) socket.emit("echo", count + i);
      const got = [];
      for (let i = 0; i < 2 * count; i++) got.push((await echoes.next())[0]);
      if (transports.length > 1) await upgraded(socket);
      socket.disconnect();
      return { got, transports: used.slice() };
    },

    // more than maxPayload (1 MB) emitted at once over polling: split over several POSTs
    async bigBurst(count, size) {
      const socket = connect("/", { transports: ["polling"], forceNew: true });
      await connected(socket);
      const echoes = inbox(socket, "echo");
      const filler = "x".repeat(size);
      for (let i = 0; i < count; i++) socket.emit("echo", i, filler);
      const got = [];
      for (let i = 0; i < count; i++) {
        const [n, text] = await echoes.next(15000);
        got.push([n, text === filler]);
      }
      const connectedAfter = socket.connected;
      socket.disconnect();
      return { got, connectedAfter };
    },

    // binary arguments both ways: ArrayBuffer, typed-array views (with an offset), Blob
    async binary(transports) {
      const socket = connect("/", { transports, forceNew: true });
      await connected(socket);
      const view = new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5);
      const args = [
        new Uint8Array([0, 1, 2, 253, 254, 255]).buffer,
        view,
        { nested: { blob: new Blob([new Uint8Array([7, 8])]), list: [new Int16Array([1, -1])] } },
        "text",
        new Uint8Array(70000).fill(5),
      ];
      const echo = wait(socket, "echo");
      socket.emit("echo", ...args);
      const echoed = (await echo).map(describe);
      echoed[4] = { type: echoed[4].type, length: echoed[4].bytes.length,
        all5: echoed[4].bytes.every((b) => b === 5) };
      const acked = (await call(socket, "ack-echo", new Uint8Array([4, 5, 6]), "x")).map(describe);
      socket.on("question", (question, ack) => ack(new Uint8Array([1, 0, 1]).buffer));
      const answer = wait(socket, "answer-was");
      socket.emit("ask-client");
      const answered = (await answer).map(describe);
      const transport = socket.io.engine.transport.name;
      socket.disconnect();
      return { echoed, acked, answered, transport };
    },

    // two namespaces over one connection; a second io() of "/" gets a connection of its own
    async namespaces() {
      const root = connect("/");
      const chat = connect("/chat", { auth: { token: "secret" } });
      await Promise.all([connected(root), connected(chat)]);
      const rootEchoes = inbox(root, "echo");
      const chatEchoes = inbox(chat, "echo");
      chat.emit("echo", "to chat");
      root.emit("echo", "to root");
      const result = {
        shared: root.io === chat.io,
        ids: [root.id, chat.id],
        chatEcho: (await chatEchoes.next())[0],
        rootEcho: (await rootEchoes.next())[0],
      };
      // nothing crossed: the next echo of each is its own marker
      chat.emit("echo", "chat marker");
      root.emit("echo", "root marker");
      result.markers = [(await chatEchoes.next())[0], (await rootEchoes.next())[0]];
      const again = connect("/");
      const separate = connect("/chat", { forceNew: true, auth: { token: "secret" } });
      const noMultiplex = connect("/chat", { multiplex: false, auth: { token: "secret" } });
      const byQuery = connect("/chat?token=secret", { forceNew: true });
      const byFunction = connect("/chat", {
        forceNew: true, auth: (cb) => setTimeout(() => cb({ token: "secret" }), 10),
      });
      await Promise.all([again, separate, noMultiplex, byQuery, byFunction].map(connected));
      result.againShared = again.io === root.io;
      result.forceNewShared = separate.io === chat.io;
      result.noMultiplexShared = noMultiplex.io === chat.io;
      result.byQuery = byQuery.connected;
      result.byFunction = byFunction.connected;
      [root, chat, again, separate, noMultiplex, byQuery, byFunction].forEach((s) => s.disconnect());
      result.closed = root.io.readyState;
      return result;
    },

    // a namespace middleware refuses: connect_error with the server's message
    async refused() {
      const bad = connect("/chat", { forceNew: true, auth: { token: "wrong" } });
      const [err] = await wait(bad, "connect_error");
      const result = {
        message: err.message,
        isError: err instanceof Error,
        connected: bad.connected,
        managerState: null,
      };
      // the refused socket was the connection's only one: the connection closes
      if (bad.io.readyState !== "closed") await wait(bad.io, "close");
      result.managerState = bad.io.readyState;
      // the same socket can try again with other credentials
      bad.auth = { token: "secret" };
      bad.connect();
      await connected(bad);
      result.retried = bad.connected;
      bad.disconnect();
      return result;
    },

    // rooms: join/leave acks, to-room, to-others-in-room, broadcast, private
    async rooms() {
      const [a, b, c] = [0, 1, 2].map(() => connect("/", { forceNew: true }));
      await Promise.all([a, b, c].map(connected));
      const roomMsgs = [a, b, c].map((s) => inbox(s, "room-msg"));
      const result = {};
      result.joinA = (await call(a, "join", "r1"))[0];
      result.idA = a.id;
      await call(b, "join", "r1");
      await call(c, "join", "r2");
      a.emit("to-room", "r1", "hello");
      result.hello = [(await roomMsgs[0].next())[0], (await roomMsgs[1].next())[0]];
      a.emit("to-others-in-room", "r1", "others");
      result.others = (await roomMsgs[1].next())[0];
      a.emit("to-room", "r1", "marker");
      result.markerA = (await roomMsgs[0].next())[0]; // "others" never reached a
      a.emit("to-room", "r2", "for c");
      result.firstOfC = (await roomMsgs[2].next())[0]; // nothing of r1 reached c
      const bcastB = wait(b, "bcast");
      const bcastC = wait(c, "bcast");
      const bcastA = inbox(a, "bcast");
      a.emit("broadcast", "everyone");
      result.bcast = [(await bcastB)[0], (await bcastC)[0]];
      const privateB = wait(b, "private");
      a.emit("private", b.id, "psst");
      result.private = (await privateB)[0];
      result.fromA = a.id;
      result.leaveB = (await call(b, "leave", "r1"))[0];
      result.idB = b.id;
      result.bcastToA = bcastA.items.length;
      [a, b, c].forEach((s) => s.disconnect());
      return result;
    },

    // the server disconnects the socket: no reconnection; connect() brings it back
    async serverDisconnect(transports) {
      const socket = connect("/", { transports, forceNew: true, reconnectionDelay: 50 });
      await connected(socket);
      const firstId = socket.id;
      const attempts = [];
      socket.on("reconnect_attempt", (n) => attempts.push(n));
      const gone = wait(socket, "disconnect");
      const acked = call(socket, "disconnect-me");
      const result = { acked: (await acked).length };
      result.reason = (await gone)[0];
      result.connected = socket.connected;
      result.managerState = socket.io.readyState;
      socket.connect();
      await connected(socket);
      result.reconnected = socket.connected;
      result.newId = socket.id !== firstId;
      result.attempts = attempts;
      // a client disconnect, as the server saw it
      const gone2 = wait(socket, "disconnect");
      socket.disconnect();
      result.clientReason = (await gone2)[0];
      const other = connect("/", { forceNew: true });
      await connected(other);
      // the client's DISCONNECT packet may still be on its way (a POST of its own), so
      // ask until the server reports something other than the forced disconnect
      const deadline = Date.now() + WAIT;
      do {
        result.serverSaw = (await call(other, "last-disconnect-reason"))[0];
      } while (result.serverSaw === "server namespace disconnect" && Date.now() < deadline);
      other.disconnect();
      return result;
    },

    // emits before connecting are buffered (volatile ones dropped); compress() chains
    async buffering() {
      const socket = connect("/", { forceNew: true, autoConnect: false });
      const echoes = inbox(socket, "echo");
      socket.emit("echo", "buffered 1");
      socket.volatile.emit("echo", "volatile: dropped");
      socket.compress(false).emit("echo", "buffered 2");
      const before = { connected: socket.connected, engine: socket.io.engine !== null };
      socket.open();
      await connected(socket);
      socket.emit("echo", "after");
      const got = [];
      for (let i = 0; i < 3; i++) got.push((await echoes.next())[0]);
      socket.disconnect();
      return { before, got };
    },

    // the server's pings arrive (Manager and Socket get ping/pong) and the link stays up
    async heartbeat(pings) {
      const socket = connect("/", { forceNew: true });
      await connected(socket);
      const managerPings = inbox(socket.io, "ping");
      const socketPongs = inbox(socket, "pong");
      const started = Date.now();
      for (let i = 0; i < pings; i++) await managerPings.next(6000);
      const latency = (await socketPongs.next())[0];
      const result = { elapsed: Date.now() - started, connected: socket.connected, latency };
      socket.disconnect();
      return result;
    },

    // the server goes away and comes back (driven from Python): the reconnect* events
    startRestart(transports) {
      const socket = connect("/", {
        transports, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 400,
      });
      const events = (window.restartEvents = []);
      const log = (name) => (...args) =>
        events.push([name, args.map((a) => (a instanceof Error ? "Error" : a))]);
      ["connect", "error", "disconnect", "reconnect_attempt", "reconnecting", "reconnect_error",
        "reconnect", "connect_error"].forEach((name) => socket.on(name, log(name)));
      const managerEvents = (window.restartManagerEvents = []);
      ["reconnect_attempt", "reconnect"].forEach((name) =>
        socket.io.on(name, (n) => managerEvents.push([name, n])));
      const ids = [];
      window.restartDone = new Promise((resolve, reject) => {
        const limit = setTimeout(() => reject(new Error("no reconnection in 30 s")), 30000);
        socket.on("connect", () => {
          ids.push(socket.id);
          if (ids.length === 1) {
            window.restartPhase = "connected";
            return;
          }
          clearTimeout(limit);
          const echo = wait(socket, "echo");
          echo.then((args) => {
            const seen = { events: events.slice(), managerEvents: managerEvents.slice() };
            socket.disconnect();
            resolve(Object.assign(seen, { ids, echo: args, buffered: window.restartBuffered }));
          }, reject);
        });
        socket.on("disconnect", () => {
          // emitted while disconnected: buffered, then sent after the reconnection
          socket.emit("echo", "sent while down");
          window.restartBuffered = true;
          window.restartPhase = "down";
        });
      });
      return true;
    },

    // Manager options that change the requests: query, upgrade: false, path
    async options(path) {
      const socket = connect("/", {
        forceNew: true, upgrade: false, query: { hello: "wörld" }, path,
      });
      await connected(socket);
      const echo = await call(socket, "ack-echo", "options");
      const transport = socket.io.engine.transport.name;
      socket.disconnect();
      return { echo, transport };
    },

    // Manager.open(cb) / connect(cb), listeners/off, volatile while connected,
    // send() with an ack, close() (against tests/js/bundle_server.py)
    async socketApi(url) {
      const result = {};
      // websocket only: a volatile packet is dropped while a polling POST is in flight
      const manager = new io.Manager(url, { autoConnect: false, transports: ["websocket"] });
      result.opened = await new Promise((resolve) =>
        manager.open((err) => resolve(err ? "error: " + err.message : "ok")));
      const socket = manager.socket("/");
      socket.open();
      await connected(socket);
      const seen = [];
      const handler = (value) => seen.push(value);
      socket.on("message", handler);
      result.listenersOn = socket.listeners("message").length;
      const first = wait(socket, "message");
      socket.volatile.send("volatile while connected");
      result.volatile = (await first)[0];
      socket.off("message", handler);
      result.listenersOff = socket.listeners("message").length;
      const second = wait(socket, "message");
      socket.send("after off");
      result.afterOff = (await second)[0];
      result.seen = seen;
      result.sendAck = await new Promise((resolve) => socket.send("with ack", resolve));
      socket.on("message", handler);
      socket.off("message");
      result.listenersAllOff = socket.listeners("message").length;
      const gone = wait(socket, "disconnect");
      socket.close();
      result.closeReason = (await gone)[0];
      result.closed = socket.disconnected;
      manager.engine.close();
      const bad = new io.Manager("http://127.0.0.1:1", { autoConnect: false, reconnection: false });
      result.failed = await new Promise((resolve) =>
        bad.connect((err) => resolve(err ? err.message : "no error")));
      return result;
    },

    // a polling request fails after the connection: error, then disconnect (transport error)
    async transportError(url) {
      const socket = io(url, { transports: ["polling"], reconnection: false });
      const events = [];
      ["connect", "error", "disconnect"].forEach((name) =>
        socket.on(name, (...args) =>
          events.push([name].concat(args.map((a) => (a instanceof Error ? "Error" : a))))));
      await wait(socket, "disconnect", 5000);
      return events;
    },

    // the server stops pinging: closed with "ping timeout" after pingInterval + pingTimeout
    async pingTimeout(url) {
      const socket = io(url, { transports: ["polling"], reconnection: false });
      await connected(socket);
      await wait(socket.io, "ping");
      const pingAt = Date.now();
      const [reason] = await wait(socket, "disconnect", 5000);
      return { reason, afterPing: Date.now() - pingAt, state: socket.io.readyState };
    },

    // the handshake never answers: connect_error("timeout") and connect_timeout(timeout)
    async connectTimeout(url, ms) {
      const started = Date.now();
      const socket = io(url, { transports: ["polling"], reconnection: false, timeout: ms });
      const events = [];
      socket.on("connect_error", (err) => events.push(["connect_error", err.message]));
      const [value] = await wait(socket, "connect_timeout");
      events.push(["connect_timeout", value]);
      return { events, elapsed: Date.now() - started, state: socket.io.readyState };
    },

    // every request fails: the waits between attempts follow the backoff, then give up
    async backoffTimes(url, delay, max, attempts) {
      const socket = io(url, {
        transports: ["polling"], reconnectionDelay: delay, reconnectionDelayMax: max,
        randomizationFactor: 0, reconnectionAttempts: attempts,
      });
      const marks = [];
      const mark = (name) => (n) => marks.push([name, n === undefined ? null : n, performance.now()]);
      socket.on("connect_error", mark("connect_error"));
      socket.on("reconnect_attempt", mark("reconnect_attempt"));
      socket.on("reconnect_error", mark("reconnect_error"));
      await wait(socket, "reconnect_failed", 10000);
      const waits = [];
      let lastError = null;
      for (const [name, , at] of marks) {
        if (name === "connect_error") lastError = at;
        if (name === "reconnect_attempt") waits.push(Math.round(at - lastError));
      }
      return { waits, attempts: marks.filter(([n]) => n === "reconnect_attempt").map(([, n]) => n) };
    },

    // examples/namespaces.py as its docstring shows it: two namespaces, one connection
    async namespacesExample() {
      const chat = io("/chat");
      const news = io("/news");
      const chatMessages = inbox(chat, "a message");
      const newsItems = inbox(news, "item");
      const got = {
        chat: [(await chatMessages.next())[0], (await chatMessages.next())[0]],
        news: [(await newsItems.next())[0]],
      };
      const shared = chat.io === news.io;
      chat.disconnect();
      news.disconnect();
      return { got, shared };
    },

    // withCredentials: the XHRs carry it (a server answering "*" is then refused by CORS)
    async credentials(url, withCredentials) {
      const socket = io(url, {
        forceNew: true, withCredentials, transports: ["polling"], reconnection: false,
      });
      const outcome = await Promise.race([
        wait(socket, "connect").then(() => "connect"),
        wait(socket, "connect_error").then(() => "connect_error"),
      ]);
      socket.disconnect();
      return outcome;
    },

    // cross-origin from an opaque page (about:blank) to an explicit URL
    async crossOrigin(url) {
      const socket = io(url, { forceNew: true });
      await connected(socket);
      const echo = await call(socket, "ack-echo", "cors");
      await upgraded(socket);
      const transport = socket.io.engine.transport.name;
      socket.disconnect();
      return { echo, transport };
    },
  };

  window.scenarios = scenarios;
  window.testHelpers = { wait, inbox, call, connected, describe, connect };
})();

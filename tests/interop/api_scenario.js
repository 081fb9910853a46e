// Scenarios of the server API (tests/interop/api_app.py) with an official client; the
// clients, waits, config and report come from sio_scenario.js (same usage and output).
// Every scenario reads what the server observed through `observed(kind, id)`, asked by a
// client that is still connected; the server waits for the record, so nothing here polls.
"use strict";
const lib = require("./sio_scenario.js");

const { cfg, GEN, TRANSPORTS, TAG, open, openAll, wrap, toJson } = lib;

// what the server recorded for socket `id` ("reason", "disconnecting", "error", "call")
const observed = (reader, kind, id) => reader.call("observed", kind, id).then(([v]) => v);

// a client whose handler for `event` answers with answer(...args) (or never, without it)
function answering(client, event, answer) {
  client.socket.on(event, (...args) => {
    const ack = args.pop();
    if (answer) ack(...answer(...args));
  });
  return client;
}

const s = lib.scenarios;

// volatile: delivered when the transport is writable, from a socket and to a room
s["api-volatile"] = async () => {
  const a = open();
  await a.connected();
  const room = `vol-${TAG}`;
  await a.call("join", room);
  a.emit("volatile", room);
  await a.nth("vol-done", 1);
  return { events: toJson(a.others()) };
};

// compress(False) (and True) change nothing a client can see: everything arrives
s["api-compress"] = async () => {
  const [a, b] = await openAll(2);
  const room = `compress-${TAG}`;
  await a.call("join", room);
  await b.call("join", room);
  a.emit("compress", room);
  await a.nth("compressed", 3);
  await b.nth("compressed", 2);
  await Promise.all([a.flush(), b.flush()]);
  return { a: a.args("compressed"), b: b.args("compressed") };
};

// local: socket.local (everyone but the sender) and io.local, both to a room
s["api-local"] = async () => {
  const [a, b, c] = await openAll(3);
  const room = `local-${TAG}`;
  await a.call("join", room);
  await b.call("join", room);
  await a.call("local", room);
  await Promise.all([a, b, c].map((x) => x.flush()));
  return {
    ids: [a.socket.id, b.socket.id],
    a: a.args("local-msg"), b: b.args("local-msg"), c: c.args("local-msg"),
  };
};

// except_: c is in the excluded room; the sender is excluded by socket.to and the list form
s["api-except"] = async () => {
  const [a, b, c] = await openAll(3);
  const [room, ex] = [`except-${TAG}`, `excluded-${TAG}`];
  await Promise.all([a, b, c].map((x) => x.call("join", room)));
  await c.call("join", ex);
  await a.call("except", room, ex);
  await Promise.all([a, b, c].map((x) => x.flush()));
  return { ex, a: a.args("except-msg"), b: b.args("except-msg"), c: c.args("except-msg") };
};

// dynamic namespaces: a regex, fn(name, auth) and fn(name, auth, next); refusals
s["api-dynamic"] = async () => {
  const names = {
    regex: `/dyn-${TAG}`, fn: `/fn-${TAG}`, next: `/next-${TAG}`,
    fn_refused: `/fn-${TAG}-refused`, next_refused: `/next-${TAG}-refused`,
    unknown: `/nope-${TAG}`,
  };
  const out = {};
  for (const [key, nsp] of Object.entries(names)) {
    const x = open({ nsp });
    if (key === "regex" || key === "fn" || key === "next") {
      await x.connected();
      const [welcome] = [await x.nth("dyn-welcome", 1)];
      out[key] = { welcome, echo: await x.call("ack-echo", key) };
    } else {
      await x.failure();
      out[key] = { errors: x.errors(), connected: x.socket.connected };
    }
  }
  return { names, out };
};

// Namespace.clients(): the plain return, the callback, a room; in a namespace of its own
s["api-clients"] = async () => {
  const nsp = `/dyn-clients-${TAG}`;
  const a = open({ nsp });
  const b = open({ nsp });
  await Promise.all([a.connected(), b.connected()]);
  await a.call("join", "members");
  const [answer] = await b.call("nsp-clients");
  return { ids: [a.socket.id, b.socket.id], nsp, answer };
};

// socket.handshake and socket.request, with a query, a header and (protocol 5) auth
s["api-handshake"] = async () => {
  const before = Date.now();
  const opts = {
    transports: TRANSPORTS, forceNew: true, reconnection: false, query: { q: "1" },
    extraHeaders: { "X-Api-Test": "yes" },
  };
  if (GEN === 4) opts.auth = { token: "t0k" };
  const socket = GEN === 2 ? lib.sio2(cfg.url, opts) : lib.sio4(cfg.url, opts);
  const a = wrap(socket, GEN, "handshake");
  await a.connected();
  const [hs] = await a.call("handshake");
  return { hs, before, after: Date.now(), port: Number(new URL(cfg.url).port) };
};

// disconnecting (rooms still joined) and error (a handler raised), then the reason
s["api-disconnecting"] = async () => {
  const [a, reader] = await openAll(2);
  const room = `leaving-${TAG}`;
  await a.call("join", room);
  a.emit("boom", "kaboom");
  // events still queued for their handlers when a DISCONNECT arrives are dropped (as
  // socket.io does): the error must have been seen before the client leaves
  const error = await observed(reader, "error", a.idWas);
  a.socket.disconnect();
  return {
    id: a.idWas, room, error,
    disconnecting: await observed(reader, "disconnecting", a.idWas),
    reason: await observed(reader, "reason", a.idWas),
  };
};

// call(): Disconnected as soon as the client leaves mid-call; AckTimeout when it is mute
s["api-call"] = async () => {
  const [a, mute, reader] = await openAll(3);
  a.socket.on("question", () => a.socket.disconnect());
  answering(mute, "question");
  a.emit("call-me", { timeout: 30 });
  mute.emit("call-me", { timeout: 0.5 });
  return {
    ids: [a.idWas, mute.idWas],
    left: await observed(reader, "call", a.idWas),
    mute: await observed(reader, "call", mute.idWas),
    a_questions: a.count("question"),
  };
};

// socket.call() returns the client's answer
s["api-ask"] = async () => {
  const a = answering(open(), "answer-me", (q) => [`${q} forty`, 2]);
  await a.connected();
  return { answer: await a.call("ask") };
};

// socket.timeout(t).emit(..., callback) with a client that never acks
s["api-ack-timeout"] = async () => {
  const a = answering(open(), "never-acked");
  await a.connected();
  const [result] = await a.call("ack-timeout", 0.5);
  return { result, asked: a.args("never-acked") };
};

// io.to(room).timeout(t).emit(..., callback): every answer, then a timeout with a mute member
s["api-broadcast-ack"] = async () => {
  const [a, b, mute, asker] = await openAll(4);
  const room = `votes-${TAG}`;
  for (const x of [a, b]) {
    answering(x, "poll", () => [x.socket.id]);
    await x.call("join", room);
  }
  const all = (await asker.call("broadcast-ack", room, 3))[0];
  answering(mute, "poll");
  await mute.call("join", room);
  const partial = (await asker.call("broadcast-ack", room, 0.5))[0];
  return { ids: [a.socket.id, b.socket.id], all, partial };
};

// server-side disconnect reasons, each read back by another client
const REASON_TRIGGERS = {
  // the client leaves the namespace
  "client namespace disconnect": (x) => x.socket.disconnect(),
  // socket.disconnect() and socket.disconnect(true)
  "server namespace disconnect": (x) => x.emit("disconnect-me", false),
  "server namespace disconnect (close)": (x) => x.emit("disconnect-me", true),
  // socket.conn.close()
  "forced close": (x) => x.emit("close-conn"),
  // the engine closes without a DISCONNECT packet
  "transport close": (x) => x.socket.io.engine.close(),
  // not a Socket.IO packet
  "parse error": (x) => x.socket.io.engine.write("garbage"),
  // over max_http_buffer_size (the app's is 100000)
  "transport error": (x) => x.emit("echo", "x".repeat(cfg.oversize || 200000)),
};

s["api-reasons"] = async () => {
  const reader = open();
  await reader.connected();
  const out = {};
  for (const [name, trigger] of Object.entries(REASON_TRIGGERS)) {
    const x = open({ label: name });
    await x.connected();
    const id = x.idWas;
    trigger(x);
    out[name] = { server: await observed(reader, "reason", id) };
    out[name].client = await x.disconnected().catch((err) => `no disconnect: ${err.message}`);
  }
  return out;
};

// server close while connected: the client's view (the server logs its own)
s["api-shutdown"] = async () => {
  const a = open();
  await a.connected();
  const id = a.idWas;
  a.emit("shutdown");
  return { id, client: await a.disconnected() };
};

lib.run();

// Runs named scenarios of the conformance app contract (conformance-app.md) with an official
// client and prints ONE JSON line (the last line of stdout) with what it observed.
//
// usage: node sio_scenario.js '<json config>'   or   node sio_scenario.js - < config.json
// config: {url, client: 2|4, transports: [...], timeout_ms, step_timeout_ms, force_base64,
//          scenario: "<name>"            -> {scenario, result} (exit 1 + {scenario, error} if it fails)
//          scenarios: ["<name>", ...]    -> {results: {name: result}, errors: {name: message}}
//          tag: "<suffix for room names>", ...scenario options (see each scenario)}
// Scenarios: welcome, echo, ack-echo, ask-client, rooms, to-room, broadcast, private, message,
// forbidden, chat, chat-wrong-token, namespaces-separate, ordered, fanout, max-buffer,
// lifecycle (list-clients, disconnect-me, last-disconnect-reason: wants a fresh server),
// heartbeat. Required as a module (api_scenario.js), it exports its clients and waits and runs
// nothing until run() is called. Every wait has a timeout (step_timeout_ms, 5000 by default).
// On the global timeout (timeout_ms) it prints {error: "timeout", scenario, results, errors} and
// exits 2. Binary values are reported as {"$bin": "<base64>"}; the same form in the config is
// sent as a Buffer. Client 2 (socket.io-client@2, EIO 3) passes namespace credentials as
// `query: {token}`, client 4 (socket.io-client@4, EIO 4) as `auth: {token}`. Each main
// connection is forceNew; scenario chat also checks io(url) + io(url + "/chat") sharing the
// cached Manager.
"use strict";
const sio2 = require("sio2");
const { io: sio4 } = require("sio4");

// the config comes as the first argument, or on stdin when that is "-" (for large configs)
const cfg = JSON.parse(process.argv[2] === "-" ? require("fs").readFileSync(0, "utf8")
  : process.argv[2]);
const GEN = cfg.client || 4;
const TRANSPORTS = cfg.transports || ["polling", "websocket"];
const STEP_MS = cfg.step_timeout_ms || 5000;
const TAG = cfg.tag || `${process.pid}`;
const results = {};
const errors = {};
let current = null;

const globalTimer = setTimeout(() => {
  console.log(JSON.stringify({ error: "timeout", scenario: current, results, errors }));
  process.exit(2);
}, cfg.timeout_ms || 30000);

// -- values ------------------------------------------------------------------------------
function toJson(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) {
    return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  if (typeof v === "function") return { $fn: true };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJson(x);
    return o;
  }
  return v === undefined ? null : v;
}

function fromJson(v) {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$bin") return Buffer.from(v.$bin, "base64");
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromJson(x);
    return o;
  }
  return v;
}

// -- waiting -----------------------------------------------------------------------------
const checks = new Set();
function poke() {
  for (const check of [...checks]) check();
}

// Resolves with pred()'s value once it is truthy (re-checked whenever a client records
// something); rejects after `ms`.
function until(pred, what, ms = STEP_MS) {
  return new Promise((resolve, reject) => {
    let timer = null;
    const check = () => {
      let value;
      try {
        value = pred();
      } catch (err) {
        checks.delete(check);
        clearTimeout(timer);
        reject(err);
        return;
      }
      if (value) {
        checks.delete(check);
        clearTimeout(timer);
        resolve(value);
      }
    };
    timer = setTimeout(() => {
      checks.delete(check);
      reject(new Error(`timeout (${ms} ms) waiting for ${what}`));
    }, ms);
    checks.add(check);
    check();
  });
}

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout (${ms} ms) waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// -- clients -----------------------------------------------------------------------------
let opened = []; // clients of the running scenario, closed when it ends
let labels = 0;

function credentials(gen, token) {
  if (token === undefined) return {};
  return gen === 2 ? { query: { token } } : { auth: { token } };
}

// Wraps a socket of either generation: records every event from the server and the
// lifecycle events (connect, disconnect, connect_error, error).
function wrap(socket, gen, label) {
  const c = { socket, gen, label, events: [], lifecycle: [], state: "connecting", flushes: 0 };
  const record = (name, args) => {
    c.events.push([name, ...args.filter((a) => typeof a !== "function")]);
    poke();
  };
  if (gen === 4) {
    socket.onAny((event, ...args) => record(event, args));
  } else {
    const onevent = socket.onevent;
    socket.onevent = function (packet) {
      const data = (packet.data || []).slice();
      record(data[0], data.slice(1));
      return onevent.call(this, packet);
    };
  }
  socket.on("connect", () => {
    c.idWas = socket.id; // socket.io-client 2 forgets socket.id on disconnect
    c.state = "connected";
    c.lifecycle.push(["connect"]);
    poke();
  });
  socket.on("disconnect", (reason) => {
    c.state = "disconnected";
    c.lifecycle.push(["disconnect", reason]);
    poke();
  });
  socket.on("connect_error", (err) => {
    c.state = "failed";
    c.lifecycle.push(["connect_error", err && err.message !== undefined ? err.message : toJson(err),
      err && err.data !== undefined ? toJson(err.data) : null]);
    poke();
  });
  socket.on("error", (err) => {
    if (c.state === "connecting") c.state = "failed";
    c.lifecycle.push(["error", err instanceof Error ? err.message : toJson(err)]);
    poke();
  });

  c.count = (name) => c.events.filter((e) => e[0] === name).length;
  c.args = (name) => c.events.filter((e) => e[0] === name).map((e) => e.slice(1));
  c.reasons = () => c.lifecycle.filter((e) => e[0] === "disconnect").map((e) => e[1]);
  c.errors = () => c.lifecycle.filter((e) => e[0] !== "connect" && e[0] !== "disconnect");
  // the args of the n-th (1-based) `name` event, once it arrived
  c.nth = (name, n) => until(() => c.count(name) >= n && c.args(name)[n - 1],
    `${label}: ${name} #${n}`);
  c.connected = () => until(() => {
    if (c.state === "failed") throw new Error(`${label}: ${JSON.stringify(c.lifecycle)}`);
    return c.state === "connected";
  }, `${label}: connect`);
  c.failure = () => until(() => c.errors().length > 0 && c.errors()[0], `${label}: an error`);
  c.disconnected = () => until(() => c.reasons().length > 0 && c.reasons()[0],
    `${label}: disconnect`);
  c.emit = (event, ...args) => socket.emit(event, ...fromJson(args));
  // emit with an ack callback; resolves with the ack's args
  c.call = (event, ...args) => withTimeout(
    new Promise((resolve) => socket.emit(event, ...fromJson(args), (...res) => resolve(res))),
    `${label}: ack of ${event}`);
  // a round trip after everything sent so far: the server handles one socket's packets in
  // order and writes to all sockets of a process in order, so whatever it sent this client
  // before handling this request arrives before the answer
  c.flush = async () => {
    c.flushes += 1;
    if (socket.nsp === "/") {
      await c.call("ack-echo", `__flush__${c.flushes}`);
    } else {
      const marker = `__flush__${c.flushes}`;
      socket.emit("echo", marker);
      await until(() => c.events.some((e) => e[0] === "echo" && e[1] === marker),
        `${label}: echo of ${marker}`);
    }
  };
  // server events other than welcome and the flush echoes
  c.others = () => c.events.filter((e) => e[0] !== "welcome"
    && !(e[0] === "echo" && typeof e[1] === "string" && e[1].startsWith("__flush__")));
  c.close = () => { if (c.socket.connected) c.socket.disconnect(); };
  opened.push(c);
  return c;
}

// a new connection (its own Manager, forceNew) to namespace `nsp`
function open(options = {}) {
  const gen = options.gen || GEN;
  const nsp = options.nsp || "/";
  const opts = {
    transports: options.transports || TRANSPORTS, forceNew: options.forceNew !== false,
    reconnection: false, ...credentials(gen, options.token),
  };
  if (cfg.force_base64) opts.forceBase64 = true; // binary as base64 text on every transport
  const url = cfg.url + (nsp === "/" ? "" : nsp);
  const socket = gen === 2 ? sio2(url, opts) : sio4(url, opts);
  return wrap(socket, gen, options.label || `${nsp}#${++labels}`);
}

// another namespace over the Manager (and so the connection) of `client`
function openOn(client, nsp, token) {
  const socket = client.socket.io.socket(nsp, credentials(client.gen, token));
  return wrap(socket, client.gen, `${nsp}@${client.label}`);
}

async function openAll(n, options = {}) {
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(open({ ...options, label: `c${i}` }));
  await Promise.all(clients.map((c) => c.connected()));
  return clients;
}

// -- scenarios ---------------------------------------------------------------------------
const scenarios = {};

// welcome: {id} equals socket.id
scenarios.welcome = async () => {
  const a = open();
  await a.connected();
  const [welcome] = await a.nth("welcome", 1);
  return { id: a.socket.id, welcome };
};

// echo: cfg.echo_cases = [[args...], ...], each sent as one `echo`, answered one at a time
scenarios.echo = async () => {
  const a = open();
  await a.connected();
  const echoes = [];
  for (const [i, args] of (cfg.echo_cases || []).entries()) {
    a.emit("echo", ...args);
    echoes.push(toJson(await a.nth("echo", i + 1)));
  }
  return { echoes, others: toJson(a.others().filter((e) => e[0] !== "echo")) };
};

// ack-echo: cfg.ack_cases = [[args...], ...]
scenarios["ack-echo"] = async () => {
  const a = open();
  await a.connected();
  const acks = [];
  for (const args of cfg.ack_cases || []) acks.push(toJson(await a.call("ack-echo", ...args)));
  return { acks };
};

// ask-client: the client answers the server's question with cfg.answer (a list of args)
scenarios["ask-client"] = async () => {
  const a = open();
  const questions = [];
  a.socket.on("question", (...args) => {
    const ack = args.pop();
    questions.push(toJson(args));
    ack(...fromJson(cfg.answer || [42]));
  });
  await a.connected();
  a.emit("ask-client");
  const answerWas = await a.nth("answer-was", 1);
  await a.flush();
  return { questions, answer_was: toJson(answerWas), answer_was_count: a.count("answer-was") };
};

// rooms: join/leave with and without acks; the acks list the socket's rooms
scenarios.rooms = async () => {
  const a = open();
  await a.connected();
  const [r1, r2, r3] = [`alpha-${TAG}`, `beta-${TAG}`, `salle-\u00e9t\u00e9-\ud83c\udf89-${TAG}`];
  const acks = [];
  acks.push(await a.call("join", r1));
  a.emit("join", r2); // no ack
  acks.push(await a.call("join", r3));
  acks.push(await a.call("join", r3)); // joining twice changes nothing
  acks.push(await a.call("leave", r1));
  a.emit("leave", r2); // no ack
  acks.push(await a.call("leave", r3));
  return { id: a.socket.id, rooms: [r1, r2, r3], acks };
};

// to-room and to-others-in-room: a and b in the room, c outside
scenarios["to-room"] = async () => {
  const [a, b, c] = await openAll(3);
  const room = `room-${TAG}`;
  await a.call("join", room);
  await b.call("join", room);
  const [p1, p2] = cfg.room_payloads || ["to-room", "to-others"];
  a.emit("to-room", room, p1);
  await a.nth("room-msg", 1);
  await b.nth("room-msg", 1);
  await Promise.all([a, b, c].map((x) => x.flush()));
  a.emit("to-others-in-room", room, p2);
  await b.nth("room-msg", 2);
  await Promise.all([a, b, c].map((x) => x.flush()));
  // c was in the room for none of it; after leaving, b gets nothing either
  await b.call("leave", room);
  a.emit("to-room", room, "after-leave");
  await a.nth("room-msg", 2);
  await Promise.all([a, b, c].map((x) => x.flush()));
  return {
    a: toJson(a.args("room-msg")), b: toJson(b.args("room-msg")), c: toJson(c.args("room-msg")),
  };
};

// broadcast: every other client gets it exactly once, the sender never
scenarios.broadcast = async () => {
  const [a, b, c] = await openAll(3);
  const payload = cfg.broadcast_payload !== undefined ? cfg.broadcast_payload : "to-all";
  a.emit("broadcast", payload);
  await b.nth("bcast", 1);
  await c.nth("bcast", 1);
  await Promise.all([a, b, c].map((x) => x.flush()));
  return { a: toJson(a.args("bcast")), b: toJson(b.args("bcast")), c: toJson(c.args("bcast")) };
};

// private: only the target gets {from, payload}
scenarios.private = async () => {
  const [a, b, c] = await openAll(3);
  const payload = cfg.private_payload !== undefined ? cfg.private_payload : "psst";
  a.emit("private", b.socket.id, payload);
  await b.nth("private", 1);
  await Promise.all([a, b, c].map((x) => x.flush()));
  return {
    ids: { a: a.socket.id, b: b.socket.id, c: c.socket.id },
    a: toJson(a.args("private")), b: toJson(b.args("private")), c: toJson(c.args("private")),
  };
};

// message: send(x) is answered with send("echo:" + x); cfg.messages lists the x
scenarios.message = async () => {
  const a = open();
  await a.connected();
  const messages = cfg.messages || ["hi"];
  for (const [i, m] of messages.entries()) {
    a.socket.send(fromJson(m));
    await a.nth("message", i + 1);
  }
  return { received: toJson(a.args("message")) };
};

// forbidden: refused by the packet middleware; nothing comes back but (protocol 4) an error
scenarios.forbidden = async () => {
  const a = open();
  await a.connected();
  a.emit("forbidden", "payload");
  a.emit("forbidden");
  const alive = await a.call("ack-echo", "still-alive");
  a.emit("echo", "after");
  await a.nth("echo", 1);
  await a.flush();
  return {
    alive, connected: a.socket.connected, lifecycle: a.lifecycle, events: toJson(a.others()),
  };
};

// chat: /chat with the right token, over a shared connection and alone
scenarios.chat = async () => {
  const cases = cfg.chat_cases || [["hello"]];
  const echoAll = async (x) => {
    const out = [];
    for (const [i, args] of cases.entries()) {
      x.emit("echo", ...args);
      out.push(toJson(await x.nth("echo", i + 1)));
    }
    return out;
  };
  const variants = {};
  // 1. a second namespace on the Manager of a forceNew connection
  const main = open();
  const chat = openOn(main, "/chat", "secret");
  await main.connected();
  await chat.connected();
  variants.multiplexed = {
    same_manager: main.socket.io === chat.socket.io,
    engines: new Set([main.socket.io.engine, chat.socket.io.engine]).size,
    chat: await echoAll(chat), main: await echoAll(main),
    chat_lifecycle: chat.lifecycle,
  };
  // 2. io(url) then io(url + "/chat"): the cached Manager is shared
  const root = open({ forceNew: false });
  const chat2 = wrap((GEN === 2 ? sio2 : sio4)(`${cfg.url}/chat`, {
    transports: TRANSPORTS, reconnection: false, ...credentials(GEN, "secret"),
  }), GEN, "/chat(cached)");
  await root.connected();
  await chat2.connected();
  variants.cached = {
    same_manager: root.socket.io === chat2.socket.io,
    chat: await echoAll(chat2), chat_lifecycle: chat2.lifecycle,
  };
  // 3. a connection of its own to /chat only
  const alone = open({ nsp: "/chat", token: "secret" });
  await alone.connected();
  variants.direct = { chat: await echoAll(alone), chat_lifecycle: alone.lifecycle };
  return variants;
};

// chat-wrong-token: a wrong token and no token are refused with "not authorized"
scenarios["chat-wrong-token"] = async () => {
  const out = {};
  const main = open();
  await main.connected();
  const bad = openOn(main, "/chat", "wrong");
  await bad.failure();
  out.multiplexed = {
    errors: bad.errors(), chat_connected: bad.socket.connected,
    main_alive: await main.call("ack-echo", "alive"), main_connected: main.socket.connected,
  };
  const none = open({ nsp: "/chat" });
  await none.failure();
  out.direct_no_token = { errors: none.errors(), chat_connected: none.socket.connected };
  return out;
};

// namespaces-separate: a room of / never reaches /chat, not even over the same connection
scenarios["namespaces-separate"] = async () => {
  const main = open();
  const chat = openOn(main, "/chat", "secret");
  const other = open();
  await Promise.all([main.connected(), chat.connected(), other.connected()]);
  const room = `shared-${TAG}`;
  const mainRooms = await main.call("join", room);
  await other.call("join", room);
  other.emit("to-room", room, "root-room");
  await main.nth("room-msg", 1);
  await other.nth("room-msg", 1);
  // the /chat socket's id as a room of /
  other.emit("private", chat.socket.id, "to-chat-id");
  other.emit("broadcast", "root-broadcast");
  await main.nth("bcast", 1);
  await Promise.all([main.flush(), chat.flush(), other.flush()]);
  return {
    main_rooms: mainRooms, main_id: main.socket.id, chat_id: chat.socket.id,
    main: toJson(main.others()), chat: toJson(chat.others()),
  };
};

// ordered: cfg.count echoes sent back to back arrive complete and in order
scenarios.ordered = async () => {
  const a = open();
  await a.connected();
  const n = cfg.count || 1000;
  for (let i = 0; i < n; i++) a.emit("echo", i);
  await until(() => a.count("echo") >= n, `${n} echoes`, Math.max(STEP_MS, 20000));
  await a.flush();
  return { received: a.args("echo").map((args) => (args.length === 1 ? args[0] : args)) };
};

// fanout: cfg.clients clients in one room; each gets each message exactly once
scenarios.fanout = async () => {
  const n = cfg.clients || 50;
  const clients = await openAll(n);
  const [sender, ...rest] = clients;
  const room = `fan-${TAG}`;
  await Promise.all(clients.map((x) => x.call("join", room)));
  sender.emit("to-room", room, "everyone");
  await Promise.all(clients.map((x) => x.nth("room-msg", 1)));
  sender.emit("to-others-in-room", room, "others");
  await Promise.all(rest.map((x) => x.nth("room-msg", 2)));
  sender.emit("broadcast", "bcast");
  await Promise.all(rest.map((x) => x.nth("bcast", 1)));
  await Promise.all(clients.map((x) => x.flush()));
  return {
    ids: new Set(clients.map((x) => x.socket.id)).size,
    room_msgs: clients.map((x) => toJson(x.args("room-msg"))),
    bcasts: clients.map((x) => x.count("bcast")),
  };
};

// max-buffer: a message of cfg.under characters is echoed; one of cfg.over characters
// (over maxHttpBufferSize) closes that connection and no other
scenarios["max-buffer"] = async () => {
  const [a, b] = await openAll(2);
  a.emit("echo", "u".repeat(cfg.under || 999000));
  const [under] = await a.nth("echo", 1);
  a.emit("echo", "o".repeat(cfg.over || 1100000));
  const reason = await a.disconnected();
  return {
    under_length: under.length, reason, a_echoes: a.count("echo"),
    b_alive: await b.call("ack-echo", "alive"), b_connected: b.socket.connected,
  };
};

// lifecycle (needs a server of its own: it reads server-wide state): list-clients,
// last-disconnect-reason after a client disconnect, disconnect-me with and without ack
scenarios.lifecycle = async () => {
  const [a, b, c] = await openAll(3);
  const ids = { a: a.socket.id, b: b.socket.id, c: c.socket.id };
  const out = { ids };
  out.list_all = await a.call("list-clients");
  out.reason_before = await a.call("last-disconnect-reason");
  b.socket.disconnect();
  out.b_reasons = b.reasons();
  // nothing tells a that the server has handled b's DISCONNECT: ask until it has
  let tries = 0;
  let reason;
  const deadline = Date.now() + STEP_MS;
  do {
    tries += 1;
    [reason] = await a.call("last-disconnect-reason");
  } while (reason === null && Date.now() < deadline);
  out.reason_after_client_disconnect = reason;
  out.list_after_b = await a.call("list-clients");
  out.disconnect_me_ack = await a.call("disconnect-me");
  out.a_reason = await a.disconnected();
  out.a_connected = a.socket.connected;
  out.reason_after_disconnect_me = await c.call("last-disconnect-reason");
  out.list_after_a = await c.call("list-clients");
  c.emit("disconnect-me"); // without an ack
  out.c_reason = await c.disconnected();
  out.c_events = toJson(c.others());
  return out;
};

// heartbeat: cfg.variants = [{client, transports}] connect at once and stay cfg.hold_ms;
// counts the server's pings (EIO 4) or its pongs (EIO 3)
scenarios.heartbeat = async () => {
  const variants = cfg.variants || [{ client: GEN, transports: TRANSPORTS }];
  const clients = variants.map((v) => {
    const x = open({ gen: v.client, transports: v.transports,
      label: `sio${v.client}-${v.transports.join("+")}` });
    x.heartbeats = 0;
    x.socket.io.on(v.client === 2 ? "pong" : "ping", () => { x.heartbeats += 1; });
    return x;
  });
  await Promise.all(clients.map((x) => x.connected()));
  await pause(cfg.hold_ms || 5000); // the thing under test is time passing without a drop
  const out = {};
  for (const x of clients) {
    out[x.label] = {
      heartbeats: x.heartbeats, lifecycle: x.lifecycle, connected: x.socket.connected,
      transport: x.socket.io.engine.transport.name,
      alive: x.socket.connected ? await x.call("ack-echo", "alive") : null,
    };
  }
  return out;
};

// -- driver ------------------------------------------------------------------------------
async function closeAll(clients) {
  for (const c of clients) {
    try {
      c.close();
    } catch (err) {
      // a socket that never connected
    }
  }
}

async function main() {
  const names = cfg.scenarios || [cfg.scenario];
  for (const name of names) {
    current = name;
    opened = [];
    try {
      if (!scenarios[name]) throw new Error(`unknown scenario ${name}`);
      // a snapshot: the clients go on recording while they close
      results[name] = JSON.parse(JSON.stringify(await scenarios[name]()));
    } catch (err) {
      errors[name] = String(err && err.stack ? err.stack : err);
    }
    await closeAll(opened);
  }
  current = null;
  clearTimeout(globalTimer);
  let failed = false;
  if (cfg.scenarios) {
    console.log(JSON.stringify({ results, errors }));
  } else if (errors[cfg.scenario] !== undefined) {
    console.log(JSON.stringify({ scenario: cfg.scenario, error: errors[cfg.scenario] }));
    failed = true;
  } else {
    console.log(JSON.stringify({ scenario: cfg.scenario, result: results[cfg.scenario] }));
  }
  // let the close packets go out, but never hang on a transport
  setTimeout(() => process.exit(failed ? 1 : 0), 500).unref();
  if (failed) process.exitCode = 1;
}

function run() {
  main().catch((err) => {
    console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
    process.exit(1);
  });
}

// run directly, or required by another driver (api_scenario.js) that adds scenarios first
if (require.main === module) {
  run();
} else {
  module.exports = {
    cfg, GEN, TRANSPORTS, TAG, sio2, sio4, scenarios, open, openAll, wrap, toJson, run,
  };
}

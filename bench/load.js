// Load generator for the benchmarks: socket.io-client@4 (tests/interop/node_modules/sio4),
// the same for every server under test.
//
// usage: node bench/load.js '<json config>'
// It writes JSON lines to stdout:
//   {"mark": "<name>"}        a phase starts or ends ("start", "end", "baseline", "ready"); the
//                             driver samples server CPU / RSS when it reads one
//   {"result": {...}}         the last line: what was measured
//   {"error": "..."}          the last line when the scenario failed (exit code 1)
// After a mark with "wait": true it waits for one line on stdin before going on.
//
// config: {scenario, urls: [url, ...], path, timeout_ms, client, ...scenario options}
// client: "sio" (socket.io-client@4, the default) or "lean": a minimal Socket.IO 5 / Engine.IO 4
// client (websocket on the ws library socket.io-client uses, or bare long-polling requests for
// connection setup) costing a fraction of socket.io-client's CPU, so that the load generator
// is not what limits the rate scenarios.
// Scenarios:
//   ack     {clients, acks, warmup}          N clients, each `acks` sequential emitWithAck
//                                            -> {acks, seconds, rate, p50_ms, p99_ms}
//   fanout  {clients, messages, warmup, mode} clients join a room (spread over urls), one
//                                            emitter on urls[0] emits `messages` times to it:
//                                            mode "burst" all at once, "lockstep" each once the
//                                            previous one reached every client
//                                            -> {deliveries, seconds, rate, round_p50_ms,
//                                                round_p99_ms (lockstep: emit to last delivery)}
//   connect {connections, concurrency, transports, keep_alive}
//                                            connect + disconnect, `concurrency` at a time
//                                            -> {connections, seconds, rate}
//   roundtrip {clients, inflight, kind, seconds, warmup_s}
//                                            every client keeps `inflight` `echo` emits (kind
//                                            "echo": answered by an `echo` event) or `ack`
//                                            emits (kind "ack") in flight for `seconds`
//                                            -> {ops, seconds, rate, p50_ms, p99_ms}
//   polling {clients, seconds, warmup_s}     long-polling clients (keep-alive HTTP), each with
//                                            one `ack` emit in flight (POST, answer by the GET)
//                                            -> {ops, seconds, rate, p50_ms, p99_ms}
//   large   {kind, size, seconds, min_count, warmup}
//                                            one websocket client, sequential `echo` round
//                                            trips of a `size`-byte binary (kind "binary") or
//                                            text ("text") argument for `seconds` (and at
//                                            least `min_count` of them)
//                                            -> {ops, seconds, rate, p50_ms, p99_ms, mb_per_s}
//   idle    {levels, concurrency, warmup}    hold websocket connections open, `levels` (e.g.
//                                            [1000, 10000, 19000]) at a time: marks
//                                            "baseline" and "level-N" wait for stdin; stops at
//                                            the first level it cannot reach
//                                            -> {reached, levels: [{clients, seconds}], alive,
//                                                error}
"use strict";
const http = require("http");
const path = require("path");
const readline = require("readline");
const { createRequire } = require("module");

const interop = createRequire(path.join(__dirname, "..", "tests", "interop", "package.json"));
const { io } = interop("sio4");
const WebSocket = createRequire(interop.resolve("sio4"))("ws"); // the ws socket.io-client uses

const cfg = JSON.parse(process.argv[2]);
const URLS = cfg.urls;
const PATH = cfg.path || "/socket.io";
const ROOM = "bench-room";

const globalTimer = setTimeout(() => fail(`timeout after ${cfg.timeout_ms || 120000} ms`),
  cfg.timeout_ms || 120000);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function fail(message) {
  out({ error: String(message) });
  process.exit(1);
}

process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));

const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", () => {
  const next = waiting.shift();
  if (next) next();
});

function mark(name, wait = false) {
  out({ mark: name, wait });
  if (!wait) return Promise.resolve();
  return new Promise((resolve) => waiting.push(resolve));
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// -- the lean client ------------------------------------------------------------------------

// Socket.IO 5 over Engine.IO 4 over websocket, namespace "/" only: the subset of
// socket.io-client's API the scenarios use (emit, emitWithAck, on, disconnect, connected).
class LeanSocket {
  constructor(url) {
    this.url = url.replace(/^http/, "ws") + PATH + "/?EIO=4&transport=websocket";
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAck = 0;
    this.connected = false;
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      ws.on("error", (err) => { if (!this.connected) reject(err); });
      ws.on("close", () => { this.connected = false; });
      ws.on("message", (data, isBinary) => {
        if (isBinary) return this.onAttachment(data);
        const text = data.toString();
        if (this.connected) return this.onFrame(text);
        if (text[0] === "0") ws.send("40"); // Engine.IO open -> Socket.IO CONNECT
        else if (text.startsWith("40")) { this.connected = true; resolve(this); }
        else if (text.startsWith("44")) reject(new Error(`connect_error: ${text}`));
      });
    });
  }

  onFrame(text) {
    if (text === "2") { this.ws.send("3"); return; } // ping
    if (text[0] !== "4") return;
    const type = text[1];
    let i = 2;
    const digits = () => {
      const from = i;
      while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      return i > from ? Number(text.slice(from, i)) : null;
    };
    let id = digits();
    if (type === "5" && text[i] === "-") { // BINARY_EVENT: its attachments follow
      i++;
      this.binary = { count: id, data: null, buffers: [] };
      id = digits();
      this.binary.data = JSON.parse(text.slice(i));
      return;
    }
    if (type === "2") { // EVENT
      this.dispatch(JSON.parse(text.slice(i)));
    } else if (type === "3") { // ACK
      const resolve = this.acks.get(id);
      if (resolve) { this.acks.delete(id); resolve(JSON.parse(text.slice(i))); }
    } else if (type === "1") {
      this.connected = false;
    }
  }

  dispatch([event, ...args]) {
    const handler = this.handlers.get(event);
    if (handler) handler(...args);
  }

  onAttachment(data) {
    const binary = this.binary;
    if (!binary) throw new Error("lean client: unexpected binary frame");
    binary.buffers.push(data);
    if (binary.buffers.length < binary.count) return;
    this.binary = null;
    const fill = (value) => {
      if (value && value._placeholder) return binary.buffers[value.num];
      if (Array.isArray(value)) return value.map(fill);
      return value;
    };
    this.dispatch(fill(binary.data));
  }

  // an event whose arguments may include one Buffer (sent as the packet's attachment)
  emitBinary(event, ...args) {
    const buffers = [];
    const packed = args.map((a) => (Buffer.isBuffer(a)
      ? (buffers.push(a), { _placeholder: true, num: buffers.length - 1 }) : a));
    this.ws.send("45" + buffers.length + "-" + JSON.stringify([event, ...packed]));
    for (const b of buffers) this.ws.send(b, { binary: true });
  }

  on(event, handler) { this.handlers.set(event, handler); }

  emit(event, ...args) { this.ws.send("42" + JSON.stringify([event, ...args])); }

  emitWithAck(event, ...args) {
    const id = this.nextAck++;
    return new Promise((resolve) => {
      this.acks.set(id, (values) => resolve(values[0]));
      this.ws.send("42" + id + JSON.stringify([event, ...args]));
    });
  }

  disconnect() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send("41");
    this.connected = false;
    this.ws.close();
  }
}

// The same over long-polling, for connection setup only: handshake GET, CONNECT POST, the GET
// that brings the CONNECT answer, then DISCONNECT + close in one POST; a new TCP connection
// per request, or keep-alive connections (as browsers do) with `keep_alive: true`.
const agent = new http.Agent({ keepAlive: Boolean(cfg.keep_alive) });

function request(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body === undefined ? {}
      : { "Content-Type": "text/plain;charset=UTF-8", "Content-Length": Buffer.byteLength(body) } },
    (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
        else resolve(text);
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

class LeanPolling {
  constructor(url) {
    this.base = `${url}${PATH}/?EIO=4&transport=polling`;
    this.connected = false;
  }

  async open() {
    const open = await request("GET", this.base);
    if (open[0] !== "0") throw new Error(`unexpected handshake ${open}`);
    this.base += "&sid=" + encodeURIComponent(JSON.parse(open.slice(1)).sid);
    await request("POST", this.base, "40");
    for (let tries = 0; tries < 5; tries++) { // the answer may come after a ping or a noop
      for (const packet of (await request("GET", this.base)).split("\x1e")) {
        if (packet === "2") await request("POST", this.base, "3");
        else if (packet.startsWith("44")) throw new Error(`connect_error: ${packet}`);
        else if (packet.startsWith("40")) this.connected = true;
      }
      if (this.connected) return this;
    }
    throw new Error("no CONNECT answer after 5 polls");
  }

  disconnect() {
    this.connected = false;
    return request("POST", this.base, "41\x1e1");
  }

  // keep one GET pending, and hand each Socket.IO packet it brings to onPacket(text); answer
  // pings. Stops once disconnect() was called.
  poll(onPacket) {
    const loop = () => {
      if (!this.connected) return;
      request("GET", this.base).then((payload) => {
        for (const packet of payload.split("\x1e")) {
          if (packet === "2") request("POST", this.base, "3").catch(() => {});
          else if (packet[0] === "4") onPacket(packet.slice(1));
        }
        loop();
      }, (err) => { if (this.connected) fail(`polling GET: ${err.message}`); });
    };
    loop();
  }
}

function connectOne(url, transports) {
  if (cfg.client === "lean") {
    if (transports.length !== 1) throw new Error("the lean client uses one transport");
    return transports[0] === "websocket" ? new LeanSocket(url).open()
      : new LeanPolling(url).open();
  }
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      path: PATH, forceNew: true, reconnection: false, transports, timeout: 20000,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

// connect `count` clients, `concurrency` handshakes at a time, client i to URLS[i % n]
async function connectMany(count, transports, concurrency = 50) {
  const sockets = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      sockets[i] = await connectOne(URLS[i % URLS.length], transports);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sockets;
}

function closeAll(sockets) {
  for (const s of sockets) s.disconnect();
}

// {ops, seconds, rate, p50_ms, p99_ms} of the round trips that took `latencies` ms
function rates(latencies, seconds) {
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length, seconds, rate: latencies.length / seconds,
    p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99),
  };
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

// -- scenarios -----------------------------------------------------------------------------

async function ack() {
  const clients = await connectMany(cfg.clients, ["websocket"]);
  const payload = { text: "hello", n: 42 };
  async function run(socket, count, latencies) {
    for (let i = 0; i < count; i++) {
      const t0 = nowMs();
      const answer = await socket.emitWithAck("ack", i, payload);
      if (latencies) latencies.push(nowMs() - t0);
      if (answer !== i) throw new Error(`ack ${i} answered ${JSON.stringify(answer)}`);
    }
  }
  await Promise.all(clients.map((s) => run(s, cfg.warmup || 0, null)));
  const latencies = [];
  await mark("start");
  const t0 = nowMs();
  await Promise.all(clients.map((s) => run(s, cfg.acks, latencies)));
  const seconds = (nowMs() - t0) / 1000;
  await mark("end");
  closeAll(clients);
  const result = rates(latencies, seconds);
  return { acks: result.ops, ...result };
}

async function fanout() {
  const clients = await connectMany(cfg.clients, ["websocket"]);
  await Promise.all(clients.map((s) => s.emitWithAck("join", ROOM)));
  const emitter = await connectOne(URLS[0], ["websocket"]);
  let received = 0;
  let target = 0;
  let done = null;
  for (const s of clients) {
    s.on("msg", () => {
      received += 1;
      if (received === target && done) done();
    });
  }
  function expect(count) {
    received = 0;
    target = count * clients.length;
    return new Promise((resolve) => { done = resolve; });
  }
  async function burst(count) { // emit `count` messages at once, wait for every delivery
    const finished = expect(count);
    const t0 = nowMs();
    for (let m = 0; m < count; m++) emitter.emit("bcast", ROOM, { seq: m, text: "news" });
    await finished;
    return (nowMs() - t0) / 1000;
  }
  const rounds = []; // lockstep: ms until the last client got each message
  async function lockstep(count) { // emit one message, wait until everyone got it, repeat
    const t0 = nowMs();
    for (let m = 0; m < count; m++) {
      const finished = expect(1);
      const t1 = nowMs();
      emitter.emit("bcast", ROOM, { seq: m, text: "news" });
      await finished;
      rounds.push(nowMs() - t1);
    }
    return (nowMs() - t0) / 1000;
  }
  const run = cfg.mode === "lockstep" ? lockstep : burst;
  if (cfg.warmup) await run(cfg.warmup);
  rounds.length = 0;
  // the room is complete on every node once a warm-up burst reached everyone
  await mark("start");
  const seconds = await run(cfg.messages);
  await mark("end");
  closeAll(clients);
  emitter.disconnect();
  rounds.sort((a, b) => a - b);
  const deliveries = cfg.messages * clients.length;
  return {
    deliveries, seconds, rate: deliveries / seconds,
    round_p50_ms: percentile(rounds, 50), round_p99_ms: percentile(rounds, 99),
  };
}

async function connect() {
  const transports = cfg.transports || ["websocket"];
  const total = cfg.connections;
  let started = 0;
  async function worker() {
    while (started < total) {
      started += 1;
      const socket = await connectOne(URLS[started % URLS.length], transports);
      await socket.disconnect();
    }
  }
  const concurrency = Math.min(cfg.concurrency || 10, total);
  // warm-up: one round per worker, untimed
  started = total - concurrency;
  await Promise.all(Array.from({ length: concurrency }, worker));
  started = 0;
  await mark("start");
  const t0 = nowMs();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (nowMs() - t0) / 1000;
  await mark("end");
  return { connections: total, seconds, rate: total / seconds };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// the round trips of `kind` ("echo" or "ack") that `socket` keeps `inflight` at a time until
// stop(); tally(t0) is called for each answered one, with the time it was sent
function keepBusy(socket, kind, inflight, payload, tally) {
  const sent = new Map();
  let seq = 0;
  let outstanding = 0;
  let stopped = false;
  let drained = null;
  function send() {
    if (stopped) return;
    const id = seq++;
    const t0 = nowMs();
    outstanding++;
    if (kind === "echo") {
      sent.set(id, t0);
      socket.emit("echo", id, payload);
    } else {
      socket.emitWithAck("ack", id, payload).then((answer) => {
        if (answer !== id) fail(`ack ${id} answered ${JSON.stringify(answer)}`);
        answered(t0);
      });
    }
  }
  function answered(t0) {
    outstanding--;
    tally(t0);
    if (stopped) { if (outstanding === 0 && drained) drained(); } else send();
  }
  if (kind === "echo") {
    socket.on("echo", (id) => {
      const t0 = sent.get(id);
      sent.delete(id);
      answered(t0);
    });
  }
  for (let i = 0; i < inflight; i++) send();
  return function stop() {
    stopped = true;
    return outstanding === 0 ? Promise.resolve()
      : new Promise((resolve) => { drained = resolve; });
  };
}

// count the round trips answered during `seconds` after `warmup_s` of the same load
async function timedWindow(start) {
  const latencies = [];
  let measuring = false;
  const stops = start((t0) => { if (measuring) latencies.push(nowMs() - t0); });
  await sleep((cfg.warmup_s || 0) * 1000);
  await mark("start");
  measuring = true;
  const t0 = nowMs();
  await sleep(cfg.seconds * 1000);
  measuring = false;
  const seconds = (nowMs() - t0) / 1000;
  await mark("end");
  await Promise.race([Promise.all(stops.map((stop) => stop())), sleep(10000)]);
  return rates(latencies, seconds);
}

async function roundtrip() {
  const clients = await connectMany(cfg.clients, ["websocket"]);
  const payload = { text: "hello", n: 42 };
  const result = await timedWindow((tally) => clients.map(
    (s) => keepBusy(s, cfg.kind, cfg.inflight, payload, tally)));
  closeAll(clients);
  return result;
}

async function polling() {
  const clients = await connectMany(cfg.clients, ["polling"], 10);
  const payload = { text: "hello", n: 42 };
  const result = await timedWindow((tally) => clients.map((client) => {
    let seq = 0;
    let stopped = false;
    let pending = null; // [id, t0]
    let drained = null;
    function send() {
      if (stopped) { if (drained) drained(); return; }
      pending = [seq++, nowMs()];
      const body = "42" + pending[0] + JSON.stringify(["ack", pending[0], payload]);
      request("POST", client.base, body).catch((err) => fail(`polling POST: ${err.message}`));
    }
    client.poll((packet) => { // "3<id>[...]": the answer to the pending ack
      if (packet[0] !== "3" || !pending) return;
      const id = parseInt(packet.slice(1), 10);
      if (id !== pending[0]) fail(`ack ${pending[0]} answered as ${packet}`);
      const t0 = pending[1];
      pending = null;
      tally(t0);
      send();
    });
    send();
    return () => {
      stopped = true;
      return pending === null ? Promise.resolve()
        : new Promise((resolve) => { drained = resolve; });
    };
  }));
  await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
  return result;
}

async function large() {
  const [socket] = await connectMany(1, ["websocket"]);
  const binary = cfg.kind === "binary";
  const payload = binary ? Buffer.alloc(cfg.size, 0xa5) : "x".repeat(cfg.size);
  const latencies = [];
  let waiting = null;
  socket.on("echo", (id, data) => {
    const size = binary ? (Buffer.isBuffer(data) ? data.length : -1) : data.length;
    if (size !== cfg.size) fail(`echo ${id}: ${size} bytes came back, not ${cfg.size}`);
    waiting();
  });
  async function run(count, record, until = 0) {
    for (let i = 0; i < count || nowMs() < until; i++) {
      const t0 = nowMs();
      const back = new Promise((resolve) => { waiting = resolve; });
      if (binary) socket.emitBinary("echo", i, payload);
      else socket.emit("echo", i, payload);
      await back;
      if (record) latencies.push(nowMs() - t0);
    }
  }
  await run(cfg.warmup || 0, false);
  await mark("start");
  const t0 = nowMs();
  await run(cfg.min_count || 1, true, t0 + cfg.seconds * 1000);
  const seconds = (nowMs() - t0) / 1000;
  await mark("end");
  socket.disconnect();
  const result = rates(latencies, seconds);
  return { ...result, mb_per_s: (2 * result.ops * cfg.size) / seconds / 1e6 };
}

async function idle() {
  const transports = ["websocket"];
  const concurrency = cfg.concurrency || 50;
  if (cfg.warmup) closeAll(await connectMany(cfg.warmup, transports, concurrency));
  await sleep(300);
  await mark("baseline", true);
  const clients = [];
  const levels = [];
  let error = null;
  for (const level of cfg.levels) {
    const t0 = nowMs();
    try {
      const more = await connectMany(level - clients.length, transports, concurrency);
      clients.push(...more);
    } catch (err) {
      error = `at ${level}: ${err.message || err}`;
      break;
    }
    levels.push({ clients: level, seconds: (nowMs() - t0) / 1000 });
    await mark(`level-${level}`, true);
  }
  const alive = clients.filter((s) => s.connected).length;
  closeAll(clients);
  return { reached: levels.length ? levels[levels.length - 1].clients : 0, levels, alive, error };
}

const SCENARIOS = { ack, fanout, connect, roundtrip, polling, large, idle };

(async () => {
  const scenario = SCENARIOS[cfg.scenario];
  if (!scenario) fail(`unknown scenario ${cfg.scenario}`);
  const result = await scenario();
  clearTimeout(globalTimer);
  out({ result });
  lines.close();
  // sockets closed above may still be flushing their close frames: exit on our own
  setTimeout(() => process.exit(0), 100);
})().catch((err) => fail(err && err.stack ? err.stack : err));

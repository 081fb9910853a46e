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
//   idle    {clients, concurrency, warmup}   hold `clients` websocket connections open
//                                            (marks "baseline" and "ready" wait for stdin)
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
        if (isBinary) throw new Error("lean client: unexpected binary frame");
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
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    const id = i > 2 ? Number(text.slice(2, i)) : null;
    if (type === "2") { // EVENT
      const [event, ...args] = JSON.parse(text.slice(i));
      const handler = this.handlers.get(event);
      if (handler) handler(...args);
    } else if (type === "3") { // ACK
      const resolve = this.acks.get(id);
      if (resolve) { this.acks.delete(id); resolve(JSON.parse(text.slice(i))); }
    } else if (type === "1") {
      this.connected = false;
    }
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
    const answer = await request("GET", this.base);
    if (!answer.startsWith("40")) throw new Error(`unexpected CONNECT answer ${answer}`);
    this.connected = true;
    return this;
  }

  disconnect() {
    this.connected = false;
    return request("POST", this.base, "41\x1e1");
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
  latencies.sort((a, b) => a - b);
  return {
    acks: latencies.length, seconds, rate: latencies.length / seconds,
    p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99),
  };
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

async function idle() {
  const transports = ["websocket"];
  if (cfg.warmup) closeAll(await connectMany(cfg.warmup, transports, cfg.concurrency));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await mark("baseline", true);
  const clients = await connectMany(cfg.clients, transports, cfg.concurrency);
  await mark("ready", true);
  const alive = clients.filter((s) => s.connected).length;
  closeAll(clients);
  return { clients: clients.length, alive };
}

const SCENARIOS = { ack, fanout, connect, idle };

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

// Drives the official Engine.IO client (engine.io-client@3 for protocol 3, @6 for protocol 4)
// against a server that echoes every message back unchanged; prints one JSON line on stdout.
//
// Usage: node eio_client.js '<json config>'
// config:
//   url            "http://127.0.0.1:PORT"
//   eio            3 | 4
//   path           server path (engine.io-client's default is "/engine.io": pass "/socket.io/")
//   transports     ["polling"] | ["websocket"] | ["polling", "websocket"]
//   upgrade        true | false (default true)
//   extraHeaders, query    passed to the client as they are
//   messages       [{text: "..."} | {binary: "<base64>"}], sent in order once the socket is open
//   messages_file  a JSON file holding that list instead (one argv string is limited to 128 KiB)
//   after_upgrade  more messages, sent once the "upgrade" event has fired (implies wait_upgrade)
//   wait_upgrade   true: do not finish before the "upgrade" event
//   count          N: send N numbered messages built from messages[0] (text T -> "T-<i>",
//                  binary B -> B + <i as 4 bytes big endian>); reports in_order and
//                  received_count instead of the received list
//   clients        N (default 1): run N such clients at once (they all open before any sends);
//                  the output is then {"clients": [result, ...]}
//   expect_error   true: report the first "error"/"close" event (a refused connection)
//   wait_close_ms  N: open, send nothing, report any close within N ms (heartbeat checks:
//                  close_reason stays null while the session lives)
//   timeout_ms     overall limit (default 10000): past it, a JSON error line and exit code 2
//
// Result (one client): {opened, sid, transport_at_open, final_transport, upgraded, received,
//   close_reason, errors, heartbeats, ...}. close_reason is the reason of the first "close"
//   event: "forced close" when this script closed the socket itself at the end, null when the
//   socket was still open when the script finished (wait_close_ms).
"use strict";

const cfg = JSON.parse(process.argv[2] || "{}");
if (cfg.messages_file) {
  cfg.messages = JSON.parse(require("fs").readFileSync(cfg.messages_file, "utf8"));
}
const eio = Number(cfg.eio || 4);
const timeoutMs = cfg.timeout_ms || 10000;
const states = [];
let finished = false;

function emit(obj, code) {
  if (finished) return;
  finished = true;
  // JSON.stringify leaves U+0085, U+2028 and U+2029 raw, and Python's str.splitlines() (which
  // the pytest side uses to find the last line) splits on them: escape them, as JSON allows
  const line = JSON.stringify(obj).replace(/[\u0085\u2028\u2029]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")) + "\n";
  let exited = false;
  const exit = () => { if (!exited) { exited = true; process.exit(code); } };
  process.stdout.write(line, exit);
  setTimeout(exit, 2000).unref();
}

function fail(why, extra) {
  const partial = states.map((s) => s.snapshot());
  emit(Object.assign({ error: why, clients: partial }, extra || {}), 2);
}

process.on("uncaughtException", (err) => fail("exception", { message: String(err && err.stack || err) }));
process.on("unhandledRejection", (err) => fail("exception", { message: String(err && err.stack || err) }));
setTimeout(() => fail("timeout after " + timeoutMs + " ms"), timeoutMs).unref();

function makeSocket() {
  const opts = {
    path: cfg.path || "/socket.io/",
    transports: cfg.transports || ["polling", "websocket"],
    upgrade: cfg.upgrade !== false,
  };
  if (cfg.extraHeaders) opts.extraHeaders = cfg.extraHeaders;
  if (cfg.query) opts.query = cfg.query;
  if (eio === 3) {
    const Socket = require("eio3");
    return new Socket(cfg.url, opts);
  }
  if (eio === 4) {
    const { Socket } = require("eio6");
    return new Socket(cfg.url, opts);
  }
  throw new Error("eio must be 3 or 4, not " + cfg.eio);
}

// Received data -> {text} | {binary: base64}, whatever shape the client version hands over.
// An empty text message is the bare packet "4" on the wire, which both clients' parsers decode
// as a message whose data is undefined: that is reported as {text: ""}.
function describe(data) {
  if (data === undefined) return { text: "" };
  if (typeof data === "string") return { text: data };
  if (Buffer.isBuffer(data)) return { binary: data.toString("base64") };
  if (data instanceof ArrayBuffer) return { binary: Buffer.from(data).toString("base64") };
  if (ArrayBuffer.isView(data)) {
    return { binary: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") };
  }
  return { unexpected: Object.prototype.toString.call(data), value: String(data) };
}

// {text} | {binary} -> what socket.send takes. Both client versions accept a Buffer in node
// (engine.io-client@3's node parser encodes Buffers; @6 accepts any ArrayBuffer view).
function payload(msg) {
  if (Object.prototype.hasOwnProperty.call(msg, "text")) return msg.text;
  if (Object.prototype.hasOwnProperty.call(msg, "binary")) return Buffer.from(msg.binary, "base64");
  throw new Error("message without text or binary: " + JSON.stringify(msg));
}

function describeError(err) {
  if (err === undefined || err === null) return null;
  if (typeof err === "string") return { message: err };
  const out = {};
  if (err.message !== undefined) out.message = String(err.message);
  else if (typeof err.toString === "function" && err.toString !== Object.prototype.toString) out.message = String(err);
  for (const key of ["type", "code"]) {
    if (err[key] !== undefined) out[key] = err[key];
  }
  // TransportError: description is the HTTP status (polling) or an Error/Event (websocket)
  const d = err.description;
  if (d !== undefined) {
    out.description = (typeof d === "number" || typeof d === "string") ? d : String(d && (d.message || d));
  }
  return out;
}

function numbered(template, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    if (Object.prototype.hasOwnProperty.call(template, "binary")) {
      const idx = Buffer.alloc(4);
      idx.writeUInt32BE(i);
      out.push({ binary: Buffer.concat([Buffer.from(template.binary, "base64"), idx]).toString("base64") });
    } else {
      out.push({ text: (template.text || "msg") + "-" + i });
    }
  }
  return out;
}

class Client {
  constructor(index) {
    this.index = index;
    this.result = {
      opened: false, sid: null, transport_at_open: null, final_transport: null,
      upgraded: false, received: [], close_reason: null, errors: [], heartbeats: 0,
    };
    this.stage = "connecting";
    this.closeDescription = null;
    this.waiters = [];
    const before = cfg.count ? numbered((cfg.messages || [{ text: "msg" }])[0], cfg.count) : (cfg.messages || []);
    this.before = before;
    this.after = cfg.after_upgrade || [];
    this.expected = before.concat(this.after);
    this.waitUpgrade = Boolean(cfg.wait_upgrade || this.after.length);
  }

  snapshot() {
    const r = Object.assign({}, this.result, { stage: this.stage });
    if (this.socket && this.socket.transport) r.final_transport = this.socket.transport.name;
    if (cfg.count) {
      r.received_count = r.received.length;
      r.in_order = this.inOrder();
      delete r.received;
    }
    if (this.closeDescription) r.close_description = this.closeDescription;
    return r;
  }

  inOrder() {
    const got = this.result.received;
    if (got.length !== this.expected.length) return false;
    return got.every((m, i) => JSON.stringify(m) === JSON.stringify(this.expected[i]));
  }

  // Resolves when predicate() holds, re-checked after every socket event (no polling).
  until(predicate) {
    return new Promise((resolve) => {
      if (predicate()) return resolve();
      this.waiters.push({ predicate, resolve });
    });
  }

  poke() {
    this.waiters = this.waiters.filter((w) => {
      if (w.predicate()) { w.resolve(); return false; }
      return true;
    });
  }

  start() {
    const s = this.socket = makeSocket();
    const r = this.result;
    s.on("open", () => {
      r.opened = true;
      r.sid = s.id;
      r.transport_at_open = s.transport && s.transport.name;
      this.poke();
    });
    s.on("upgrade", (transport) => {
      r.upgraded = true;
      r.upgraded_to = transport && transport.name;
      this.poke();
    });
    s.on("upgradeError", (err) => { r.errors.push(Object.assign({ event: "upgradeError" }, describeError(err))); });
    s.on("message", (data) => { r.received.push(describe(data)); this.poke(); });
    s.on(eio === 3 ? "pong" : "ping", () => { r.heartbeats += 1; });
    s.on("error", (err) => {
      r.errors.push(Object.assign({ event: "error" }, describeError(err)));
      if (!this.firstEvent) this.firstEvent = "error";
      this.poke();
    });
    s.on("close", (reason, desc) => {
      if (r.close_reason === null) {
        r.close_reason = reason === undefined ? "" : reason;
        if (desc !== undefined && desc !== null) {
          const d = describeError(desc);
          this.closeDescription = d;
        }
      }
      if (!this.firstEvent) this.firstEvent = "close";
      this.closed = true;
      this.poke();
    });
  }

  async open() {
    this.stage = "connecting";
    this.start();
    await this.until(() => this.result.opened || this.closed);
    if (!this.result.opened) {
      throw new Error("closed before open: " + this.result.close_reason + " " + JSON.stringify(this.result.errors));
    }
  }

  sendAll(list) {
    for (const msg of list) this.socket.send(payload(msg));
  }

  async exchange() {
    const r = this.result;
    this.stage = "sending";
    this.sendAll(this.before);
    if (this.waitUpgrade) {
      this.stage = "waiting for upgrade";
      await this.until(() => r.upgraded || this.closed);
      if (this.after.length && !this.closed) {
        this.stage = "sending after upgrade";
        this.sendAll(this.after);
      }
    }
    this.stage = "waiting for " + this.expected.length + " echoes";
    await this.until(() => r.received.length >= this.expected.length || this.closed);
    if (this.closed) {
      throw new Error("closed while " + this.stage + ": " + r.close_reason);
    }
    await this.close();
  }

  async close() {
    this.stage = "closing";
    this.finalTransport = this.socket.transport && this.socket.transport.name;
    this.socket.close();
    await this.until(() => this.closed);
  }

  output() {
    const out = this.snapshot();
    if (this.finalTransport) out.final_transport = this.finalTransport;
    delete out.stage;
    return out;
  }
}

async function runExpectError() {
  const c = new Client(0);
  states.push(c);
  c.start();
  // the first error or close event; a close that follows an error soon after is reported too
  await c.until(() => c.firstEvent !== undefined);
  if (c.firstEvent === "error" && !c.closed) {
    await Promise.race([c.until(() => c.closed), new Promise((res) => setTimeout(res, 1000))]);
  }
  const out = c.output();
  out.first_event = c.firstEvent;
  out.error = out.errors.length ? out.errors[0] : null;
  return out;
}

async function runWaitClose() {
  const c = new Client(0);
  states.push(c);
  await c.open();
  c.stage = "waiting " + cfg.wait_close_ms + " ms for a close";
  await Promise.race([c.until(() => c.closed), new Promise((res) => setTimeout(res, cfg.wait_close_ms))]);
  const out = c.output();
  out.final_transport = c.socket.transport && c.socket.transport.name;
  if (!c.closed) c.socket.close();
  return out;
}

async function runExchange() {
  const n = cfg.clients || 1;
  const clients = [];
  for (let i = 0; i < n; i++) { const c = new Client(i); clients.push(c); states.push(c); }
  await Promise.all(clients.map((c) => c.open()));
  await Promise.all(clients.map((c) => c.exchange()));
  const outs = clients.map((c) => c.output());
  return n === 1 && !cfg.clients ? outs[0] : { clients: outs };
}

async function main() {
  let out;
  if (cfg.expect_error) out = await runExpectError();
  else if (cfg.wait_close_ms) out = await runWaitClose();
  else out = await runExchange();
  emit(out, 0);
}

main().catch((err) => fail("failed", { message: String(err && err.message || err) }));

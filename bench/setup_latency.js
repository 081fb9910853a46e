// Websocket set-up, phase by phase, with bare TCP sockets (no ws library): `concurrency`
// connections in flight until `total` are set up and held open; prints the rate and, per
// phase, p50/p90 in ms: TCP connect, upgrade request -> 101 with the open packet, CONNECT
// ("40") -> its answer. Driven by bench/setup_latency.py (node setup_latency.js PORT TOTAL
// CONCURRENCY).
"use strict";
const net = require("net");
const [port, total, concurrency] = process.argv.slice(2, 5).map((v) => parseInt(v, 10));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const MASK = Buffer.from([0x5a, 0x17, 0xc3, 0x81]);
const REQUEST = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

function masked(text) {
  const payload = Buffer.from(text);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  MASK.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ MASK[i % 4];
  return frame;
}

// the length of the first whole short frame in `buf`, or -1
function frameLength(buf) {
  return buf.length >= 2 && buf.length >= 2 + (buf[1] & 0x7f) ? 2 + (buf[1] & 0x7f) : -1;
}

const phases = { connect: [], open: [], connected: [] };
const held = [];
let started = 0;
const began = now();

function one() {
  if (started >= total) return;
  started++;
  const t0 = now();
  let sent, opened, buf = Buffer.alloc(0), state = "head";
  const sock = net.connect(port, "127.0.0.1");
  sock.setNoDelay(true);
  sock.on("connect", () => { sent = now(); phases.connect.push(sent - t0); sock.write(REQUEST); });
  sock.on("data", (data) => {
    buf = Buffer.concat([buf, data]);
    if (state === "head") {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const rest = buf.subarray(end + 4);
      const length = frameLength(rest);
      if (length < 0) return;
      opened = now();
      phases.open.push(opened - sent);
      buf = rest.subarray(length);
      state = "connect";
      sock.write(masked("40"));
    }
    if (state === "connect" && frameLength(buf) >= 0) {
      phases.connected.push(now() - opened);
      state = "open";
      held.push(sock);
      if (held.length === total) finish(); else one();
    }
  });
  sock.on("error", (err) => { console.error(err.message); process.exit(1); });
}

function pct(values, p) {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2);
}

function finish() {
  const seconds = (now() - began) / 1000;
  const parts = Object.entries(phases).map(([name, v]) => `${name} ${pct(v, 0.5)}/${pct(v, 0.9)}`);
  console.log(`${(total / seconds).toFixed(0)}/s  p50/p90 ms: ${parts.join("  ")}`);
  held.forEach((sock) => sock.destroy());
  process.exit(0);
}

for (let i = 0; i < concurrency; i++) one();

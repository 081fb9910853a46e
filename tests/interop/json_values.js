// JSON values at the edge of what JavaScript can send, broadcast from one socket.io-client
// 4 to a socket.io-client 4 and a 2, and one malformed packet from a fourth client.
// Prints ONE JSON line (the last line of stdout) with what each client observed.
//
// usage: node json_values.js '{"url": "...", "transports": ["polling"], "timeout_ms": 20000}'
// `transports` is used by the two receivers; the senders use websocket. Steps:
//  1. the sender emits "broadcast" with lone surrogates (socket.io-client escapes them);
//  2. it writes `2["broadcast",1e400]` through its engine (the packet's text, as is) (JSON.stringify cannot write a
//     number beyond a double; JSON.parse reads it as Infinity, which is sent back as null);
//  3. a second sender writes `2["broadcast",NaN]`, which is not JSON: the server closes it;
//  4. the sender broadcasts "last"; each receiver then acks an "ack-echo" with a lone
//     surrogate, showing it is still connected.
// Every wait has a timeout (timeout_ms for the whole run).
"use strict";
const sio2 = require("sio2");
const { io: sio4 } = require("sio4");

const cfg = JSON.parse(process.argv[2]);
const RECEIVER_TRANSPORTS = cfg.transports || ["websocket"];
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: "timeout", seen }));
  process.exit(2);
}, cfg.timeout_ms || 20000);

const seen = { r4: [], r2: [], reasons: {} };

function connect(label, make, transports) {
  const socket = make(cfg.url, { forceNew: true, transports, reconnection: false });
  socket.on("disconnect", (reason) => { seen.reasons[label] = reason; });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(label + ": " + err.message)));
  });
}

function until(pred) {
  return new Promise((resolve) => {
    const check = () => (pred() ? resolve() : setTimeout(check, 5));
    check();
  });
}

function ackEcho(socket, ...values) {
  return new Promise((resolve) => socket.emit("ack-echo", ...values, (...answer) => resolve(answer)));
}

async function main() {
  const sender = await connect("sender", sio4, ["websocket"]);
  const r4 = await connect("r4", sio4, RECEIVER_TRANSPORTS);
  const r2 = await connect("r2", sio2, RECEIVER_TRANSPORTS);
  const bad = await connect("bad", sio4, ["websocket"]);
  r4.on("bcast", (value) => seen.r4.push(value));
  r2.on("bcast", (value) => seen.r2.push(value));

  sender.emit("broadcast", "\ud83d");
  sender.emit("broadcast", ["a\udc00b", { "\udfff": "\ud83d\ude00x\ud800" }]);
  sender.io.engine.write('2["broadcast",1e400]');
  const badGone = new Promise((resolve) => bad.once("disconnect", resolve));
  bad.io.engine.write('2["broadcast",NaN]');
  await badGone;
  sender.emit("broadcast", "last");
  await until(() => seen.r4.includes("last") && seen.r2.includes("last"));
  seen.acks = { r4: await ackEcho(r4, "\udc00", 5), r2: await ackEcho(r2, "\udc00", 5) };
  seen.connected = { sender: sender.connected, r4: r4.connected, r2: r2.connected,
                     bad: bad.connected };
  for (const socket of [sender, r4, r2]) socket.close();
  clearTimeout(timer);
  console.log(JSON.stringify(seen));
  process.exit(0);
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err && err.stack || err), seen }));
  process.exit(1);
});

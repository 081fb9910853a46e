// Connection state recovery with socket.io-client@4 against a conformance server started with
// recovery on (examples/conformance_app.py --recovery S, or reference_server.js PORT PI PT S).
//
// usage: node recovery_scenario.js '<json config>'
// config: {url, room, step_timeout_ms}
// Client A joins `room` and gets one room broadcast; then its TCP connection is cut (the
// websocket's net.Socket destroyed: no close frame). Once the server reports A's disconnect
// reason, client B sends what A misses: a room broadcast, a private message to A's id, a
// broadcast to everyone but B, one room broadcast A is not in, and one more room broadcast.
// The script prints {"stage": "cut", ...} and waits for a line on stdin (the test may let
// the window pass or restart the server meanwhile), then reconnects A (the same Socket
// object, so it offers its pid and last offset) and prints ONE JSON line with what A saw.
// Every wait has a timeout (step_timeout_ms, 5000 by default).
"use strict";
const readline = require("readline");
const { io } = require("sio4");

const cfg = JSON.parse(process.argv[2]);
const STEP_MS = cfg.step_timeout_ms || 5000;
const ROOM = cfg.room || `r-${process.pid}`;
const OPTS = { transports: ["websocket"], reconnection: false, forceNew: true };

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout (${ms} ms) waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve));
const ask = (socket, event, ...args) =>
  withTimeout(new Promise((resolve) => socket.emit(event, ...args, resolve)), `ack of ${event}`);

// A socket recording every event it gets, with resolvers for "the next event named X".
function client() {
  const socket = io(cfg.url, OPTS);
  const c = { socket, events: [], waiters: [] };
  socket.onAny((name, ...args) => {
    c.events.push([name, ...args]);
    c.waiters = c.waiters.filter((w) => !w(name, args));
  });
  c.next = (name) => withTimeout(new Promise((resolve) => {
    c.waiters.push((n, args) => (n === name ? (resolve(args), true) : false));
  }), `event ${name}`);
  return c;
}

async function main() {
  const a = client();
  const b = client();
  const welcomes = [a.next("welcome"), b.next("welcome")]; // both waited for from the start
  const [[welcomeA]] = await Promise.all(welcomes);
  await ask(a.socket, "join", ROOM);
  const before = a.next("room-msg");
  b.socket.emit("to-room", ROOM, "before");
  await before;
  const idBefore = a.socket.id;
  const cut = once(a.socket, "disconnect");
  a.socket.io.engine.transport.ws._socket.destroy(); // a TCP cut, no close frame
  const clientReason = await withTimeout(cut, "A's disconnect");
  let serverReason = null;
  const deadline = Date.now() + STEP_MS;
  while (serverReason === null) { // the server has seen A go before anything is sent to it
    if (Date.now() > deadline) throw new Error("the server did not see A's disconnect");
    serverReason = await ask(b.socket, "disconnect-reason-of", idBefore);
  }
  b.socket.emit("to-room", ROOM, "m1");
  b.socket.emit("private", idBefore, "m2");
  b.socket.emit("broadcast", "m3");
  b.socket.emit("to-room", `${ROOM}-elsewhere`, "not for A");
  b.socket.emit("to-room", ROOM, "m4");
  await ask(b.socket, "ack-echo"); // B's events run in order: everything above was sent
  b.socket.disconnect();
  const mark = a.events.length;
  console.log(JSON.stringify({ stage: "cut", id: idBefore }));
  await withTimeout(once(readline.createInterface({ input: process.stdin }), "line"),
    "the test's go", 30000);
  const connected = once(a.socket, "connect");
  const welcome = a.next("welcome");
  a.socket.connect();
  await withTimeout(connected, "A's reconnection");
  const recovered = a.socket.recovered;
  const [welcomeAfter] = await welcome;
  const rooms = await ask(a.socket, "join", `${ROOM}-check`);
  console.log(JSON.stringify({
    welcome_before: welcomeA, id_before: idBefore, id_after: a.socket.id,
    client_reason: clientReason, server_reason: serverReason, recovered: !!recovered,
    welcome_after: welcomeAfter, rooms_after: rooms, missed: a.events.slice(mark),
  }));
  a.socket.disconnect();
  process.exit(0);
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err && err.stack || err) }));
  process.exit(1);
});

// Two acked "echo" emits over polling with a pause between them, longer than the server's
// keep-alive timeout: the official clients must carry on over a new connection.
//
// usage: node pause_between_acks.js '{"url": ..., "client": 2|4, "pause_ms": 2500}'
// prints ONE JSON line: {"acks": [first, second]} or {"error": "..."}; every wait is bounded.
"use strict";
const cfg = JSON.parse(process.argv[2]);
const io = cfg.client === 2 ? require("sio2") : require("sio4").io;

const socket = io(cfg.url, { transports: ["polling"], forceNew: true, reconnection: false });
const fail = (message) => {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
};
const timer = setTimeout(() => fail("timeout"), cfg.pause_ms + 15000);
const echo = (value) => new Promise((resolve) => socket.emit("echo", value, resolve));

socket.on("connect_error", (err) => fail("connect_error: " + err.message));
socket.on("disconnect", (reason) => fail("disconnect: " + reason));
socket.on("connect", async () => {
  const first = await echo("one");
  await new Promise((resolve) => setTimeout(resolve, cfg.pause_ms));
  const second = await echo("two");
  socket.off("disconnect");
  socket.close();
  clearTimeout(timer);
  console.log(JSON.stringify({ acks: [first, second] }));
});

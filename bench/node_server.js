// The benchmark handlers on the Node socket.io@4 server (tests/interop/node_modules), the
// fifth server that bench/run.py compares; bench/servers.py starts it.
// usage: node bench/node_server.js PORT [PING_INTERVAL_MS PING_TIMEOUT_MS MAX_HTTP_BUFFER_SIZE]
"use strict";
const path = require("path");
const { createRequire } = require("module");

const interop = createRequire(path.join(__dirname, "..", "tests", "interop", "package.json"));
const { Server } = interop("socket.io");

const port = Number(process.argv[2]);
const io = new Server(port, {
  cors: { origin: "*" },
  pingInterval: Number(process.argv[3] || 25000),
  pingTimeout: Number(process.argv[4] || 20000),
  maxHttpBufferSize: Number(process.argv[5] || 1e6),
});

io.on("connection", (socket) => {
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack("ok");
  });
  socket.on("bcast", (room, payload) => io.to(room).emit("msg", payload));
});

process.on("SIGTERM", () => process.exit(0));

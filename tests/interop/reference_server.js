// The conformance contract (../shared/docs/conformance-app.md) on the reference Node
// server socket.io@4, with Engine.IO 3 clients allowed.
// Usage: node reference_server.js PORT [PING_INTERVAL_MS PING_TIMEOUT_MS [RECOVERY_S]]
//   (default 2000 2000, no recovery; RECOVERY_S: connection state recovery with that window,
//   middlewares skipped, and `welcome` carries `recovered`, as conformance_app.py --recovery)
const { Server } = require("socket.io");
const port = Number(process.argv[2]);
const pingInterval = Number(process.argv[3] || 2000);
const pingTimeout = Number(process.argv[4] || 2000);
const recovery = process.argv[5] === undefined ? null : Number(process.argv[5]);
const io = new Server(port, {
  allowEIO3: true, cors: { origin: "*" }, pingInterval, pingTimeout,
  maxHttpBufferSize: 1e6, path: "/socket.io/",
  ...(recovery === null ? {} : {
    connectionStateRecovery: { maxDisconnectionDuration: recovery * 1000, skipMiddlewares: true },
  }),
});
let lastReason = null;
const reasons = new Map();  // socket id -> disconnect reason (the newest 1000)
io.on("connection", (socket) => {
  socket.emit("welcome", recovery === null ? { id: socket.id }
    : { id: socket.id, recovered: socket.recovered });
  socket.use(([event], next) => (event === "forbidden" ? next(new Error("forbidden event")) : next()));
  let lastError = null;
  socket.on("error", (err) => { lastError = err.message; });
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("ack-echo", (...args) => { const ack = args.pop(); ack(...args); });
  socket.on("ask-client", () => socket.emit("question", "how many?", (v) => socket.emit("answer-was", v)));
  const roomsOf = () => [...socket.rooms].sort();
  socket.on("join", (room, ack) => { socket.join(room); if (ack) ack(roomsOf()); });
  socket.on("leave", (room, ack) => { socket.leave(room); if (ack) ack(roomsOf()); });
  socket.on("to-room", (room, payload) => io.to(room).emit("room-msg", payload));
  socket.on("to-others-in-room", (room, payload) => socket.to(room).emit("room-msg", payload));
  socket.on("broadcast", (payload) => socket.broadcast.emit("bcast", payload));
  socket.on("private", (target, payload) => io.to(target).emit("private", { from: socket.id, payload }));
  socket.on("list-clients", async (ack) => ack([...(await io.allSockets())].sort()));
  socket.on("disconnect-me", (ack) => { if (ack) ack(); socket.disconnect(true); });
  socket.on("message", (...args) => socket.send("echo:" + args[0]));
  socket.on("last-disconnect-reason", (ack) => ack(lastReason));
  socket.on("disconnect-reason-of", (id, ack) => ack(reasons.has(id) ? reasons.get(id) : null));
  socket.on("last-error", (ack) => ack(lastError));
  socket.on("disconnect", (reason) => {
    lastReason = reason;
    reasons.set(socket.id, reason);
    if (reasons.size > 1000) reasons.delete(reasons.keys().next().value);
  });
});
const chat = io.of("/chat");
chat.use((socket, next) => {
  const token = (socket.handshake.auth || {}).token || socket.handshake.query.token;
  next(token === "secret" ? undefined : new Error("not authorized"));
});
chat.on("connection", (socket) => socket.on("echo", (...args) => socket.emit("echo", ...args)));
console.log("listening on " + port);

// Scenarios of the conformance app's `disconnect-reason-of` and `last-error` events, and of a
// long-polling client the server drops, with an official client. The clients, config, driver
// and report come from sio_scenario.js (same usage and output).
"use strict";
const lib = require("./sio_scenario.js");

const { cfg, GEN, open, openAll } = lib;
const s = lib.scenarios;
const STEP_MS = cfg.step_timeout_ms || 5000;

// Nothing tells `reader` when the server has handled another connection's disconnect: ask
// (one round trip per try) until it reports a reason, for at most STEP_MS.
async function reasonOf(reader, id) {
  const deadline = Date.now() + STEP_MS;
  let reason;
  do {
    [reason] = await reader.call("disconnect-reason-of", id);
  } while (reason === null && Date.now() < deadline);
  return reason;
}

// disconnect-reason-of: null before, then the reason, for a client disconnect and for a
// closed transport; unknown ids are null
s["reason-of"] = async () => {
  const [a, b, c] = await openAll(3);
  const out = {};
  out.before = await a.call("disconnect-reason-of", b.socket.id);
  out.unknown = await a.call("disconnect-reason-of", "no-such-socket");
  const [bId, cId] = [b.socket.id, c.socket.id];
  b.socket.disconnect();
  out.b = await reasonOf(a, bId);
  c.socket.io.engine.close(); // the whole connection goes, without a Socket.IO DISCONNECT
  out.c = await reasonOf(a, cId);
  out.a_still = await a.call("disconnect-reason-of", a.socket.id);
  return out;
};

// last-error: null, then the message the packet middleware refused `forbidden` with; it
// is this socket's own
s["last-error"] = async () => {
  const [a, b] = await openAll(2);
  const out = {};
  out.before = await a.call("last-error");
  a.emit("forbidden");
  out.after = await a.call("last-error");
  out.other_socket = await b.call("last-error");
  out.still_usable = await a.call("ack-echo", "alive");
  return out;
};

// dropped: the server drops a long-polling client, by ping timeout (cfg.how = "ping-timeout":
// the client stops answering the heartbeat) or by disconnect-me; reports the reasons the
// client's engine and socket give, and the one the server recorded (asked by an observer)
s.dropped = async () => {
  const observer = open({ transports: ["websocket"], label: "observer" });
  const a = open({ transports: ["polling"], label: "dropped" });
  await Promise.all([observer.connected(), a.connected()]);
  const id = a.socket.id;
  const engine = a.socket.io.engine;
  const out = { engine_close: [] };
  engine.on("close", (reason) => out.engine_close.push(reason));
  let keepAlive = null;
  if (cfg.how === "ping-timeout") {
    if (GEN === 4) { // EIO 4: the server pings; drop the client's pongs
      const send = engine._sendPacket.bind(engine);
      engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
    } else { // EIO 3: the client pings; stop it, and keep its own timer fed with echoes
      engine.setPing = () => {};
      clearTimeout(engine.pingIntervalTimer);
      clearTimeout(engine.pingTimeoutTimer);
      keepAlive = setInterval(() => a.emit("echo", "keep-alive"), 300);
    }
  } else {
    a.emit("disconnect-me");
  }
  try {
    out.socket_reason = await a.disconnected();
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
  out.server_reason = await reasonOf(observer, id);
  return out;
};

lib.run();

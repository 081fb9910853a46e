// permessage-deflate with socket.io-client 2 and 4 (their `ws` offers it by default, with a
// threshold of 1024 bytes) against tests/interop/deflate_app.py.
//
// usage: node deflate_scenario.js '<json config>'
// config: {url, client: "sio2"|"sio4", transports: [...], step_timeout_ms}
// Connects (waiting for the upgrade when polling comes first), then prints ONE JSON line:
// {client_extensions, server_extensions, echoed_big, echoed_small, big_items, binary_ok}.
// Every wait has a timeout (step_timeout_ms, 5000 by default).
"use strict";

const cfg = JSON.parse(process.argv[2]);
const STEP_MS = cfg.step_timeout_ms || 5000;
const lib = require(cfg.client);
const connect = lib.io || lib;

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout (${STEP_MS} ms) waiting for ${what}`)),
        STEP_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

const ask = (socket, event, ...args) =>
  withTimeout(new Promise((resolve) => socket.emit(event, ...args, (...r) => resolve(r))),
    `ack of ${event}`);

async function main() {
  const socket = connect(cfg.url, { transports: cfg.transports, reconnection: false,
                                    forceNew: true });
  const engine = socket.io.engine;
  await withTimeout(new Promise((resolve, reject) => {
    socket.on("connect", resolve);
    socket.on("connect_error", reject);
  }), "connect");
  if (engine.transport.name !== "websocket") {
    await withTimeout(new Promise((resolve) => engine.once("upgrade", resolve)), "upgrade");
  }
  const ws = engine.transport.ws;
  const big = "x".repeat(5000) + "é".repeat(1000);
  const [serverExtensions] = await ask(socket, "extensions");
  const [echoedBig] = await ask(socket, "ack-echo", big);
  const [echoedSmall] = await ask(socket, "ack-echo", "small");
  const bin = Buffer.alloc(4096, 7);
  const [echoedBin] = await ask(socket, "ack-echo", bin);
  const gotBig = withTimeout(new Promise((resolve) => socket.once("big", resolve)), "big");
  socket.emit("ask-big", 20000);
  const bigObject = await gotBig;
  console.log(JSON.stringify({
    transport: engine.transport.name,
    client_extensions: String(ws.extensions === undefined ? "" : ws.extensions),
    server_extensions: serverExtensions,
    echoed_big: echoedBig === big,
    echoed_small: echoedSmall === "small",
    binary_ok: Buffer.isBuffer(echoedBin) ? echoedBin.equals(bin)
      : Buffer.from(echoedBin).equals(bin),
    big_items: bigObject.items.length,
  }));
  socket.close();
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err && err.stack || err) }));
  process.exit(1);
});

// Connects `rounds` times over polling with the websocket upgrade and, at once, asks the
// server to disconnect it (`disconnect-me` with an ack): the ack and the server's
// disconnect must arrive even when the server closes while the upgrade is under way.
// argv: {url, client: 2|4, rounds}; prints {acked, reasons}
const cfg = JSON.parse(process.argv[2]);
const io = require(cfg.client === 2 ? "sio2" : "sio4");
const connect = cfg.client === 2 ? io : io.io;

function once() {
  return new Promise((resolve) => {
    const socket = connect(cfg.url, { transports: ["polling", "websocket"], forceNew: true,
      reconnection: false });
    let acked = false;
    const limit = setTimeout(() => { socket.close(); resolve({ acked, reason: "timeout" }); }, 5000);
    socket.on("connect", () => socket.emit("disconnect-me", () => { acked = true; }));
    socket.on("disconnect", (reason) => {
      clearTimeout(limit);
      socket.close();
      resolve({ acked, reason });
    });
  });
}

(async () => {
  const acked = [];
  const reasons = [];
  for (let i = 0; i < cfg.rounds; i++) {
    const result = await once();
    acked.push(result.acked);
    reasons.push(result.reason);
  }
  console.log(JSON.stringify({ acked, reasons }));
  process.exit(0);
})();

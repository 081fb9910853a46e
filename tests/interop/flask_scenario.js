// Drives tests/flask_sio/netapp.py with an official client; prints one JSON line.
// config: {url, client: 2|4, transports, cookie?, token?, timeout_ms}
// token goes in the auth payload (client 4) or the handshake query (client 2, which has no auth)
const cfg = JSON.parse(process.argv[2]);
const out = { events: [] };
const done = (extra) => { Object.assign(out, extra || {}); console.log(JSON.stringify(out)); process.exit(0); };
setTimeout(() => { console.log(JSON.stringify({ error: "timeout", partial: out })); process.exit(2); },
  cfg.timeout_ms || 10000);

const opts = { transports: cfg.transports, forceNew: true, reconnection: false };
if (cfg.cookie) opts.extraHeaders = { Cookie: cfg.cookie };
let socket;
if (cfg.client === 2) {
  if (cfg.token) opts.query = { token: cfg.token };
  socket = require("sio2")(cfg.url, opts);
} else {
  if (cfg.token) opts.auth = { token: cfg.token };
  socket = require("sio4").io(cfg.url, opts);
}
socket.on("connect_error", (err) => done({ connect_error: err.message, data: err.data || null }));
socket.on("error", (err) => done({ error: err }));
socket.on("notice", (text) => { out.events.push(["notice", text]); done(); });
socket.on("question", (q, ack) => ack(q * 2));
socket.on("welcome", (user) => {
  out.welcome = user;
  socket.emit("whoami", (me) => {
    out.whoami = me;
    socket.emit("echo", "a", { b: [1, 2] }, (...res) => {
      out.echo = res;
      socket.emit("ask", 21);
    });
  });
});
socket.on("answered", (answer) => {
  out.answered = answer;
  if (cfg.notify_cmd) {
    require("child_process").execFileSync(cfg.notify_cmd[0], cfg.notify_cmd.slice(1),
      { stdio: "inherit", env: Object.assign({}, process.env, { PYTHONPATH: require("path").resolve(__dirname, "../..") }) });
  } else if (cfg.notify_url) {
    require("http").get(cfg.notify_url, (res) => { out.notify_status = res.statusCode; res.resume(); });
  } else {
    done();
  }
});

// Runs a list of steps with several socket.io-client@4 clients; prints one JSON line.
// config: {clients: {name: url | {url, auth}}, steps: [...], timeout_ms}
//   (a url may end in a namespace, e.g. http://127.0.0.1:5000/chat)
// steps: {do:"emit", client, event, args, ack:bool, as:key}   (ack result stored under results[as])
//          with ack and until:{contains:[...], lacks:[...]}, the emit is repeated until the
//          ack's list holds every `contains` item and no `lacks` item: for state that another
//          node reaches through Redis a moment later (socketsJoin & co. are fire-and-forget)
//        {do:"wait", client, event, count}                   (until `count` events of that name)
//        {do:"quiet", ms}                                     (let stray messages arrive: for
//                                                              checks that something did NOT come)
//        {do:"close", client}
//        {do:"exec", cmd:[...]}                             (run a program to completion)
//        {do:"wait-disconnect", client}
const cfg = JSON.parse(process.argv[2]);
const { io } = require("sio4");
const results = {};
const received = {};
const sockets = {};
const fail = (why) => { console.log(JSON.stringify({ error: why, results, received })); process.exit(2); };
setTimeout(() => fail("timeout"), cfg.timeout_ms || 15000);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function waitFor(predicate, what) {
  return new Promise((resolve) => {
    const check = () => (predicate() ? resolve() : setTimeout(check, 5));
    check();
  });
}

const resolveId = (a) => (typeof a === "string" && a.startsWith("$id:") ? sockets[a.slice(4)].id : a);

async function main() {
  for (const [name, spec] of Object.entries(cfg.clients)) {
    const { url, auth } = typeof spec === "string" ? { url: spec } : spec;
    const s = io(url, { transports: cfg.transports || ["websocket"], forceNew: true, reconnection: false, auth });
    received[name] = [];
    s.onAny((event, ...args) => {
      if (typeof args[args.length - 1] === "function") {
        const ack = args.pop();
        ack(name);
      }
      received[name].push([event, ...args]);
    });
    sockets[name] = s;
  }
  await waitFor(() => Object.values(sockets).every((s) => s.connected));
  results.ids = Object.fromEntries(Object.entries(sockets).map(([n, s]) => [n, s.id]));
  for (const step of cfg.steps) {
    const s = sockets[step.client];
    if (step.do === "emit") {
      const args = (step.args || []).map(resolveId);
      const ask = () => new Promise((resolve) => s.emit(step.event, ...args, (...r) => resolve(r.length === 1 ? r[0] : r)));
      if (step.ack) {
        let answer = await ask();
        if (step.until) {
          const contains = (step.until.contains || []).map(resolveId);
          const lacks = (step.until.lacks || []).map(resolveId);
          const reached = (r) => Array.isArray(r) && contains.every((x) => r.includes(x)) && !lacks.some((x) => r.includes(x));
          while (!reached(answer)) {
            await sleep(10);
            answer = await ask();
          }
        }
        results[step.as || step.event] = answer;
      } else {
        s.emit(step.event, ...args);
      }
    } else if (step.do === "wait") {
      await waitFor(() => received[step.client].filter((e) => e[0] === step.event).length >= (step.count || 1));
    } else if (step.do === "quiet") {
      await sleep(step.ms);
    } else if (step.do === "exec") {
      require("child_process").execFileSync(step.cmd[0], step.cmd.slice(1), { stdio: "inherit" });
    } else if (step.do === "close") {
      s.disconnect();
    } else if (step.do === "wait-disconnect") {
      await waitFor(() => !s.connected);
    }
  }
  console.log(JSON.stringify({ results, received }));
  process.exit(0);
}
main();

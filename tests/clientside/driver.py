"""Runs sio_core.client scenarios in a monkey-patched process; prints JSON lines.

python tests/clientside/driver.py '<json config>'
"""
from gevent import monkey

monkey.patch_all()

import base64  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from sio_core import AckTimeout, Disconnected, Server, runtime  # noqa: E402
from sio_core.client import ConnectionError, SocketIOClient, emit_once  # noqa: E402
from sio_core.serving import make_server  # noqa: E402


def out(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def b64(value):
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, (list, tuple)):
        return [b64(v) for v in value]
    if isinstance(value, dict):
        return {k: b64(v) for k, v in value.items()}
    return value


def exchange(cfg) -> None:
    client = SocketIOClient(reconnection=False)
    answer = runtime.AsyncResult()
    welcome = runtime.AsyncResult()
    client.on("welcome", lambda data: welcome.set(data))
    client.on("question", lambda q: 42)
    client.on("answer-was", lambda v: answer.set(v))
    echoes = runtime.Queue()
    client.on("echo", lambda *args: echoes.put(args))
    client.on("echo", lambda *args: echoes.put(args), namespace="/chat")
    with client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"],
                       namespaces=["/", "/chat"], auth={"token": "secret"})
        result = {"welcome_matches": welcome.get(timeout=5)["id"] == client.sid}
        result["ack"] = b64(client.call("ack-echo", ("x", {"bin": b"\x00\xff"}, ["ü😀"]),
                                        timeout=5))
        client.emit("ask-client")
        result["answer"] = answer.get(timeout=5)
        client.emit("echo", (b"\x01\x02", {"n": [b"\x03"]}))
        result["echo"] = b64(echoes.get(timeout=5))
        client.emit("echo", "in chat", namespace="/chat")
        result["chat_echo"] = echoes.get(timeout=5)
        result["listed"] = client.sid in client.call("list-clients", timeout=5)
        result["chat_sid"] = client.get_sid("/chat")
        result["transport"] = client.transport()
        ordered = runtime.Queue()
        client.on("echo", lambda n: ordered.put(n))
        for i in range(200):
            client.emit("echo", i)
        result["ordered"] = [ordered.get(timeout=5) for _ in range(200)] == list(range(200))
        try:
            client.call("disconnect-me", timeout=5)
            client.call("ack-echo", 1, timeout=5)
            result["after_kick"] = "no error"
        except Disconnected:
            result["after_kick"] = "Disconnected"
        result["stopped"] = client.wait(timeout=5)
    out(**result)


def refused(cfg) -> None:
    client = SocketIOClient(reconnection=False)
    try:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"],
                       namespaces=["/chat"], auth={"token": "wrong"})
        out(error=None)
    except ConnectionError as exc:
        out(error=str(exc))


def timeout(cfg) -> None:
    with SocketIOClient(reconnection=False) as client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
        try:
            client.call("no-such-event", timeout=0.5)
            out(error=None)
        except AckTimeout as exc:
            out(error=type(exc).__name__)
        out(once=emit_once(cfg["url"], "ack-echo", ("a", 1), eio=cfg["eio"]))


def reconnect(cfg) -> None:
    client = SocketIOClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0)
    connects = runtime.Queue()
    reasons = []
    client.on("connect", lambda: connects.put(client.sid))
    client.on("disconnect", lambda reason: reasons.append(reason))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    first = connects.get(timeout=5)
    out(ready=True, sid=first)
    second = connects.get(timeout=30)  # the test restarts the server meanwhile
    try:
        answer = client.call("ack-echo", "again", timeout=5)
    except Exception:
        print("disconnect reasons so far: %r" % reasons, file=sys.stderr)
        raise
    client.disconnect()
    out(first=first, second=second, answer=answer, reasons=reasons,
        different=first != second)


class TaggingJson:
    """A ``json=`` object: sets go out as sorted lists, floats come back as strings."""

    @staticmethod
    def dumps(value):
        return json.dumps(value, default=sorted, separators=(",", ":"))

    @staticmethod
    def loads(text):
        return json.loads(text, parse_float=lambda f: "float:" + f)


def api(cfg) -> None:
    """Handlers, emits and options other scenarios leave out."""
    client = SocketIOClient(reconnection=False, json=TaggingJson)
    result = {"connected_before": client.connected}
    greeted = runtime.AsyncResult()
    caught = runtime.Queue()
    acked = runtime.AsyncResult()
    messages = runtime.Queue()

    @client.event
    def welcome(data):  # registered under the function's name
        greeted.set(data)

    client.on("*", lambda event, *args: caught.put([event, *args]))  # the rest
    client.on("message", lambda data: messages.put(data))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    result["connected_after"] = client.connected
    result["welcome_is_mine"] = greeted.get(timeout=5) == {"id": client.sid}
    client.emit("ack-echo", ("a", 2.5, {3, 1, 2}),
                callback=lambda *values: acked.set(list(values)))
    result["callback"] = acked.get(timeout=5)
    client.send("hi")
    result["message"] = messages.get(timeout=5)
    client.emit("echo", ("x", 1))
    result["caught"] = caught.get(timeout=5)
    result["caught_more"] = caught.qsize()
    client.disconnect()
    result["connected_at_end"] = client.connected
    try:
        SocketIOClient(reconnection=False).connect(cfg["url"], transports=cfg["transports"],
                                                   eio=cfg["eio"], socketio_path="elsewhere")
        result["wrong_path"] = None
    except ConnectionError as exc:
        result["wrong_path"] = type(exc).__name__
    out(**result)


def local_server(cfg) -> None:
    """``connect(headers=, socketio_path=, wait_timeout=)`` against a server started here."""
    import socket

    from sio_core import Server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    io = Server(path="/custom/path", ping_interval=5, ping_timeout=5)
    io.on("connection", lambda socket: socket.on(
        "header", lambda name, ack: ack(socket.handshake.headers.get(name))))

    @io.of("/slow").use
    def slow(socket, next):
        runtime.sleep(3)
        next()

    io.listen(port)
    url = "http://127.0.0.1:%d" % port
    result = {}
    with SocketIOClient(reconnection=False) as client:
        client.connect(url, headers={"X-Test": "yes"}, socketio_path="custom/path",
                       transports=cfg["transports"], eio=cfg["eio"])
        result["header"] = client.call("header", "x-test", timeout=5)
    started = time.monotonic()
    try:
        SocketIOClient(reconnection=False).connect(url, socketio_path="/custom/path/",
                                                   namespaces=["/slow"], wait_timeout=0.5,
                                                   transports=cfg["transports"], eio=cfg["eio"])
        result["slow"] = None
    except ConnectionError as exc:
        result["slow"] = str(exc)
    result["slow_seconds"] = time.monotonic() - started
    io.close()
    out(**result)


class Records(logging.Handler):
    """Collects sio_core.client's log messages; ``wanted`` is set when one contains ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(logging.DEBUG)
        self.messages = []
        self.key = key
        self.wanted = runtime.Event()

    def emit(self, record) -> None:
        message = record.getMessage()
        self.messages.append(message)
        if self.key in message:
            self.wanted.set()


def give_up(cfg) -> None:
    """``reconnection_attempts``, ``logger``: the test stops the server after ``ready``."""
    records = Records("giving up")
    logging.getLogger("sio_core.client").addHandler(records)
    client = SocketIOClient(reconnection_attempts=2, reconnection_delay=0.1,
                            reconnection_delay_max=0.2, randomization_factor=0,
                            logger=cfg["logger"], request_timeout=1)
    disconnects = []
    client.on("disconnect", lambda reason: disconnects.append(reason))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    out(ready=True)
    stopped = client.wait(timeout=20)
    out(stopped=stopped, disconnects=len(disconnects), connected=client.connected,
        log=[m.split(":")[0] for m in records.messages])


def idle_then_restart(cfg) -> None:
    """Idle for ``idle`` seconds (longer than pingInterval + pingTimeout) on ``/`` and
    ``/chat``, then survive the server's restart (the test restarts it after ``ready``)."""
    client = SocketIOClient(reconnection_delay=0.2, reconnection_delay_max=1.0)
    connects = runtime.Queue()
    disconnects = []

    def watch(ns):
        client.on("connect", lambda: connects.put(ns), namespace=ns)
        client.on("disconnect", lambda reason: disconnects.append([ns, reason]), namespace=ns)

    watch("/")
    watch("/chat")
    echoes = runtime.Queue()
    client.on("echo", lambda value: echoes.put(value), namespace="/chat")

    def both_answer():
        client.emit("echo", "chat", namespace="/chat")  # /chat has no ack-echo
        return [client.call("ack-echo", "root", timeout=5), echoes.get(timeout=5)]
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"],
                   namespaces=["/", "/chat"], auth={"token": "secret"})
    first = sorted(connects.get(timeout=5) for _ in range(2))
    sids = [client.get_sid("/"), client.get_sid("/chat")]
    client.sleep(cfg["idle"])
    idle = {"connects": first, "disconnects": list(disconnects), "connected": client.connected,
            "same_sids": [client.get_sid("/"), client.get_sid("/chat")] == sids,
            "echo": both_answer()}
    out(ready=True, idle=idle)
    again = sorted(connects.get(timeout=30) for _ in range(2))
    after = {"connects": again, "disconnects": sorted(ns for ns, _ in disconnects),
             "new_sids": client.get_sid("/") != sids[0] and client.get_sid("/chat") != sids[1],
             "echo": both_answer()}
    client.disconnect()
    out(after=after)


def stalled_server(cfg) -> None:
    """The test SIGSTOPs the server after ``ready``: report when the client gives up on it
    (``at`` is time.monotonic(), the system-wide clock the test also reads), its first
    failed reconnection attempt, then (after SIGCONT) the reconnection."""
    records = Records("reconnection attempt 1 failed")
    logging.getLogger("sio_core.client").addHandler(records)
    client = SocketIOClient(reconnection_delay=0.2, reconnection_delay_max=0.5,
                            request_timeout=1, logger=True)
    connects = runtime.Queue()
    lost = runtime.AsyncResult()
    client.on("connect", lambda: connects.put(client.sid))
    client.on("disconnect", lambda reason: lost.set([reason, time.monotonic()]))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    first = connects.get(timeout=5)
    out(ready=True)
    reason, at = lost.get(timeout=30)
    out(reason=reason, at=at)
    out(retrying=records.wanted.wait(timeout=10))
    second = connects.get(timeout=30)  # after the test's SIGCONT
    answer = client.call("ack-echo", "back", timeout=5)
    client.disconnect()
    out(reconnected=second != first, answer=answer)


def upgrade_behind_post(cfg) -> None:
    """An in-process server that holds every POST for a moment before handling it: the
    client's upgrade to websocket must wait for the POST in flight, which would otherwise
    reach a session already on websocket (HTTP 400, then a transport error)."""
    io = Server(ping_interval=5, ping_timeout=5)
    io.on("connection", lambda socket: socket.on("ack-echo", lambda value, ack: ack(value)))

    def slow_posts(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            runtime.sleep(0.3)
        return io(environ, start_response)

    http = make_server(slow_posts, "127.0.0.1", 0, websocket_check=io.check_websocket)
    http.start()
    reasons = []
    client = SocketIOClient(reconnection=False)
    client.on("disconnect", lambda reason: reasons.append(reason))
    client.connect("http://127.0.0.1:%d" % http.server_port,
                   transports=["polling", "websocket"], eio=cfg["eio"])
    answers = [client.call("ack-echo", n, timeout=5) for n in range(3)]
    transport = client.transport()
    client.disconnect()
    http.stop(timeout=1)
    out(answers=answers, transport=transport, reasons=reasons)


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    globals()[config["scenario"]](config)

"""Runs sio_core.client scenarios in a monkey-patched process; prints JSON lines.

python tests/clientside/driver.py '<json config>'
"""
from gevent import monkey

monkey.patch_all()

import base64  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from sio_core import AckTimeout, Disconnected  # noqa: E402
from sio_core.client import Client, ConnectionError, emit_once  # noqa: E402
from sio_core.server import runtime  # noqa: E402


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
    client = Client(reconnection=False)
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
    client = Client(reconnection=False)
    try:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"],
                       namespaces=["/chat"], auth={"token": "wrong"})
        out(error=None)
    except ConnectionError as exc:
        out(error=str(exc))


def timeout(cfg) -> None:
    with Client(reconnection=False) as client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
        try:
            client.call("no-such-event", timeout=0.5)
            out(error=None)
        except AckTimeout as exc:
            out(error=type(exc).__name__)
        out(once=emit_once(cfg["url"], "ack-echo", ("a", 1), eio=cfg["eio"]))


def reconnect(cfg) -> None:
    client = Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0)
    connects = runtime.Queue()
    reasons = []
    client.on("connect", lambda: connects.put(client.sid))
    client.on("disconnect", lambda reason: reasons.append(reason))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    first = connects.get(timeout=5)
    out(ready=True, sid=first)
    second = connects.get(timeout=30)  # the test restarts the server meanwhile
    answer = client.call("ack-echo", "again", timeout=5)
    client.disconnect()
    out(first=first, second=second, answer=answer, reasons=reasons,
        different=first != second)


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    globals()[config["scenario"]](config)

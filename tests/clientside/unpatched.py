"""Runs sio_core.client scenarios in a process that is NOT monkey-patched (unless the
config says ``"patched": true``, for the same scenarios the usual way); prints JSON lines.

python tests/clientside/unpatched.py '<json config>'
"""
import json
import sys

CFG = json.loads(sys.argv[1])
if CFG.get("patched"):
    from gevent import monkey

    monkey.patch_all()

import os  # noqa: E402
import queue  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from sio_core import ConnectionError, Disconnected, runtime  # noqa: E402
from sio_core.client import SimpleClient, SocketIOClient  # noqa: E402


def out(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def join_all(threads, timeout: float = 20.0) -> bool:
    """Join ``threads`` within ``timeout`` seconds in all; whether every one ended."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def hub_threads_end() -> bool:
    """Whether the clients' hub threads all end (within 5 s) now that none is connected."""
    return join_all([t for t in threading.enumerate() if t.name == "sio-client"], 5.0)


def threads(cfg) -> None:
    """connect, handlers, a blocked main thread, calls from several threads, wait()."""
    client = SocketIOClient(reconnection=False)
    handler_threads = set()
    welcome = queue.Queue()
    echoes = queue.Queue()

    def on_welcome(data):
        handler_threads.add(threading.current_thread().name)
        welcome.put(data)

    client.on("welcome", on_welcome)
    client.on("echo", lambda *args: echoes.put(list(args)))
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    result = {"patched": runtime.is_patched(), "connected": client.connected,
              "welcome_is_mine": welcome.get(timeout=5)["id"] == client.sid}
    # the main thread blocks past the server's pingInterval + pingTimeout
    time.sleep(cfg["block"])
    result["connected_after_block"] = client.connected
    answers = {}

    def worker(n):
        answers[n] = [list(client.call("ack-echo", (n, i), timeout=5)) for i in range(10)]

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in workers:
        thread.start()
    result["workers_done"] = join_all(workers)
    result["answers_right"] = answers == {n: [[n, i] for i in range(10)] for n in range(4)}
    client.emit("echo", ("from main", 1))
    result["echo"] = echoes.get(timeout=5)
    result["transport"] = client.transport()
    waited = []
    waiter = threading.Thread(target=lambda: waited.append(client.wait(timeout=10)))
    waiter.start()
    client.disconnect()
    join_all([waiter])
    result["wait_from_thread"] = waited
    result["connected_at_end"] = client.connected
    if not result["patched"]:
        result["handler_threads"] = sorted(handler_threads)
        result["hub_threads_end"] = hub_threads_end()
    out(**result)


def attempt(client=None, **kwargs) -> dict:
    client = client or SocketIOClient(reconnection=False)
    started = time.monotonic()
    try:
        client.connect(**kwargs)
    except ConnectionError as exc:
        return {"cause": exc.cause, "message": str(exc), "status": exc.status,
                "namespace": exc.namespace, "data": exc.data, "connected": client.connected,
                "seconds": time.monotonic() - started}
    client.disconnect()
    return {"cause": None}


def errors(cfg) -> None:
    """connect() raises a ConnectionError naming the cause, never returns unconnected."""
    url, eio = cfg["url"], cfg["eio"]
    result = {}
    with socket.socket() as closed_port:  # a port nothing listens on
        closed_port.bind(("127.0.0.1", 0))
        free = closed_port.getsockname()[1]
    result["refused"] = attempt(url="http://127.0.0.1:%d" % free, eio=eio)
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        result["silent"] = attempt(SocketIOClient(reconnection=False, request_timeout=0.5),
                                   url="http://127.0.0.1:%d" % silent.getsockname()[1],
                                   eio=eio)
    result["namespace"] = attempt(url=url, eio=eio, namespaces=["/chat"],
                                  auth={"token": "wrong"}, transports=cfg["transports"])
    result["http"] = attempt(url=url, eio=eio, socketio_path="nope", transports=["polling"])
    if cfg.get("slow_url"):
        result["slow"] = attempt(url=cfg["slow_url"], eio=eio, namespaces=["/slow"],
                                 wait_timeout=0.5, transports=cfg["transports"])
    if not runtime.is_patched():
        result["hub_threads_end"] = hub_threads_end()
    out(**result)


def simple(cfg) -> None:
    """SimpleClient: connect, receive in order, emit, call, a receive timeout, a kick."""
    result = {}
    with SimpleClient(reconnection=False) as client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
        event, data = client.receive(timeout=5)
        result["welcome_is_mine"] = event == "welcome" and data["id"] == client.sid
        result["transport"] = client.transport
        client.emit("echo", ("a", 1))
        client.emit("echo", "b")
        result["echoes"] = [client.receive(timeout=5), client.receive(timeout=5)]
        result["call"] = client.call("ack-echo", "x", timeout=5)
        started = time.monotonic()
        try:
            result["quiet"] = client.receive(timeout=0.3)
        except TimeoutError as exc:
            result["quiet"] = type(exc).__name__
        result["quiet_seconds"] = time.monotonic() - started
        client.emit("disconnect-me")
        for key in ("kicked", "kicked_again"):
            try:
                result[key] = client.receive(timeout=5)
            except Disconnected as exc:
                result[key] = type(exc).__name__
        result["connected"] = client.connected
    out(**result)


def gives_up(cfg) -> None:
    """A receive() waiting while the client reconnects ends when the client gives up."""
    result = {}
    with SimpleClient(reconnection_attempts=2, reconnection_delay=0.1,
                      reconnection_delay_max=0.2) as client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
        client.receive(timeout=5)  # the welcome
        os.kill(cfg["server_pid"], signal.SIGKILL)
        started = time.monotonic()
        try:
            result["receive"] = client.receive(timeout=None)
        except Disconnected as exc:
            result["receive"] = type(exc).__name__
        result["seconds"] = time.monotonic() - started
    out(**result)


def exit_connected(cfg) -> None:
    """Leave the program with a client connected, without disconnect()."""
    client = SocketIOClient()
    client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
    out(connected=client.connected)


if __name__ == "__main__":
    {"threads": threads, "errors": errors, "simple": simple, "gives_up": gives_up,
     "exit_connected": exit_connected}[CFG["scenario"]](CFG)

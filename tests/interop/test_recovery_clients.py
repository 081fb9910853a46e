"""Connection state recovery from the outside: socket.io-client 4.8 and our Python client.

Each client's TCP connection is cut (no close frame); meanwhile another client sends it room
broadcasts, a private message and a broadcast; it reconnects and must get every missed
event once, in order, the same socket id and ``recovered`` true. After the window, or after
a server restart, the reconnection is a clean new session. Every check runs against our
conformance app (``--recovery``) and the reference Node server side by side.
"""
from __future__ import annotations

import json
import select
import socket
import struct
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional

import pytest

from sio_core.client import SocketIOClient
from tests.helpers import INTEROP, ServerProcess, free_port, require_node, wait_for_port

pytestmark = pytest.mark.interop

STEP = 10.0  # seconds any one wait may take
MISSED = [["room-msg", "m1"], ["private", "m2"], ["bcast", "m3"], ["room-msg", "m4"]]


def send_missed(b: Any, room: str, away: str) -> None:
    """From client ``b``, while the socket ``away`` (in ``room``) is gone: what it must get
    back as MISSED (a room message, a message to its id, a broadcast, one more room message),
    and one room message not for it; returns once the server has handled them all."""
    b.emit("to-room", (room, "m1"))
    b.emit("private", (away, "m2"))
    b.emit("broadcast", "m3")
    b.emit("to-room", (room + "-elsewhere", "not for A"))
    b.emit("to-room", (room, "m4"))
    b.call("ack-echo", timeout=STEP)


class NodeServer:
    """reference_server.js with connection state recovery of ``window`` seconds."""

    def __init__(self, window: float, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["node", str(INTEROP / "reference_server.js"), str(self.port), "2000", "2000",
             str(window)], cwd=str(INTEROP), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        return ""


def start(kind: str, window: float, port: Optional[int] = None) -> Any:
    if kind == "ours":
        return ServerProcess("conformance_app.py", "--recovery", str(window), port=port)
    require_node()
    return NodeServer(window, port)


def plain(missed: List[List[Any]]) -> List[List[Any]]:
    """The missed events without their offset (the last argument, a string) and with the
    private message reduced to its payload."""
    out = []
    for name, *args in missed:
        assert isinstance(args[-1], str), (name, args)  # every one carries its offset
        first = args[0]
        out.append([name, first["payload"] if name == "private" else first])
    return out


# -- socket.io-client 4.8 ---------------------------------------------------------------------


class Scenario:
    """recovery_scenario.js: runs until A is cut and its missed events are sent."""

    def __init__(self, url: str, **config: Any) -> None:
        require_node()
        self.proc = subprocess.Popen(
            ["node", str(INTEROP / "recovery_scenario.js"), json.dumps({"url": url, **config})],
            cwd=str(INTEROP), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)

    def line(self, timeout: float = 20.0) -> Dict[str, Any]:
        """The script's next JSON line (its error, if it reports one, fails the test)."""
        try:
            if not select.select([self.proc.stdout], [], [], timeout)[0]:
                raise AssertionError("no output from recovery_scenario.js within %ss"
                                     % timeout)
            raw = self.proc.stdout.readline()
            assert raw, "recovery_scenario.js exited: %r" % self.proc.stderr.read()
            result = json.loads(raw)
            assert "error" not in result, result["error"]
            return result
        except BaseException:
            self.close()
            raise

    def go(self) -> Dict[str, Any]:
        """Let A reconnect; what it saw."""
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        try:
            return self.line()
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            pipe.close()


def restarted(kind: str) -> Any:
    """``between`` for a server restart: a new server of ``kind`` on the same port."""
    def restart(server: Any) -> Any:
        server.stop()
        return start(kind, 30, port=server.port)
    return restart


def scenario_run(kind: str, window: float, between: Any) -> Dict[str, Any]:
    """recovery_scenario.js against a ``kind`` server with recovery ``window``;
    ``between(server)`` runs while A is cut (it may return a new server)."""
    server = start(kind, window)
    try:
        scenario = Scenario(server.url)
        cut = scenario.line()
        server = between(server) or server
        result = scenario.go()
    finally:
        server.stop()
    assert result["id_before"] == cut["id"]
    return result


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_socketio_client_recovers_within_the_window(kind: str) -> None:
    result = scenario_run(kind, 30, lambda server: None)
    sid = result["id_before"]
    assert result["server_reason"] == "transport close" == result["client_reason"]
    assert result["recovered"] is True
    assert result["id_after"] == sid
    assert result["welcome_before"] == {"id": sid, "recovered": False}
    assert result["welcome_after"] == {"id": sid, "recovered": True}
    *missed, welcome = result["missed"]
    assert plain(missed) == MISSED
    assert welcome[0] == "welcome"
    assert len({event[-1] for event in result["missed"]}) == len(result["missed"])
    room = [r for r in result["rooms_after"] if r.startswith("r-") and "-check" not in r]
    assert len(room) == 1 and sid in result["rooms_after"]


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_socketio_client_after_the_window_gets_a_new_session(kind: str) -> None:
    result = scenario_run(kind, 1, lambda server: time.sleep(1.5))  # the window passing
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]
    assert result["welcome_after"] == {"id": result["id_after"], "recovered": False}


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_socketio_client_after_a_restart_gets_a_new_session(kind: str) -> None:
    result = scenario_run(kind, 30, restarted(kind))
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]


# -- our Python client, through a TCP proxy the test cuts ---------------------------------


class CuttableProxy:
    """A TCP proxy to ``port``; ``cut()`` resets every connection and refuses new ones until
    ``resume()``."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.open = True
        self.conns: List[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                self._reset(down)
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target), timeout=STEP)
                up.settimeout(None)
            except OSError:
                self._reset(down)
                continue
            with self.lock:
                self.conns += [down, up]
            threading.Thread(target=self._pump, args=(down, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        """Close with a TCP reset (linger 0), as a dropped network does."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:  # closed by its pump meanwhile
            pass
        sock.close()

    def cut(self) -> None:
        self.open = False
        with self.lock:
            conns, self.conns = self.conns, []
        for sock in conns:
            self._reset(sock)

    def resume(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Recorder:
    """Our client's events in order, with a condition to wait on."""

    def __init__(self, client: SocketIOClient) -> None:
        self.events: List[List[Any]] = []
        self.connects = 0
        self.disconnects = 0
        self.cond = threading.Condition()
        client.on("*", lambda event, *args: self._add([event, *args]))
        client.on("connect", lambda: self._count("connects"))
        client.on("disconnect", lambda *reason: self._count("disconnects"))

    def _add(self, event: List[Any]) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def _count(self, name: str) -> None:
        with self.cond:
            setattr(self, name, getattr(self, name) + 1)
            self.cond.notify_all()

    def wait(self, predicate: Any, what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout=STEP), "timeout waiting for " + what


def python_client_run(kind: str, window: float, between: Any) -> Dict[str, Any]:
    """Connect our client A through a proxy, cut it, send it what it misses, run
    ``between(server)`` (which may return a new server), let it reconnect; what A saw."""
    server = start(kind, window)
    proxy = CuttableProxy(server.port)
    a = SocketIOClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.3,
                       randomization_factor=0)
    b = SocketIOClient(reconnection=False)
    recorder = Recorder(a)
    try:
        a.connect(proxy.url, transports=["websocket"])
        b.connect(server.url, transports=["websocket"])
        recorder.wait(lambda: any(e[0] == "welcome" for e in recorder.events), "welcome")
        room = "py-%d" % free_port()
        a.call("join", room, timeout=STEP)
        b.emit("to-room", (room, "before"))
        recorder.wait(lambda: recorder.events[-1][:2] == ["room-msg", "before"], "before")
        before = a.sid
        proxy.cut()
        recorder.wait(lambda: recorder.disconnects == 1, "A's disconnect")
        deadline = time.monotonic() + STEP
        reason = None
        while reason is None:
            assert time.monotonic() < deadline, "the server did not see A go"
            reason = b.call("disconnect-reason-of", before, timeout=STEP)
        send_missed(b, room, before)
        b.disconnect()
        mark = len(recorder.events)
        server = between(server) or server
        proxy.target = server.port
        proxy.resume()
        recorder.wait(lambda: recorder.connects == 2, "A's reconnection")
        recorder.wait(lambda: any(e[0] == "welcome" for e in recorder.events[mark:]),
                      "the second welcome")
        return {"id_before": before, "id_after": a.sid, "recovered": a.recovered,
                "server_reason": reason, "missed": recorder.events[mark:]}
    finally:
        a.disconnect()
        b.disconnect()
        proxy.close()
        server.stop()


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_python_client_recovers_within_the_window(kind: str) -> None:
    result = python_client_run(kind, 30, lambda server: None)
    assert result["server_reason"] in ("transport close", "transport error")
    assert result["recovered"] is True
    assert result["id_after"] == result["id_before"]
    *missed, welcome = result["missed"]
    assert plain(missed) == MISSED
    assert welcome[:2] == ["welcome", {"id": result["id_before"], "recovered": True}]


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_python_client_after_the_window_gets_a_new_session(kind: str) -> None:
    result = python_client_run(kind, 1, lambda server: time.sleep(1.5))
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_python_client_after_a_restart_gets_a_new_session(kind: str) -> None:
    result = python_client_run(kind, 30, restarted(kind))
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]


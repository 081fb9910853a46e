"""A value with no JSON form fails the one emit that carries it, in the caller: never later
in a flush, never leaving an ack waiting, and not from an OS thread's hand-over either."""
from __future__ import annotations

import threading
from typing import Any, Dict, List

import pytest

from sio_core import Server, runtime
from sio_core.testing import TestClient
from tests.helpers import FakeClock


class NoJson:
    """Has no JSON form."""


def connected(io: Server) -> tuple:
    client = TestClient(io)
    assert client.connect() is True
    return client, io.sockets.connected[client.sids["/"]]


def test_every_emit_path_raises_type_error_and_registers_nothing() -> None:
    io = Server()
    client, socket = connected(io)
    bad = NoJson()
    with pytest.raises(TypeError):
        socket.emit("x", bad)
    with pytest.raises(TypeError):
        socket.emit("x", {"k": [bad]}, callback=lambda *values: None)
    with pytest.raises(TypeError):
        socket.call("x", bad, timeout=1)
    with pytest.raises(TypeError):
        socket.broadcast.emit("x", bad)
    with pytest.raises(TypeError):
        io.to(socket.id).emit("x", bad)
    assert len(socket.acks) == 0
    socket.emit("fine", 1)
    assert [(e["name"], e["args"]) for e in client.get_received()] == [("fine", [1])]


def test_a_broadcast_with_acks_that_raises_never_reports_a_timeout_later() -> None:
    clock = FakeClock()
    io = Server(clock=clock)
    client, _ = connected(io)
    reported = runtime.Event()
    with pytest.raises(TypeError):
        io.timeout(1).emit("x", NoJson(), callback=lambda err, answers: reported.set())
    clock.advance(2)  # a collector left armed would call back with AckTimeout after 1 s
    assert reported.is_set() is False
    client.on("y", lambda: "answer")
    answers: List[Any] = []
    done = runtime.Event()
    io.timeout(2).emit("y", callback=lambda err, values: (answers.append((err, values)),
                                                          done.set()))
    assert done.wait(timeout=5) is True
    assert answers == [(None, ["answer"])]


def test_an_emit_during_admission_raises_in_the_middleware_and_the_connect_goes_on() -> None:
    io = Server()
    outcomes: List[str] = []

    def middleware(socket: Any, next: Any) -> None:
        try:
            socket.emit("early-bad", NoJson())
        except TypeError:
            outcomes.append("TypeError")
        socket.emit("early-ok", "\ud83d", 1e400)
        next()

    io.use(middleware)
    client, _ = connected(io)
    assert outcomes == ["TypeError"]
    assert [(e["name"], e["args"]) for e in client.get_received()] == \
        [("early-ok", ["\ud83d", None])]


@pytest.mark.parametrize("via", ["socket", "socket-callback", "server", "room"])
def test_an_emit_from_an_os_thread_raises_in_that_thread(via: str) -> None:
    io = Server()
    client, socket = connected(io)
    caught: Dict[str, Any] = {}
    emit = {
        "socket": lambda: socket.emit("x", NoJson()),
        "socket-callback": lambda: socket.emit("x", NoJson(), callback=lambda *v: None),
        "server": lambda: io.emit("x", [NoJson()]),
        "room": lambda: io.to(socket.id).emit("x", NoJson()),
    }[via]

    def work() -> None:
        try:
            emit()
        except TypeError as exc:
            caught["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=5)
    assert isinstance(caught.get("error"), TypeError)
    assert client.get_received() == []
    assert len(socket.acks) == 0


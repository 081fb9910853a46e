"""Blocking handlers never starve heartbeats, acks or other clients."""
from __future__ import annotations

from sio_core import Server
from sio_core.server import runtime
from sio_core.testing import TestClient


def test_a_blocked_handler_keeps_its_client_alive_and_others_served() -> None:
    io = Server(ping_interval=0.1, ping_timeout=0.1)
    finished = runtime.Event()
    answers = []

    @io.on("connection")
    def on_connection(socket):
        @socket.on("slow")
        def slow():
            runtime.sleep(1.0)  # ten ping intervals
            finished.set()

        @socket.on("ask")
        def ask():
            answers.append(socket.call("q", timeout=5))

        socket.on("quick", lambda ack: ack("fast"))

    slow_client = TestClient(io, settle_timeout=0.2)
    other = TestClient(io)
    assert slow_client.connect() and other.connect()
    slow_client.on("q", lambda: "answer")
    slow_client.emit("slow")
    started = runtime.monotonic()
    assert other.emit("quick", ack=True) == ["fast"]
    assert runtime.monotonic() - started < 0.5
    assert finished.wait(timeout=3) is True
    slow_client.emit("ask")
    assert answers == ["answer"]
    assert slow_client.is_connected() is True
    assert slow_client.conn.closed is False


def test_a_client_flooding_a_slow_handler_is_closed_not_buffered_forever() -> None:
    io = Server(max_queue=50)
    release = runtime.Event()
    reasons = []

    @io.on("connection")
    def on_connection(socket):
        socket.on("work", lambda *args: release.wait(timeout=5))
        socket.on("disconnect", lambda reason: reasons.append(reason))

    client = TestClient(io, settle_timeout=0.01)
    assert client.connect() is True
    sent = 0
    while not client.conn.closed and sent < 200:
        client.emit("work", sent)
        sent += 1
    assert 50 <= sent < 60
    release.set()
    client.settle(1.0)
    assert client.conn.closed is True
    assert reasons == ["transport error"]

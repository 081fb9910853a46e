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

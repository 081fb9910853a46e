"""Blocking handlers never starve heartbeats, acks or other clients."""
from __future__ import annotations

from sio_core import Server, runtime
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


class Blocked:
    """A server whose ``work`` handler blocks until ``release``, and one connected client."""

    def __init__(self, **options: object) -> None:
        self.io = Server(**options)
        self.release = runtime.Event()
        self.reasons: list = []
        self.done: list = []

        @self.io.on("connection")
        def on_connection(socket):
            socket.on("work", self.work)
            socket.on("disconnect", self.reasons.append)

        self.client = TestClient(self.io, settle_timeout=0.01)
        assert self.client.connect() is True

    def work(self, n: int, *filler: str) -> None:
        self.release.wait(timeout=5)
        self.done.append(n)

    def flood(self, limit: int, *filler: str) -> int:
        """Emit ``work`` until the server closes the connection; how many were sent."""
        sent = 0
        while not self.client.conn.closed and sent < limit:
            self.client.emit("work", sent, *filler)
            sent += 1
        return sent

    def finish(self) -> None:
        self.release.set()
        self.client.settle(1.0)


def test_a_client_flooding_a_slow_handler_is_closed_not_buffered_forever() -> None:
    blocked = Blocked(max_queue=50)
    assert 50 <= blocked.flood(200) < 60
    blocked.finish()
    assert blocked.client.conn.closed is True
    assert blocked.reasons == ["transport error"]


def test_large_events_behind_a_blocked_handler_are_bounded_in_bytes_too() -> None:
    """10 × max_http_buffer_size (10,000 bytes here) may wait, well before max_queue."""
    blocked = Blocked(max_http_buffer_size=1000)
    # the first runs (and blocks); about 10 KB of ~915-byte events wait behind it
    assert 11 <= blocked.flood(100, "x" * 900) <= 13
    blocked.finish()
    assert blocked.reasons == ["transport error"]


def test_events_within_the_byte_budget_all_run() -> None:
    blocked = Blocked(max_http_buffer_size=1000)
    for n in range(8):  # about 7.3 KB waiting at most
        blocked.client.emit("work", n, "x" * 900)
    blocked.finish()
    assert blocked.done == list(range(8))
    assert blocked.client.conn.closed is False

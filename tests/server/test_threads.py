"""Emits from real OS threads reach clients, with a warning about monkey-patching."""
from __future__ import annotations

import logging
import threading

from sio_core import Server, runtime
from sio_core.testing import TestClient


def _wait_for(client: TestClient, count: int, timeout: float = 5.0) -> list:
    received: list = []
    deadline = runtime.monotonic() + timeout
    while len(received) < count and runtime.monotonic() < deadline:
        runtime.sleep(0.01)  # the hub must run for the hand-over to happen
        received.extend(client.get_received())
    return received


def test_emits_from_an_os_thread_are_delivered_and_logged(caplog) -> None:
    io = Server()
    client = TestClient(io)
    assert client.connect() is True
    socket = io.sockets.connected[client.sids["/"]]
    caplog.set_level(logging.WARNING, logger="sio_core.runtime")

    def work() -> None:
        io.emit("broadcast-from-thread", 1)
        socket.emit("direct-from-thread", 2)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=5)
    received = _wait_for(client, 2)
    assert sorted((e["name"], e["args"]) for e in received) == [
        ("broadcast-from-thread", [1]), ("direct-from-thread", [2])]
    warnings = [r.getMessage() for r in caplog.records if "OS thread" in r.getMessage()]
    assert len(warnings) == 1
    assert "monkey.patch_all()" in warnings[0]

"""Connection state recovery with our browser bundle in Chromium, against our server and the
reference one: the page's websocket goes through a TCP proxy that the test resets, our
Python client sends what the page misses, and the page reconnects by itself."""
from __future__ import annotations

import time
from typing import Any, Dict

import pytest

from sio_core.client import SocketIOClient
from tests.helpers import free_port
from tests.interop.test_recovery_clients import (
    MISSED,
    CuttableProxy,
    plain,
    send_missed,
    start,
)

pytestmark = pytest.mark.interop

STEP = 10.0

#: the page's side: one socket through the proxy, every event recorded in window.rec
CONNECT = """([url, room]) => new Promise((resolve, reject) => {
  const rec = window.rec = {events: [], connects: 0, disconnects: 0};
  const s = window.sock = io(url, {transports: ["websocket"], forceNew: true,
    reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0});
  const record = s.onevent.bind(s);
  s.onevent = (packet) => { rec.events.push(packet.data.slice()); record(packet); };
  s.on("connect", () => { rec.connects += 1; });
  s.on("disconnect", () => { rec.disconnects += 1; });
  s.on("welcome", () => s.emit("join", room, () => resolve(s.id)));
  setTimeout(() => reject(new Error("no welcome and join")), 10000);
})"""


def run(page: Any, kind: str, window: float, between: Any) -> Dict[str, Any]:
    server = start(kind, window)
    proxy = CuttableProxy(server.port)
    b = SocketIOClient(reconnection=False)
    try:
        page.open(server)
        room = "br-%d" % free_port()
        before = page.page.evaluate(CONNECT, [proxy.url, room])
        b.connect(server.url, transports=["websocket"])
        b.emit("to-room", (room, "before"))
        page.page.wait_for_function(
            "() => rec.events.some((e) => e[0] === 'room-msg' && e[1] === 'before')",
            timeout=STEP * 1000)
        proxy.cut()
        page.page.wait_for_function("() => rec.disconnects === 1", timeout=STEP * 1000)
        deadline = time.monotonic() + STEP
        while b.call("disconnect-reason-of", before, timeout=STEP) is None:
            assert time.monotonic() < deadline, "the server did not see the page go"
        send_missed(b, room, before)
        mark = page.page.evaluate("() => rec.events.length")
        server = between(server) or server
        proxy.target = server.port
        proxy.resume()
        page.page.wait_for_function(
            "(mark) => rec.connects === 2 && rec.events.slice(mark).some("
            "(e) => e[0] === 'welcome')", arg=mark, timeout=STEP * 1000)
        result = page.page.evaluate(
            "(mark) => ({id: sock.id, recovered: sock.recovered,"
            " missed: rec.events.slice(mark)})", mark)
        result["id_before"] = before
        assert page.errors == []
        return result
    finally:
        b.disconnect()
        proxy.close()
        server.stop()


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_bundle_recovers_within_the_window(new_page: Any, kind: str) -> None:
    result = run(new_page(), kind, 30, lambda server: None)
    assert result["recovered"] is True and result["id"] == result["id_before"]
    *missed, welcome = result["missed"]
    assert plain(missed) == MISSED
    assert welcome[:2] == ["welcome", {"id": result["id_before"], "recovered": True}]


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_bundle_after_the_window_gets_a_new_session(new_page: Any, kind: str) -> None:
    result = run(new_page(), kind, 1, lambda server: time.sleep(1.5))  # the window passing
    assert result["recovered"] is False and result["id"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]

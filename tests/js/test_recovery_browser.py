"""Connection state recovery with our browser bundle in Chromium, against our server and the
reference one: the page's websocket goes through a TCP proxy that the test resets, our
Python client sends what the page misses, and the page reconnects by itself. Also across
two nodes on one redis-server (RedisStreamsAdapter): cut from node A, the page reconnects
through the proxy to node B."""
from __future__ import annotations

import time
from typing import Any, Dict

import pytest

from sio_core.client import SocketIOClient
from tests.adapter.test_redis_streams import (
    MISSED_LATER,
    Pair,
    client,
    send_missed_later,
    wait_events,
    watch_room,
)
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


def connect_and_cut(page: Any, proxy: CuttableProxy, sender: SocketIOClient, room: str) -> str:
    """The page connects through ``proxy`` and joins ``room``; once a room message from
    ``sender`` (its first offset) arrived the proxy cuts it, and this returns its id when
    ``sender``'s server has seen it go."""
    before: str = page.page.evaluate(CONNECT, [proxy.url, room])
    sender.emit("to-room", (room, "before"))
    page.page.wait_for_function(
        "() => rec.events.some((e) => e[0] === 'room-msg' && e[1] === 'before')",
        timeout=STEP * 1000)
    proxy.cut()
    page.page.wait_for_function("() => rec.disconnects === 1", timeout=STEP * 1000)
    deadline = time.monotonic() + STEP
    while sender.call("disconnect-reason-of", before, timeout=STEP) is None:
        assert time.monotonic() < deadline, "the server did not see the page go"
    return before


def reconnect(page: Any, proxy: CuttableProxy, port: int, mark: int) -> Dict[str, Any]:
    """The proxy resumes towards ``port``; once the page reconnected and was welcomed: its
    id, ``recovered`` and the events after the ``mark``-th."""
    proxy.target = port
    proxy.resume()
    page.page.wait_for_function(
        "(mark) => rec.connects === 2 && rec.events.slice(mark).some("
        "(e) => e[0] === 'welcome')", arg=mark, timeout=STEP * 1000)
    result: Dict[str, Any] = page.page.evaluate(
        "(mark) => ({id: sock.id, recovered: sock.recovered,"
        " missed: rec.events.slice(mark)})", mark)
    assert page.errors == []
    return result


def run(page: Any, kind: str, window: float, between: Any) -> Dict[str, Any]:
    server = start(kind, window)
    proxy = CuttableProxy(server.port)
    b = SocketIOClient(reconnection=False)
    try:
        page.open(server)
        b.connect(server.url, transports=["websocket"])
        room = "br-%d" % free_port()
        before = connect_and_cut(page, proxy, b, room)
        send_missed(b, room, before)
        mark = page.page.evaluate("() => rec.events.length")
        server = between(server) or server
        result = reconnect(page, proxy, server.port, mark)
        result["id_before"] = before
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


def test_bundle_recovers_on_the_other_node(new_page: Any, redis_server: Any) -> None:
    """Loaded from node A and connected to it through the proxy, cut; both nodes send it
    room broadcasts, messages to its id and a direct emit; it reconnects to node B."""
    pair = Pair(redis_server)
    proxy = CuttableProxy(pair.a.port)
    page = new_page()
    room = "br-streams-%d" % free_port()
    watcher, seen = watch_room(pair.b.url, room)
    on_a = client(pair.a.url)
    try:
        page.open(pair.a)
        before = connect_and_cut(page, proxy, on_a, room)
        send_missed(on_a, room, before)
        wait_events(seen, ["room-msg", "m4"])
        send_missed_later(room, before, on_a, watcher, seen)
        mark = page.page.evaluate("() => rec.events.length")
        result = reconnect(page, proxy, pair.b.port, mark)  # the page lands on node B
        result["node"] = page.page.evaluate(
            "() => new Promise((resolve) => sock.emit('node', resolve))")
    finally:
        for c in (watcher, on_a):
            c.disconnect()
        proxy.close()
        pair.stop()
    assert result["node"] == pair.b.port
    assert result["recovered"] is True and result["id"] == before
    *missed, welcome = result["missed"]
    assert plain(missed) == MISSED + MISSED_LATER
    assert welcome[:2] == ["welcome", {"id": before, "recovered": True}]

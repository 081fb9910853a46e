"""RedisStreamsAdapter: two server processes (tests/adapter/streams_app.py) sharing one
real redis-server, with connection state recovery across them.

A client on node A joins a room and has its TCP connection cut; while it is away node A and
node B send it room broadcasts, messages to its id (``io.to(sid)``) and a direct
``socket.emit`` on its old socket object; it reconnects **to node B** (through a proxy whose
target the test switches) and must get the same id, ``recovered`` true and every missed
event once, in order. socket.io-client 4.8 (tests/interop/recovery_scenario.js) and our
Python client each do it. Also: a new session after the window and after the client's
offset was trimmed from the stream, the stream's length bound, and plain cross-node
broadcasts and acks without recovery.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import redis

from sio_core.adapter.redis_streams import RedisStreamsAdapter, stream_position
from sio_core.client import SocketIOClient
from tests.helpers import ROOT, RedisServer, ServerProcess, free_port
from tests.interop.test_recovery_clients import (
    MISSED,
    STEP,
    CuttableProxy,
    Recorder,
    Scenario,
    plain,
    send_missed,
)

STREAMS_APP = Path(__file__).with_name("streams_app.py")
STREAM = "socket.io"  # the stream's key: the adapter's default, the channel prefix

pytestmark = pytest.mark.interop

#: what the tests send while A is away, after MISSED: node B's message to A's id and room
#: broadcast, node A's direct socket.emit and one more room broadcast from node A
MISSED_LATER = [["private", "m6"], ["room-msg", "m5"], ["direct", "m7"], ["room-msg", "m8"]]


class Pair:
    """Nodes A and B on one redis-server, with recovery ``window`` (None: off)."""

    def __init__(self, redis_server: RedisServer, window: Any = 30, max_len: int = 10_000,
                 *options: str) -> None:
        extra = ["--max-len", str(max_len), *options]
        if window is not None:
            extra += ["--recovery", str(window)]
        self.redis = redis.Redis.from_url(redis_server.url)
        self.nodes: List[ServerProcess] = []
        try:
            for _ in range(2):
                self.nodes.append(ServerProcess(STREAMS_APP, "--redis", redis_server.url,
                                                *extra))
        except BaseException:
            self.stop()
            raise
        self.a, self.b = self.nodes

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.redis.close()


@pytest.fixture
def pair(redis_server):
    p = Pair(redis_server)
    yield p
    p.stop()


def client(url: str, **options: Any) -> SocketIOClient:
    c = SocketIOClient(reconnection=False, **options)
    c.connect(url, transports=["websocket"])
    return c


def wait_events(recorder: Recorder, event: List[Any]) -> None:
    """Until ``recorder`` has an event starting with ``event``."""
    recorder.wait(lambda: any(e[:len(event)] == event for e in recorder.events), repr(event))


def send_missed_later(room: str, away: str, on_a: SocketIOClient, on_b: SocketIOClient,
                      watcher: Recorder) -> None:
    """MISSED_LATER, each part in the stream before the next is sent: ``watcher`` (a
    client of node B in ``room``) sees the room broadcasts that close each part."""
    on_b.emit("private", (away, "m6"))
    on_b.emit("to-room", (room, "m5"))  # after m6 in node B's ordered queue
    wait_events(watcher, ["room-msg", "m5"])
    assert on_a.call("socket-emit", (away, "m7"), timeout=STEP) is True
    on_a.emit("to-room", (room, "m8"))
    wait_events(watcher, ["room-msg", "m8"])


def watch_room(url: str, room: str) -> tuple:
    """A client of ``url`` in ``room``, recording."""
    watcher = SocketIOClient(reconnection=False)
    recorder = Recorder(watcher)
    watcher.connect(url, transports=["websocket"])
    watcher.call("join", room, timeout=STEP)
    return watcher, recorder


# -- socket.io-client 4.8 ---------------------------------------------------------------------


def test_socketio_client_recovers_on_the_other_node(pair) -> None:
    proxy = CuttableProxy(pair.a.port)
    room = "r-streams-%d" % free_port()
    watcher, seen = watch_room(pair.b.url, room)
    on_a = client(pair.a.url)
    try:
        scenario = Scenario(proxy.url, room=room)
        cut = scenario.line()  # A cut, MISSED sent by B through node A
        wait_events(seen, ["room-msg", "m4"])
        send_missed_later(room, cut["id"], on_a, watcher, seen)
        proxy.target = pair.b.port  # A's reconnection lands on node B
        result = scenario.go()
    finally:
        for c in (watcher, on_a):
            c.disconnect()
        proxy.close()
    sid = cut["id"]
    assert result["server_reason"] == "transport close"
    assert result["recovered"] is True and result["id_after"] == sid
    assert result["welcome_after"] == {"id": sid, "recovered": True}
    *missed, welcome = result["missed"]
    assert welcome[0] == "welcome"
    assert plain(missed) == MISSED + MISSED_LATER
    offsets = [event[-1] for event in missed]
    assert len(set(offsets)) == len(offsets)
    assert all(pair.redis.xrange(STREAM, o, o) for o in offsets)  # stream entry ids
    assert room in result["rooms_after"] and sid in result["rooms_after"]


# -- our Python client, through a proxy ------------------------------------------------------


def python_client_run(pair: Pair, between: Any = None) -> Dict[str, Any]:
    """Our client A on node A through a proxy, cut; MISSED from node A, MISSED_LATER from
    both nodes; ``between()`` runs; A reconnects through the proxy to node B."""
    proxy = CuttableProxy(pair.a.port)
    a = SocketIOClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.3,
                       randomization_factor=0)
    recorder = Recorder(a)
    room = "py-%d" % free_port()
    watcher, seen = watch_room(pair.b.url, room)
    on_a = client(pair.a.url)
    try:
        a.connect(proxy.url, transports=["websocket"])
        wait_events(recorder, ["welcome"])
        a.call("join", room, timeout=STEP)
        before = a.sid
        proxy.cut()
        recorder.wait(lambda: recorder.disconnects == 1, "A's disconnect")
        deadline = time.monotonic() + STEP
        reason = None
        while reason is None:  # node A has seen A go (and kept its session)
            assert time.monotonic() < deadline, "node A did not see A go"
            reason = on_a.call("disconnect-reason-of", before, timeout=STEP)
        send_missed(on_a, room, before)
        wait_events(seen, ["room-msg", "m4"])
        send_missed_later(room, before, on_a, watcher, seen)
        if between is not None:
            between()
        mark = len(recorder.events)
        proxy.target = pair.b.port
        proxy.resume()
        recorder.wait(lambda: recorder.connects == 2, "A's reconnection")
        recorder.wait(lambda: any(e[0] == "welcome" for e in recorder.events[mark:]),
                      "the second welcome")
        node = a.call("node", timeout=STEP)
        return {"id_before": before, "id_after": a.sid, "recovered": a.recovered,
                "reason": reason, "missed": recorder.events[mark:], "node": node,
                "rooms": a.call("my-rooms", timeout=STEP)}
    finally:
        for c in (a, watcher, on_a):
            c.disconnect()
        proxy.close()


def test_python_client_recovers_on_the_other_node(pair) -> None:
    result = python_client_run(pair)
    sid = result["id_before"]
    assert result["node"] == pair.b.port
    assert result["reason"] in ("transport close", "transport error")
    assert result["recovered"] is True and result["id_after"] == sid
    *missed, welcome = result["missed"]
    assert plain(missed) == MISSED + MISSED_LATER
    assert welcome[:2] == ["welcome", {"id": sid, "recovered": True}]
    assert any(r.startswith("py-") for r in result["rooms"]) and sid in result["rooms"]


def test_python_client_after_the_window_gets_a_new_session(redis_server) -> None:
    pair = Pair(redis_server, window=1)
    try:
        result = python_client_run(pair, between=lambda: time.sleep(1.5))  # the window passes
    finally:
        pair.stop()
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]


def flood(pair: Pair, count: int) -> None:
    """``count`` broadcasts from node A, all read back by node B (so in the stream)."""
    c = client(pair.b.url)
    recorder = Recorder(c)
    try:
        c.emit("burst", count)
        wait_events(recorder, ["seq", count - 1])
    finally:
        c.disconnect()


def test_stream_stays_bounded_and_a_trimmed_offset_gives_a_new_session(redis_server) -> None:
    max_len = 10
    pair = Pair(redis_server, window=30, max_len=max_len)
    try:
        result = python_client_run(pair, between=lambda: flood(pair, 500))
        length = pair.redis.xlen(STREAM)
    finally:
        pair.stop()
    # XADD MAXLEN ~: Redis drops whole internal nodes (100 entries by default)
    assert max_len <= length < max_len + 100
    assert result["recovered"] is False
    assert result["id_after"] != result["id_before"]
    assert [e[0] for e in result["missed"]] == ["welcome"]


def test_sender_node_delivers_its_stamped_broadcasts_in_stream_order(pair, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": pair.a.url, "a2": pair.a.url, "b": pair.b.url},
        "steps": [{"do": "emit", "client": "a", "event": "burst", "args": [300]},
                  {"do": "wait", "client": "a2", "event": "seq", "count": 300},
                  {"do": "wait", "client": "b", "event": "seq", "count": 300},
                  {"do": "quiet", "ms": 200}]})
    entries = [entry_id.decode() for entry_id, _ in pair.redis.xrange(STREAM)]
    for name in ("a", "a2", "b"):
        seq = [e[1:] for e in out["received"][name] if e[0] == "seq"]
        assert [args[0] for args in seq] == list(range(300))
        offsets = [args[1] for args in seq]
        assert offsets == entries[-300:]  # once each, in the stream's order


def test_without_recovery_broadcasts_and_acks_cross_nodes(redis_server, node) -> None:
    pair = Pair(redis_server, window=None)
    try:
        pair.redis.xadd(STREAM, {"m": b"not a broker message"})  # ignored by both readers
        pair.redis.xadd(STREAM, {"x": b"no m field"})
        out = node("cluster_client.js", {
            "clients": {"a": pair.a.url, "a2": pair.a.url, "b": pair.b.url,
                        "b2": pair.b.url},
            "steps": [{"do": "emit", "client": "b", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "a", "event": "to-room", "args": ["r", 1]},
                      {"do": "wait", "client": "b", "event": "room-msg"},
                      {"do": "emit", "client": "a", "event": "broadcast", "args": ["x"]},
                      {"do": "wait", "client": "a2", "event": "bcast"},
                      {"do": "wait", "client": "b", "event": "bcast"},
                      {"do": "wait", "client": "b2", "event": "bcast"},
                      {"do": "emit", "client": "b", "event": "ask-all", "args": [3],
                       "ack": True, "as": "acks"},
                      {"do": "emit", "client": "a", "event": "list-clients", "ack": True,
                       "as": "all"},
                      {"do": "quiet", "ms": 300}]})
        length = pair.redis.xlen(STREAM)
        logs = [n.stop() for n in pair.nodes]
    finally:
        pair.stop()
    r = out["received"]
    assert [e for e in r["b"] if e[0] == "room-msg"] == [["room-msg", 1]]
    assert [e for e in r["b2"] if e[0] == "room-msg"] == []
    assert [[e for e in r[n] if e[0] == "bcast"] for n in ("a", "a2", "b", "b2")] == [
        [], [["bcast", "x"]], [["bcast", "x"]], [["bcast", "x"]]]  # no offsets: recovery off
    assert out["results"]["acks"] == {"error": None, "responses": ["a", "a2", "b", "b2"]}
    assert out["results"]["all"] == sorted(out["results"]["ids"].values())
    assert length >= 4  # the two stray entries and the broadcasts went through the stream
    assert all("Traceback" not in log for log in logs)
    assert all("ignoring" in log for log in logs)


def test_a_bad_recovery_request_gives_a_new_session(pair) -> None:
    for auth in ({"pid": "nope", "offset": "1-0"}, {"pid": "x", "offset": "not-an-id"},
                 {"pid": "x" * 5000, "offset": "99999999999999999999-0"}):
        c = SocketIOClient(reconnection=False)
        recorder = Recorder(c)
        try:
            c.connect(pair.b.url, transports=["websocket"], auth=auth)
            wait_events(recorder, ["welcome"])
            assert c.recovered is False
        finally:
            c.disconnect()
    assert "Traceback" not in pair.b.stop()


@pytest.mark.parametrize("slow", [False, True], ids=["skip-middlewares", "slow-middleware"])
def test_recovery_while_broadcasts_keep_coming_gives_each_once_in_order(redis_server,
                                                                        slow) -> None:
    """A burst from node A while A reconnects to node B: whatever was read before the
    replay, during it, while a middleware of the recovered socket waits, or after the
    socket connected, A gets each event once, in order."""
    pair = Pair(redis_server, 30, 10_000, *(["--slow-recovery", "0.5"] if slow else []))
    try:
        recovery_under_burst(pair, 3000)
    finally:
        pair.stop()


def recovery_under_burst(pair: Pair, count: int) -> None:
    proxy = CuttableProxy(pair.a.port)
    a = SocketIOClient(reconnection=True, reconnection_delay=0.05, reconnection_delay_max=0.1,
                       randomization_factor=0)
    recorder = Recorder(a)
    on_a = client(pair.a.url)
    try:
        a.connect(proxy.url, transports=["websocket"])
        wait_events(recorder, ["welcome"])
        before = a.sid
        proxy.cut()
        recorder.wait(lambda: recorder.disconnects == 1, "A's disconnect")
        deadline = time.monotonic() + STEP
        while on_a.call("disconnect-reason-of", before, timeout=STEP) is None:
            assert time.monotonic() < deadline, "node A did not see A go"
        proxy.target = pair.b.port
        on_a.emit("burst", count)  # io.emit("seq", n): A's offsets move past its last one
        proxy.resume()
        recorder.wait(lambda: recorder.connects == 2, "A's reconnection")
        wait_events(recorder, ["seq", count - 1])
        recovered, after = a.recovered, a.sid
    finally:
        for c in (a, on_a):
            c.disconnect()
        proxy.close()
    assert recovered is True and after == before
    seq = [e[1:] for e in recorder.events if e[0] == "seq"]
    assert [args[0] for args in seq] == list(range(count))
    offsets = [tuple(map(int, args[1].split("-"))) for args in seq]
    assert offsets == sorted(set(offsets))


def test_stream_positions_and_option_checks() -> None:
    assert stream_position("1700000000000-3") == (1700000000000, 3)
    assert stream_position(b"5-0") == (5, 0)
    for bad in ("", "5", "5-", "-1-0", "a-b", "1-0 ", None, 7, "1" * 21 + "-0"):
        assert stream_position(bad) is None, bad
    with pytest.raises(ValueError):
        RedisStreamsAdapter(stream_name="socket.io#request")
    with pytest.raises(ValueError):
        RedisStreamsAdapter(max_len=0)
    with pytest.raises(TypeError):
        RedisStreamsAdapter("redis://127.0.0.1:6379/0")  # the URL where the namespace goes
    template = RedisStreamsAdapter(url="redis://127.0.0.1:1/0", max_len=50)
    assert template.settings()["max_len"] == 50
    assert template.settings()["session_key_prefix"] == "socket.io#session#"


CLOSE_SCRIPT = """
from gevent import monkey; monkey.patch_all()
import sys
from sio_core import Server
from sio_core.adapter.redis_streams import RedisStreamsAdapter
from sio_core.testing import TestClient
io = Server(adapter=RedisStreamsAdapter.factory(url=sys.argv[1]), connection_state_recovery=True)
client = TestClient(io)
got = []
client.on("news", lambda *args: got.append(args))
assert client.connect("/")
io.emit("news", 1, {"bin": b"\\x00\\xff"})
from tests.helpers import wait_until
assert wait_until(lambda: got, timeout=10), "no read-back"
io.close()
assert got[0][:2] == (1, {"bin": b"\\x00\\xff"}), got
print("offset", got[0][-1])
"""


def test_a_node_closes_cleanly(redis_server) -> None:
    """A server with the adapter delivers its own broadcast (read back from the stream,
    binary included) and closes without a traceback (the blocked XREAD ends before its
    pool closes)."""
    proc = subprocess.run([sys.executable, "-c", CLOSE_SCRIPT, redis_server.url],
                          cwd=str(ROOT), capture_output=True, timeout=60, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    offset = proc.stdout.split()[-1]
    assert redis.Redis.from_url(redis_server.url).xrange(STREAM, offset, offset)


def test_redis_restart_is_survived(redis_server, node) -> None:
    """During an outage a stamped emit reaches its node's clients without offset and fails
    loudly; after Redis is back, each node's reader goes on and broadcasts cross again."""
    pair = Pair(redis_server)
    try:
        redis_server.stop()
        out = node("cluster_client.js", {
            "clients": {"a": pair.a.url, "a2": pair.a.url},
            "steps": [{"do": "emit", "client": "a", "event": "emit-safe", "args": [1],
                       "ack": True, "as": "during"},
                      {"do": "wait", "client": "a2", "event": "safe"}]}, timeout=20)
        assert out["results"]["during"]["error"] == "broker unavailable"
        assert [e for e in out["received"]["a2"] if e[0] == "safe"] == [["safe", 1]]
        redis_server.start()
        back = None
        for _attempt in range(20):  # the listener and the reader retry, backoff at most 5 s
            result = node("cluster_client.js", {
                "clients": {"a": pair.a.url, "b": pair.b.url},
                "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["back"]},
                          {"do": "quiet", "ms": 500}]})
            back = [e for e in result["received"]["b"] if e[0] == "bcast"]
            if back:
                break
        assert back is not None and back[0][1] == "back" and isinstance(back[0][2], str)
        logs = pair.a.stop()
    finally:
        pair.stop()
    assert "lost Redis" in logs and "while reading stream" in logs
    assert "reading stream 'socket.io' from Redis" in logs

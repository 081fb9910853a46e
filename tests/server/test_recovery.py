"""Connection state recovery in process: the pure log and store, and the server's flow.

A real ``sio_core.Server`` with in-memory ``TestClient``s; a network drop is the Engine.IO
connection closing with ``transport close``. Time is a ``FakeClock`` moved by hand.
"""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from sio_core import Server
from sio_core.engineio import CloseReason
from sio_core.socketio import (
    PacketLog,
    PersistedSession,
    RecoveryOptions,
    SessionStore,
    is_recoverable,
    recovery_request,
)
from sio_core.testing import TestClient
from tests.helpers import FakeClock

# -- the pure parts -------------------------------------------------------------------------


def test_options_from_the_server_option() -> None:
    assert RecoveryOptions.from_option(None) is None
    assert RecoveryOptions.from_option(False) is None
    assert RecoveryOptions.from_option(True) == RecoveryOptions()
    opts = RecoveryOptions.from_option({"max_disconnection_duration": 5, "skip_middlewares": False})
    assert opts is not None and opts.max_disconnection_duration == 5 and not opts.skip_middlewares
    with pytest.raises(ValueError):
        RecoveryOptions(max_disconnection_duration=0)
    with pytest.raises(TypeError):
        RecoveryOptions.from_option(5)


def test_what_a_connect_auth_asks_for() -> None:
    assert recovery_request({"pid": "p", "offset": "o", "token": 1}) == ("p", "o")
    assert recovery_request({"pid": "p"}) is None  # no packet received yet: no offset
    assert recovery_request({"pid": 1, "offset": "o"}) is None
    assert recovery_request(None) is None
    assert is_recoverable("transport close") and is_recoverable(CloseReason.PING_TIMEOUT)
    assert not is_recoverable("client namespace disconnect")
    assert not is_recoverable("server namespace disconnect")


def test_packet_log_bounds_and_selection() -> None:
    log = PacketLog(max_age=10, max_packets=3, prefix="x-")
    stamped = []
    for i, rooms in enumerate([(), ("r",), ("s",), ("r",)]):
        offset = log.next_offset()
        data = ["e", i, offset]
        log.append(offset, data, frozenset(rooms), frozenset(), now=100 + i)
        stamped.append(data)
    assert len(log) == 3  # the first one went
    assert log.since(stamped[0][-1], ["a"], now=104) is None  # forgotten offset
    assert log.since(stamped[1][-1], ["a", "r"], now=104) == [stamped[3]]
    assert log.since(stamped[1][-1], ["a", "s", "r"], now=104) == [stamped[2], stamped[3]]
    assert log.since(stamped[3][-1], ["r"], now=104) == []
    assert log.since(stamped[3][-1], ["r"], now=114) is None  # too old
    with pytest.raises(ValueError):
        log.append("not-next", [], frozenset(), frozenset(), now=0)


def test_session_store_expires() -> None:
    store = SessionStore(max_age=10)
    store.put(PersistedSession("sid", "pid", ("sid",), {}, 100.0), now=100.0)
    assert store.take("pid", now=111.0) is None
    store.put(PersistedSession("sid", "pid", ("sid",), {}, 100.0), now=100.0)
    assert store.take("pid", now=105.0) is not None
    assert store.take("pid", now=105.0) is None  # taken once
    for i in range(5):
        store.put(PersistedSession("s%d" % i, "p%d" % i, (), {}, 100.0 + i), now=100.0 + i)
    store.prune(now=112.5)  # p0, p1, p2 dropped more than 10 s ago
    assert len(store) == 2 and store.take("p3", now=112.5) is not None


# -- the server flow ------------------------------------------------------------------------


class Setup:
    """A server with recovery on, remembering each connection's socket."""

    def __init__(self, **recovery: Any) -> None:
        self.clock = FakeClock()
        self.io = Server(connection_state_recovery=recovery or True, clock=self.clock)
        self.connections: List[Any] = []
        self.refused_by_middleware = 0

        @self.io.on("connection")
        def on_connection(socket: Any) -> None:
            self.connections.append(socket)
            socket.emit("welcome", socket.recovered)

    def client(self, auth: Any = None) -> TestClient:
        client = TestClient(self.io, settle_timeout=5.0)
        assert client.connect("/", auth)
        return client

    def drop(self, client: TestClient) -> None:
        """A network cut: the server sees the transport close."""
        client.conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)
        client.settle()

    def last_offset(self, events: List[Dict[str, Any]]) -> str:
        return events[-1]["args"][-1]


def test_connect_reply_carries_pid_and_broadcasts_their_offset() -> None:
    setup = Setup()
    client = setup.client()
    socket = setup.connections[-1]
    assert isinstance(socket.pid, str) and not socket.recovered
    setup.io.emit("news", 1)
    events = client.get_received("/")
    assert [e["name"] for e in events] == ["welcome", "news"]
    assert events[0]["args"][0] is False and isinstance(events[0]["args"][1], str)
    assert events[1]["args"][0] == 1 and isinstance(events[1]["args"][1], str)
    assert events[0]["args"][1] != events[1]["args"][1]


def test_acked_and_volatile_emits_get_no_offset() -> None:
    setup = Setup()
    client = setup.client()
    socket = setup.connections[-1]
    client.on("q", lambda *args: args[0])
    client.get_received()
    answers: List[Any] = []
    socket.volatile.emit("v", 8)  # volatile: dropped unless the transport is writable now
    socket.emit("q", 7, callback=lambda *values: answers.append(values))
    events = client.get_received("/")
    assert [(e["name"], e["args"]) for e in events] in ([("v", [8]), ("q", [7])], [("q", [7])])
    assert answers == [(7,)]


def test_recovered_session_gets_id_rooms_data_and_missed_packets_in_order() -> None:
    setup = Setup()
    client = setup.client()
    first = setup.connections[-1]
    first.join("room1")
    first.data["name"] = "ann"
    other = setup.client()
    offset = setup.last_offset(client.get_received("/"))
    pid, sid = first.pid, first.id
    setup.drop(client)
    assert not first.connected
    setup.io.to("room1").emit("room-msg", "a")
    setup.io.to(sid).emit("private", "b")           # straight to its id while it is away
    setup.io.to("elsewhere").emit("room-msg", "not for it")
    setup.io.except_("room1").emit("room-msg", "not for it either")
    setup.io.emit("all", "c")
    setup.clock.advance(60)
    back = setup.client({"pid": pid, "offset": offset})
    socket = setup.connections[-1]
    assert socket.recovered and socket.id == sid and socket.pid == pid
    assert socket.data == {"name": "ann"} and socket.rooms == {sid, "room1"}
    events = back.get_received("/")
    assert [(e["name"], e["args"][:-1]) for e in events] == [
        ("room-msg", ["a"]), ("private", ["b"]), ("all", ["c"]), ("welcome", [True])]
    assert back.sids["/"] == sid
    setup.io.to("room1").emit("room-msg", "live")
    assert [e["args"][0] for e in back.get_received("/")] == ["live"]
    assert other.is_connected()


def test_direct_emits_while_away_are_recovered() -> None:
    setup = Setup()
    client = setup.client()
    socket = setup.connections[-1]
    offset = setup.last_offset(client.get_received("/"))
    setup.drop(client)
    socket.emit("direct", 1)  # socket.io sends it through the adapter: logged for recovery
    back = setup.client({"pid": socket.pid, "offset": offset})
    assert [e["name"] for e in back.get_received("/")] == ["direct", "welcome"]
    assert setup.connections[-1].recovered


def test_after_the_window_a_new_session() -> None:
    setup = Setup(max_disconnection_duration=30)
    client = setup.client()
    socket = setup.connections[-1]
    offset = setup.last_offset(client.get_received("/"))
    setup.drop(client)
    setup.io.emit("missed", 1)
    setup.clock.advance(31)
    back = setup.client({"pid": socket.pid, "offset": offset})
    fresh = setup.connections[-1]
    assert not fresh.recovered and fresh.id != socket.id and fresh.pid != socket.pid
    assert [e["name"] for e in back.get_received("/")] == ["welcome"]


def test_a_clean_disconnect_is_not_recovered() -> None:
    setup = Setup()
    client = setup.client()
    socket = setup.connections[-1]
    offset = setup.last_offset(client.get_received("/"))
    client.disconnect("/")
    setup.client({"pid": socket.pid, "offset": offset})
    assert not setup.connections[-1].recovered


def test_a_session_is_recovered_once_and_needs_a_known_offset() -> None:
    setup = Setup()
    client = setup.client()
    socket = setup.connections[-1]
    offset = setup.last_offset(client.get_received("/"))
    setup.drop(client)
    assert not setup.client({"pid": socket.pid, "offset": "unknown"}).sids["/"] == socket.id
    assert not setup.connections[-1].recovered  # the failed try used the session up
    back = setup.client({"pid": socket.pid, "offset": offset})
    assert not setup.connections[-1].recovered
    assert back.is_connected()


@pytest.mark.parametrize("skip", [True, False])
def test_skip_middlewares_on_recovery(skip: bool) -> None:
    setup = Setup(skip_middlewares=skip)
    ran: List[bool] = []

    @setup.io.use
    def middleware(socket: Any, next: Any) -> None:
        ran.append(socket.recovered)
        next()

    client = setup.client()
    socket = setup.connections[-1]
    offset = setup.last_offset(client.get_received("/"))
    setup.drop(client)
    setup.client({"pid": socket.pid, "offset": offset})
    assert setup.connections[-1].recovered
    assert ran == ([False] if skip else [False, True])


def test_off_by_default() -> None:
    io = Server()
    sockets: List[Any] = []
    io.on("connection", lambda s: (sockets.append(s), s.emit("hi")))
    client = TestClient(io)
    client.connect("/")
    assert sockets[0].pid is None
    io.emit("news", 1)
    assert [e["args"] for e in client.get_received("/")] == [[], [1]]

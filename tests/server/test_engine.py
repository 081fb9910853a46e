"""EngineServer and Connection through sio_core.server.engine, with a recording handler."""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Tuple

import gevent
import pytest
from gevent.event import Event

from sio_core.engineio import CloseReason, EngineOptions, EngineQuery, Packet, PacketType
from sio_core.http import Request
from sio_core.server.engine import Connection, EngineHandler, EngineServer
from sio_core.testing import make_environ
from tests.helpers import FakeClock


class Recorder(EngineHandler):
    """Records what the engine tells the layer above."""

    def __init__(self) -> None:
        self.events: List[Tuple[Any, ...]] = []
        self.closed = Event()
        self.reasons: Dict[str, CloseReason] = {}

    def on_connect(self, conn: Connection) -> None:
        self.events.append(("open", conn.sid))

    def on_message(self, conn: Connection, data: Any) -> None:
        self.events.append(("message", conn.sid, data))

    def on_close(self, conn: Connection, reason: CloseReason) -> None:
        self.events.append(("close", conn.sid, reason))
        self.reasons[conn.sid] = reason
        self.closed.set()


def make_engine(clock: Any = None, **options: Any) -> Tuple[EngineServer, Recorder]:
    handler = Recorder()
    return EngineServer(EngineOptions(**options), handler=handler, clock=clock), handler


def open_session(engine: EngineServer, version: int = 4,
                 transport: str = "websocket") -> Connection:
    environ = make_environ(eio=version)
    return engine.open(EngineQuery(version, transport, None, False, None), environ,
                       Request.from_environ(environ))


def types(packets: List[Packet]) -> List[PacketType]:
    return [p.type for p in packets]


def receive(conn: Connection, packet: Packet) -> None:
    """Feed one packet from the client, as a transport does."""
    conn.receive(packet, conn.engine.clock.monotonic())


# -- opening ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [4, 3])
def test_open_tells_the_handler_and_queues_the_open_packet(version: int) -> None:
    engine, handler = make_engine(ping_interval=2.5, ping_timeout=1.5)
    conn = open_session(engine, version)
    assert handler.events == [("open", conn.sid)]
    assert engine.clients_count == 1
    assert engine.get(conn.sid) is conn
    assert engine.get("unknown") is None
    assert engine.get(None) is None
    assert conn.version == version
    assert conn.transport == "websocket"
    assert conn.closed is False
    assert conn.environ["QUERY_STRING"].startswith("EIO=%d" % version)
    packets = conn.session.take()
    assert types(packets) == [PacketType.OPEN]
    info = json.loads(packets[0].data)
    assert info["sid"] == conn.sid
    assert info["upgrades"] == []
    assert info["pingInterval"] == 2500
    assert info["pingTimeout"] == 1500
    assert ("maxPayload" in info) is (version == 4)


def test_polling_sessions_are_offered_the_websocket_upgrade() -> None:
    engine, handler = make_engine()
    conn = open_session(engine, 4, "polling")
    info = json.loads(conn.session.take()[0].data)
    assert info["upgrades"] == ["websocket"]


def test_session_ids_are_unique_and_may_be_generated_by_the_application() -> None:
    engine, handler = make_engine()
    ids = {open_session(engine).sid for _ in range(20)}
    assert len(ids) == 20
    assert engine.clients_count == 20

    custom = EngineServer(EngineOptions(), handler=Recorder(),
                          generate_id=lambda environ: "fixed-id")
    assert open_session(custom).sid == "fixed-id"
    with pytest.raises(RuntimeError):
        open_session(custom)  # a duplicate id is refused
    assert custom.clients_count == 1


def test_default_handler_accepts_everything() -> None:
    engine = EngineServer()
    conn = open_session(engine)
    receive(conn, Packet(PacketType.MESSAGE, "ignored"))
    conn.close()
    assert engine.clients_count == 0


# -- sending and receiving ------------------------------------------------------------------


def test_send_from_another_greenlet_queues_and_wakes_the_transport() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    conn.session.take()
    waiter = Event()
    conn.waiter = waiter
    sender = gevent.spawn(conn.send, "hello")
    assert sender.get(timeout=1) is True
    assert waiter.is_set() is True
    gevent.spawn(conn.send, b"\x00bytes").get(timeout=1)
    packets = conn.session.take()
    assert packets == [Packet(PacketType.MESSAGE, "hello"),
                       Packet(PacketType.MESSAGE, b"\x00bytes")]


def test_send_many_queues_in_order_and_wakes_once() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    conn.session.take()
    conn.waiter = Event()
    conn.send_many(["a", "b", b"c"])
    assert conn.waiter.is_set() is True
    assert [p.data for p in conn.session.take()] == ["a", "b", b"c"]


def test_volatile_sends_need_an_idle_writable_transport() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    assert conn.send("dropped: the open packet is still queued", volatile=True) is False
    conn.session.take()
    assert conn.send("kept", volatile=True) is True
    assert conn.send("dropped: 'kept' is queued", volatile=True) is False
    assert [p.data for p in conn.session.take()] == ["kept"]

    polling = open_session(engine, 4, "polling")
    polling.session.take()
    assert polling.send("no GET waits", volatile=True) is False
    assert polling.session.take() == []


def test_messages_from_the_client_reach_the_handler_in_order() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    for packet in [Packet(PacketType.MESSAGE, "one"), Packet(PacketType.NOOP),
                   Packet(PacketType.MESSAGE, b"two")]:
        receive(conn, packet)
    assert handler.events == [("open", conn.sid), ("message", conn.sid, "one"),
                              ("message", conn.sid, b"two")]


def test_protocol_3_pings_are_answered_with_pongs() -> None:
    engine, handler = make_engine()
    conn = open_session(engine, 3)
    conn.session.take()
    receive(conn, Packet(PacketType.PING, "probe?"))
    assert conn.session.take() == [Packet(PacketType.PONG, "probe?")]


def test_sends_after_close_are_refused() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    conn.session.take()
    conn.close(notify=False)
    assert conn.send("late") is False
    assert conn.send("late", volatile=True) is False
    conn.send_many(["later", "still later"])
    assert conn.session.take() == []


# -- closing ------------------------------------------------------------------------------


def test_server_close_is_a_forced_close_with_a_close_packet() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    conn.session.take()
    conn.waiter = Event()
    conn.close()
    assert handler.events[-1] == ("close", conn.sid, CloseReason.FORCED_CLOSE)
    assert handler.events[-1][2] == "forced close"
    assert conn.closed is True
    assert conn.waiter.is_set() is True
    assert types(conn.session.take()) == [PacketType.CLOSE]
    assert engine.clients_count == 0
    conn.close()  # once only
    assert [e[0] for e in handler.events] == ["open", "close"]


def test_close_with_a_reason_and_without_notifying() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    conn.session.take()
    conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
    assert handler.reasons == {conn.sid: CloseReason.TRANSPORT_ERROR}
    assert conn.session.take() == []
    assert conn.session.reason is CloseReason.TRANSPORT_ERROR


def test_a_close_packet_from_the_client_is_a_transport_close() -> None:
    engine, handler = make_engine()
    conn = open_session(engine)
    receive(conn, Packet(PacketType.CLOSE))
    assert handler.reasons == {conn.sid: CloseReason.TRANSPORT_CLOSE}
    assert handler.reasons[conn.sid] == "transport close"
    assert engine.clients_count == 0
    receive(conn, Packet(PacketType.MESSAGE, "after close"))
    assert ("message", conn.sid, "after close") not in handler.events


def test_engine_close_shuts_every_session_down() -> None:
    engine, handler = make_engine()
    conns = [open_session(engine, v) for v in (4, 3, 4)]
    assert engine.clients_count == 3
    engine.close()
    assert engine.clients_count == 0
    assert handler.reasons == {c.sid: CloseReason.SERVER_SHUTTING_DOWN for c in conns}
    assert all(types(c.session.take())[-1] is PacketType.CLOSE for c in conns)


def test_clients_count_follows_opens_and_closes() -> None:
    engine, handler = make_engine()
    first = open_session(engine)
    second = open_session(engine, 3)
    assert engine.clients_count == 2
    first.close()
    assert engine.clients_count == 1
    assert engine.get(first.sid) is None
    assert engine.get(second.sid) is second
    second.close(CloseReason.TRANSPORT_CLOSE, notify=False)
    assert engine.clients_count == 0


def test_a_closed_polling_session_lingers_for_its_last_get() -> None:
    engine, handler = make_engine(ping_interval=5, ping_timeout=5)
    conn = open_session(engine, 4, "polling")
    conn.session.take()
    conn.close()
    assert conn.closed is True
    assert engine.get(conn.sid) is conn  # the next GET still finds the close packet
    assert conn.session.poll() == [Packet(PacketType.CLOSE)]


def test_an_error_in_the_close_handler_does_not_escape() -> None:
    class Broken(Recorder):
        def on_close(self, conn: Connection, reason: CloseReason) -> None:
            super().on_close(conn, reason)
            raise RuntimeError("handler bug")

    handler = Broken()
    engine = EngineServer(EngineOptions(), handler=handler)
    conn = open_session(engine)
    conn.close()
    assert handler.reasons == {conn.sid: CloseReason.FORCED_CLOSE}
    assert engine.clients_count == 0


# -- heartbeat ------------------------------------------------------------------------------


def test_a_silent_protocol_4_client_times_out() -> None:
    engine, handler = make_engine(ping_interval=0.1, ping_timeout=0.1)
    conn = open_session(engine, 4)
    started = time.monotonic()
    assert handler.closed.wait(2) is True
    elapsed = time.monotonic() - started
    assert handler.reasons == {conn.sid: CloseReason.PING_TIMEOUT}
    assert handler.reasons[conn.sid] == "ping timeout"
    assert 0.15 <= elapsed < 1.0
    assert types(conn.session.take()) == [PacketType.OPEN, PacketType.PING]  # pinged once
    assert engine.clients_count == 0


def test_a_silent_protocol_3_client_times_out() -> None:
    engine, handler = make_engine(ping_interval=0.1, ping_timeout=0.1)
    conn = open_session(engine, 3)
    started = time.monotonic()
    assert handler.closed.wait(2) is True
    assert handler.reasons == {conn.sid: CloseReason.PING_TIMEOUT}
    assert 0.15 <= time.monotonic() - started < 1.0
    assert types(conn.session.take()) == [PacketType.OPEN]  # protocol 3 servers never ping


def test_a_client_answering_pings_stays_open() -> None:
    clock = FakeClock()
    engine, handler = make_engine(clock, ping_interval=10, ping_timeout=5)
    conn = open_session(engine, 4)
    assert types(conn.session.take()) == [PacketType.OPEN]
    for _ in range(5):
        clock.advance(10)  # a ping interval since the open or the last pong
        assert types(conn.session.take()) == [PacketType.PING]
        clock.advance(4.5)  # within the ping timeout
        receive(conn, Packet(PacketType.PONG))
    assert handler.closed.is_set() is False
    assert conn.closed is False
    clock.advance(10)
    assert types(conn.session.take()) == [PacketType.PING]
    clock.advance(4.5)
    assert conn.closed is False
    clock.advance(0.5)  # this ping goes unanswered for the whole ping timeout
    assert handler.reasons == {conn.sid: CloseReason.PING_TIMEOUT}


def test_a_protocol_3_client_pinging_stays_open() -> None:
    clock = FakeClock()
    engine, handler = make_engine(clock, ping_interval=10, ping_timeout=5)
    conn = open_session(engine, 3)
    for _ in range(5):
        clock.advance(14.5)  # within ping interval + ping timeout of the open or last ping
        receive(conn, Packet(PacketType.PING))
        assert types(conn.session.take())[-1] is PacketType.PONG
    assert handler.closed.is_set() is False
    assert conn.closed is False
    clock.advance(14.5)
    assert conn.closed is False
    clock.advance(0.5)  # no ping for ping interval + ping timeout
    assert handler.reasons == {conn.sid: CloseReason.PING_TIMEOUT}


# -- overflow -------------------------------------------------------------------------------


def test_a_client_not_reading_is_closed_when_the_queue_overflows() -> None:
    engine, handler = make_engine(max_queue=5)
    conn = open_session(engine)
    conn.session.take()  # the client read the open packet, then stopped reading
    results = [conn.send("m%d" % i) for i in range(10)]
    assert results == [True] * 5 + [False] * 5
    assert handler.reasons == {conn.sid: CloseReason.TRANSPORT_ERROR}
    assert handler.reasons[conn.sid] == "transport error"
    assert conn.closed is True
    assert engine.clients_count == 0
    assert [p.data for p in conn.session.take()] == ["m0", "m1", "m2", "m3", "m4"]


def test_send_many_overflow_closes_too() -> None:
    engine, handler = make_engine(max_queue=5)
    conn = open_session(engine)
    conn.session.take()
    conn.send_many(["x"] * 10)
    assert handler.reasons == {conn.sid: CloseReason.TRANSPORT_ERROR}
    assert len(conn.session.take()) == 5


def test_a_reading_client_never_overflows() -> None:
    engine, handler = make_engine(max_queue=5)
    conn = open_session(engine)
    for i in range(50):
        assert conn.send("m%d" % i) is True
        conn.session.take()
    assert conn.closed is False
    assert handler.reasons == {}


def test_closed_sessions_do_not_stay_in_the_heartbeat_heap() -> None:
    engine, _ = make_engine()
    kept = [open_session(engine) for _ in range(10)]
    for _ in range(3000):
        open_session(engine).close(notify=False)
    assert len(engine._heap) <= 10 + 1025
    assert {id(conn) for conn in kept} <= {id(entry[2]) for entry in engine._heap}
    assert engine.clients_count == 10


def test_wait_delivered_waits_for_polling_clients_to_collect_their_close() -> None:
    engine, _ = make_engine()
    conn = open_session(engine, transport="polling")
    conn.session.take()  # the open packet went out
    engine.close()
    assert engine.wait_delivered(0.05) is False  # the close packet waits for a GET
    gevent.spawn_later(0.05, conn.session.take)  # the client's next poll collects it
    started = time.monotonic()
    assert engine.wait_delivered(2.0) is True
    assert time.monotonic() - started < 1.0


def test_owner_is_the_slot_of_the_layer_above_and_upper_its_deprecated_name() -> None:
    engine, _ = make_engine()
    conn = open_session(engine)
    assert conn.owner is None
    conn.owner = owner = object()
    with pytest.warns(DeprecationWarning, match="Connection.owner"):
        assert conn.upper is owner


def test_wake_calls_set_on_whatever_waits() -> None:
    """A transport that flushes from the hub (the websocket writer) waits like an Event."""
    engine, _ = make_engine()
    conn = open_session(engine)
    woken: List[str] = []

    class Writer:
        def set(self) -> None:
            woken.append("set")

    conn.waiter = Writer()
    conn.send("hello")
    assert woken == ["set"]

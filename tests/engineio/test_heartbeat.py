"""Heartbeat policies, alone and driving a Session with explicit times."""
from __future__ import annotations

import math
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import (
    Closed,
    CloseReason,
    Packet,
    PacketType,
    Session,
    SessionState,
    heartbeat_for,
)
from sio_core.engineio.heartbeat import ClientPings, Heartbeat, ServerPings

INTERVAL, TIMEOUT = 25.0, 20.0
T0 = 1000.0
PING = Packet(PacketType.PING)


def session(version: int, now: float = T0) -> Session:
    return Session("sid", version, "polling", heartbeat_for(version, INTERVAL, TIMEOUT), now)


# -- the policies ---------------------------------------------------------------------------


def test_heartbeat_for() -> None:
    v3, v4 = heartbeat_for(3, 1.5, 2.5), heartbeat_for(4, 1.5, 2.5)
    assert (type(v3), v3.interval, v3.timeout, v3.server_pings) == (ClientPings, 1.5, 2.5, False)
    assert (type(v4), v4.interval, v4.timeout, v4.server_pings) == (ServerPings, 1.5, 2.5, True)


def test_base_policy_has_no_schedule() -> None:
    with pytest.raises(NotImplementedError):
        Heartbeat(1, 2).start(0)
    assert Heartbeat(1, 2).on_ping(5, 6, 7) == (6, 7)
    assert Heartbeat(1, 2).on_pong(5, 6, 7) == (6, 7)
    assert Heartbeat(1, 2).on_ping_sent(5) == (math.inf, 7)


def test_client_pings_schedule() -> None:
    policy = ClientPings(INTERVAL, TIMEOUT)
    assert policy.start(T0) == (math.inf, T0 + 45)
    assert policy.on_ping(T0 + 10, math.inf, T0 + 45) == (math.inf, T0 + 55)
    assert policy.on_pong(T0 + 10, math.inf, T0 + 45) == (math.inf, T0 + 45)


def test_server_pings_schedule() -> None:
    policy = ServerPings(INTERVAL, TIMEOUT)
    assert policy.start(T0) == (T0 + 25, math.inf)
    assert policy.on_ping_sent(T0 + 25) == (math.inf, T0 + 45)
    assert policy.on_pong(T0 + 30, math.inf, T0 + 45) == (T0 + 55, math.inf)
    assert policy.on_ping(T0 + 30, math.inf, T0 + 45) == (math.inf, T0 + 45)


# -- protocol 3: the client pings --------------------------------------------------------------


def test_v3_start() -> None:
    s = session(3)
    assert (s.ping_due, s.deadline) == (math.inf, T0 + INTERVAL + TIMEOUT)
    assert s.next_due() == T0 + 45


def test_v3_ping_is_answered_with_a_pong_carrying_its_data() -> None:
    s = session(3)
    assert s.receive(Packet(PacketType.PING, "hi"), T0 + 10) is None
    assert s.take() == [Packet(PacketType.PONG, "hi")]
    assert s.receive(PING, T0 + 11) is None
    assert s.take() == [Packet(PacketType.PONG, "")]


def test_v3_ping_pushes_the_deadline() -> None:
    s = session(3)
    s.receive(PING, T0 + 10)
    assert s.deadline == T0 + 10 + INTERVAL + TIMEOUT
    assert s.next_due() == T0 + 55
    assert s.tick(T0 + 54.999) is None
    assert s.state is SessionState.OPEN


def test_v3_server_never_pings() -> None:
    s = session(3)
    for now in (T0, T0 + 25, T0 + 44.9):
        assert s.tick(now) is None
    assert s.take() == []


def test_v3_silent_client_times_out() -> None:
    s = session(3)
    assert s.tick(T0 + 44.999) is None
    assert s.tick(T0 + 45) == Closed(CloseReason.PING_TIMEOUT)
    assert s.state is SessionState.CLOSED
    assert s.closed is True
    assert s.reason is CloseReason.PING_TIMEOUT
    # the peer is gone: no close packet for it
    assert s.take() == []
    # once closed, tick has nothing more to say
    assert s.tick(T0 + 100) is None


def test_v3_timeout_after_the_last_ping() -> None:
    s = session(3)
    s.receive(PING, T0 + 40)
    s.take()
    assert s.tick(T0 + 50) is None
    assert s.tick(T0 + 85) == Closed(CloseReason.PING_TIMEOUT)


def test_v3_pong_from_the_client_changes_nothing() -> None:
    s = session(3)
    assert s.receive(Packet(PacketType.PONG), T0 + 10) is None
    assert (s.ping_due, s.deadline) == (math.inf, T0 + 45)
    assert s.take() == []


@given(st.lists(st.floats(0, INTERVAL + TIMEOUT - 0.01), max_size=20))
def test_v3_client_pinging_in_time_never_times_out(gaps: List[float]) -> None:
    s, now = session(3), T0
    for gap in gaps:
        now += gap
        assert s.tick(now) is None
        s.receive(PING, now)
    assert s.take() == [Packet(PacketType.PONG)] * len(gaps)
    assert s.tick(now + INTERVAL + TIMEOUT) == Closed(CloseReason.PING_TIMEOUT)


# -- protocol 4: the server pings ----------------------------------------------------------


def test_v4_start() -> None:
    s = session(4)
    assert (s.ping_due, s.deadline) == (T0 + INTERVAL, math.inf)
    assert s.next_due() == T0 + 25


def test_v4_tick_at_ping_due_queues_a_ping() -> None:
    s = session(4)
    assert s.tick(T0 + 24.999) is None
    assert s.take() == []
    assert s.tick(T0 + 25) is None
    assert s.take() == [Packet(PacketType.PING, "")]
    assert (s.ping_due, s.deadline) == (math.inf, T0 + 25 + TIMEOUT)
    assert s.next_due() == T0 + 45
    # one ping per interval: no second ping while waiting for the pong
    assert s.tick(T0 + 30) is None
    assert s.take() == []


def test_v4_pong_resets_the_schedule() -> None:
    s = session(4)
    s.tick(T0 + 25)
    s.take()
    assert s.receive(Packet(PacketType.PONG), T0 + 30) is None
    assert (s.ping_due, s.deadline) == (T0 + 55, math.inf)
    # past the old deadline, nothing happens
    assert s.tick(T0 + 50) is None
    assert s.state is SessionState.OPEN
    assert s.take() == []
    assert s.tick(T0 + 55) is None
    assert s.take() == [PING]


def test_v4_no_pong_times_out() -> None:
    s = session(4)
    s.tick(T0 + 25)
    assert s.tick(T0 + 44.999) is None
    assert s.tick(T0 + 45) == Closed(CloseReason.PING_TIMEOUT)
    assert s.state is SessionState.CLOSED
    assert s.reason is CloseReason.PING_TIMEOUT
    assert s.take() == [PING]
    assert s.tick(T0 + 100) is None


def test_v4_late_tick_still_pings_first() -> None:
    s = session(4)
    assert s.tick(T0 + 500) is None
    assert s.take() == [PING]
    assert s.deadline == T0 + 500 + TIMEOUT


def test_v4_ping_from_the_client_is_not_answered() -> None:
    s = session(4)
    assert s.receive(Packet(PacketType.PING, "x"), T0 + 10) is None
    assert s.take() == []
    assert (s.ping_due, s.deadline) == (T0 + 25, math.inf)


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, TIMEOUT - 0.01)),
                max_size=15))
def test_v4_client_answering_in_time_never_times_out(rounds) -> None:
    """Each round: the server ticks some time after the ping is due, the pong comes in time."""
    s, now = session(4), T0
    for late, answer in rounds:
        now = s.ping_due + late
        assert s.tick(now) is None
        assert s.take() == [PING]
        now += answer
        assert s.tick(now) is None
        assert s.receive(Packet(PacketType.PONG), now) is None
        assert s.ping_due == now + INTERVAL
    assert s.state is SessionState.OPEN
    assert s.tick(s.ping_due) is None
    assert s.take() == [PING]
    assert s.tick(s.deadline) == Closed(CloseReason.PING_TIMEOUT)


# -- protocol 4: a packet while the pong is due (engine.io 6.6) -------------------------------

MSG = Packet(PacketType.MESSAGE, "hi")


def test_policy_extends_a_pending_deadline_once() -> None:
    policy = ServerPings(INTERVAL, TIMEOUT)
    assert policy.on_packet(T0 + 30, T0 + 45, False) == (T0 + 50, True)
    assert policy.on_packet(T0 + 31, T0 + 50, True) == (T0 + 50, True)
    # no ping outstanding, or the deadline already passed: nothing to extend
    assert policy.on_packet(T0 + 30, math.inf, False) == (math.inf, False)
    assert policy.on_packet(T0 + 45, T0 + 45, False) == (T0 + 45, False)
    # protocol 3 has no such rule: only pings push its deadline
    assert ClientPings(INTERVAL, TIMEOUT).on_packet(T0 + 30, T0 + 45, False) == (T0 + 45, False)


@pytest.mark.parametrize("packet", [MSG, Packet(PacketType.NOOP), Packet(PacketType.PING)])
def test_v4_packet_while_the_pong_is_due_extends_the_deadline_once(packet: Packet) -> None:
    s = session(4)
    s.tick(T0 + 25)  # ping sent; deadline T0 + 45
    s.receive(packet, T0 + 40)
    assert s.deadline == T0 + 40 + TIMEOUT
    s.receive(MSG, T0 + 50)  # a second packet changes nothing
    assert s.deadline == T0 + 60
    assert s.tick(T0 + 59.999) is None
    assert s.tick(T0 + 60) == Closed(CloseReason.PING_TIMEOUT)


def test_v4_each_ping_allows_one_extension() -> None:
    s = session(4)
    s.tick(T0 + 25)
    s.receive(MSG, T0 + 30)
    s.receive(Packet(PacketType.PONG), T0 + 31)
    assert (s.ping_due, s.deadline) == (T0 + 56, math.inf)
    s.receive(MSG, T0 + 40)  # no ping outstanding: nothing to extend
    assert (s.ping_due, s.deadline) == (T0 + 56, math.inf)
    s.tick(T0 + 56)  # the next ping
    assert s.deadline == T0 + 76
    s.receive(MSG, T0 + 70)
    assert s.deadline == T0 + 90


def test_v4_packet_after_the_deadline_does_not_revive_the_session() -> None:
    s = session(4)
    s.tick(T0 + 25)
    s.receive(MSG, T0 + 46)  # the ticker is late; the peer already timed out
    assert s.deadline == T0 + 45
    assert s.tick(T0 + 46) == Closed(CloseReason.PING_TIMEOUT)


def test_v3_messages_do_not_push_the_deadline() -> None:
    s = session(3)
    s.receive(MSG, T0 + 40)
    assert s.deadline == T0 + INTERVAL + TIMEOUT
    assert s.tick(T0 + 45) == Closed(CloseReason.PING_TIMEOUT)


# -- closing on a ping timeout ------------------------------------------------------------------


def unanswered(version: int) -> Session:
    """A session whose client has gone silent (4: the ping sent and taken)."""
    s = session(version)
    if version == 4:
        s.tick(s.ping_due)
        s.take()
    return s


@pytest.mark.parametrize("version", [3, 4])
def test_ping_timeout_answers_the_get_in_flight_with_a_close_packet(version: int) -> None:
    s = unanswered(version)
    s.begin_get()
    assert s.tick(s.deadline) == Closed(CloseReason.PING_TIMEOUT)
    assert s.poll() == [Packet(PacketType.CLOSE)]


@pytest.mark.parametrize("version", [3, 4])
def test_ping_timeout_without_a_get_in_flight_queues_nothing(version: int) -> None:
    s = unanswered(version)
    assert s.tick(s.deadline) == Closed(CloseReason.PING_TIMEOUT)
    assert s.take() == []

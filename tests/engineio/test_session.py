"""The Engine.IO session state machine, driven with explicit times and no I/O."""
from __future__ import annotations

from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import (
    BadRequest,
    Closed,
    CloseReason,
    Message,
    OverlappingRequest,
    Packet,
    PacketType,
    ProtocolError,
    SendResult,
    Session,
    SessionState,
    heartbeat_for,
)
from sio_core.engineio.session import UPGRADE_NOOP_DELAY

T0 = 1000.0
M = PacketType.MESSAGE
NOOP = Packet(PacketType.NOOP)
CLOSE = Packet(PacketType.CLOSE)
PROBE = Packet(PacketType.PING, "probe")
UPGRADE = Packet(PacketType.UPGRADE)


def make(version: int = 4, transport: str = "polling", max_queue: int = 10_000) -> Session:
    return Session("sid", version, transport, heartbeat_for(version, 25, 20), T0,
                   max_queue=max_queue)


def upgraded(version: int = 4) -> Session:
    s = make(version)
    s.probe(PROBE)
    s.upgrade(UPGRADE)
    return s


# -- a new session ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_new_session(version: int, transport: str) -> None:
    s = make(version, transport)
    assert (s.sid, s.version, s.transport) == ("sid", version, transport)
    assert s.state is SessionState.OPEN
    assert s.closed is False
    assert s.reason is None
    assert list(s.outbox) == []
    assert (s.getting, s.posting) == (False, False)
    assert s.max_queue == 10_000
    assert repr(s) == "<Session sid v%d %s open>" % (version, transport)


# -- inbound ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("data", ["hello", "", "😀", b"\x00\x01", b""])
def test_message_event(version: int, data) -> None:
    s = make(version)
    assert s.receive(Packet(M, data), T0) == Message(data)
    assert list(s.outbox) == []


@pytest.mark.parametrize("version", [3, 4])
def test_noop_is_ignored(version: int) -> None:
    s = make(version)
    assert s.receive(NOOP, T0) is None
    assert list(s.outbox) == []
    assert s.state is SessionState.OPEN


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_client_close_packet(version: int, transport: str) -> None:
    s = make(version, transport)
    assert s.receive(CLOSE, T0) == Closed(CloseReason.TRANSPORT_CLOSE)
    assert s.state is SessionState.CLOSED
    assert s.reason is CloseReason.TRANSPORT_CLOSE
    # the client asked for it: no close packet goes back
    assert list(s.outbox) == []
    assert s.close(CloseReason.FORCED_CLOSE) is False


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest.mark.parametrize("packet", [Packet(PacketType.OPEN), Packet(PacketType.OPEN, "{}"),
                                    UPGRADE])
def test_unexpected_packets(version: int, transport: str, packet: Packet) -> None:
    s = make(version, transport)
    with pytest.raises(ProtocolError) as info:
        s.receive(packet, T0)
    assert info.value.reason is CloseReason.PARSE_ERROR
    assert s.state is SessionState.OPEN


def test_nothing_is_received_once_closed() -> None:
    s = make(3)
    s.close(CloseReason.FORCED_CLOSE, notify=False)
    assert s.receive(Packet(M, "late"), T0) is None
    assert s.receive(Packet(PacketType.PING), T0) is None
    assert s.receive(Packet(PacketType.OPEN), T0) is None
    assert s.receive(CLOSE, T0) is None
    assert list(s.outbox) == []
    assert s.reason is CloseReason.FORCED_CLOSE


# -- send --------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_send_queues(transport: str) -> None:
    s = make(4, transport)
    assert s.send("a") is SendResult.QUEUED
    assert s.send(b"b") is SendResult.QUEUED
    assert list(s.outbox) == [Packet(M, "a"), Packet(M, b"b")]


def test_volatile_dropped_on_polling_without_a_get() -> None:
    s = make(4)
    assert s.writable() is False
    assert s.send("v", volatile=True) is SendResult.DROPPED
    assert list(s.outbox) == []


def test_volatile_sent_on_polling_with_a_get_in_flight() -> None:
    s = make(4)
    s.begin_get()
    assert s.writable() is True
    assert s.send("v", volatile=True) is SendResult.QUEUED
    # the outbox is not empty any more: the next volatile message is dropped
    assert s.writable() is False
    assert s.send("w", volatile=True) is SendResult.DROPPED
    assert list(s.outbox) == [Packet(M, "v")]
    s.end_get()
    s.take()
    assert s.send("x", volatile=True) is SendResult.DROPPED


def test_volatile_on_websocket_depends_on_the_outbox() -> None:
    s = make(4, "websocket")
    assert s.writable() is True
    assert s.send("v", volatile=True) is SendResult.QUEUED
    assert s.send("w", volatile=True) is SendResult.DROPPED
    assert s.send("x") is SendResult.QUEUED
    assert list(s.outbox) == [Packet(M, "v"), Packet(M, "x")]
    s.take()
    assert s.send("y", volatile=True) is SendResult.QUEUED


def test_volatile_dropped_while_upgrading() -> None:
    s = make(4)
    s.begin_get()
    s.probe(PROBE)
    assert s.writable() is False
    assert s.send("v", volatile=True) is SendResult.DROPPED


def test_volatile_after_upgrade() -> None:
    s = upgraded()
    assert s.writable() is True
    assert s.send("v", volatile=True) is SendResult.QUEUED


@pytest.mark.parametrize("volatile", [False, True])
def test_overflow(volatile: bool) -> None:
    s = make(4, "websocket", max_queue=3)
    assert [s.send(str(i)) for i in range(3)] == [SendResult.QUEUED] * 3
    assert s.send("x") is SendResult.OVERFLOW
    assert len(s.outbox) == 3
    s.take()
    assert s.send("y", volatile=volatile) is SendResult.QUEUED


def test_control_packets_bypass_the_limit_but_count_towards_it() -> None:
    s = make(4, max_queue=2)
    s.queue(Packet(PacketType.OPEN, "{}"))
    s.queue(NOOP)
    s.queue(NOOP)
    assert len(s.outbox) == 3
    assert s.send("x") is SendResult.OVERFLOW
    assert len(s.outbox) == 3


@pytest.mark.parametrize("volatile", [False, True])
@pytest.mark.parametrize("notify", [False, True])
def test_send_after_close(volatile: bool, notify: bool) -> None:
    s = make(4, "websocket")
    s.close(CloseReason.SERVER_SHUTTING_DOWN, notify=notify)
    assert s.send("x", volatile=volatile) is SendResult.CLOSED
    assert s.writable() is False
    assert list(s.outbox) == ([CLOSE] if notify else [])


def test_take_empties_the_outbox() -> None:
    s = make(4)
    s.send("a")
    s.queue(NOOP)
    assert s.take() == [Packet(M, "a"), NOOP]
    assert s.take() == []
    assert list(s.outbox) == []


# -- poll ---------------------------------------------------------------------------------------


def test_poll_empty_means_wait() -> None:
    assert make(4).poll() == []


def test_poll_takes_everything() -> None:
    s = make(4)
    s.send("a")
    s.send(b"b")
    assert s.poll() == [Packet(M, "a"), Packet(M, b"b")]
    assert s.poll() == []


def test_poll_sends_a_trailing_close_packet_on_its_own() -> None:
    s = make(4)
    s.send("a")
    s.send("b")
    s.close(CloseReason.SERVER_SHUTTING_DOWN)
    assert s.poll() == [Packet(M, "a"), Packet(M, "b")]
    assert s.poll() == [CLOSE]
    assert s.poll() == []


def test_poll_close_packet_alone() -> None:
    s = make(4)
    s.close(CloseReason.FORCED_CLOSE)
    assert s.poll() == [CLOSE]


# -- polling request rules ----------------------------------------------------------------------


def test_overlapping_get() -> None:
    s = make(4)
    s.begin_get()
    assert s.getting is True
    with pytest.raises(OverlappingRequest) as info:
        s.begin_get()
    assert isinstance(info.value, BadRequest)
    assert (info.value.code, info.value.http_status) == (3, 400)
    s.end_get()
    assert s.getting is False
    s.begin_get()
    assert s.getting is True


def test_overlapping_post() -> None:
    s = make(4)
    s.begin_post()
    assert s.posting is True
    with pytest.raises(OverlappingRequest):
        s.begin_post()
    s.end_post()
    assert s.posting is False
    s.begin_post()


def test_a_get_and_a_post_may_overlap() -> None:
    s = make(4)
    s.begin_get()
    s.begin_post()
    assert (s.getting, s.posting) == (True, True)


@pytest.mark.parametrize("begin", ["begin_get", "begin_post"])
def test_polling_requests_on_websocket(begin: str) -> None:
    for s in (make(4, "websocket"), upgraded(4), upgraded(3)):
        with pytest.raises(BadRequest) as info:
            getattr(s, begin)()
        assert type(info.value) is BadRequest
        assert (s.getting, s.posting) == (False, False)


# -- upgrade -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
def test_upgrade_sequence(version: int) -> None:
    s = make(version)
    assert s.can_upgrade() is True
    assert s.probe(PROBE) == Packet(PacketType.PONG, "probe")
    assert s.state is SessionState.UPGRADING
    assert s.transport == "polling"
    assert s.can_upgrade() is False
    # the pending GET is answered with a noop so that the client pauses polling
    assert s.poll() == [NOOP]
    s.send("a")
    s.send(b"b")
    assert s.upgrade(UPGRADE) is None
    assert s.transport == "websocket"
    assert s.state is SessionState.OPEN
    assert s.can_upgrade() is False
    # a GET still pending on polling gets a noop; the messages wait for the websocket
    assert s.poll() == [NOOP]
    assert list(s.outbox) == [Packet(M, "a"), Packet(M, b"b")]
    assert s.take() == [Packet(M, "a"), Packet(M, b"b")]


def test_upgrade_noop_waits_for_packets_as_engineio_does() -> None:
    """Given the time, the GET waiting during an upgrade gets its noop only after
    UPGRADE_NOOP_DELAY, and real packets that come meanwhile instead."""
    s = make(4)
    s.probe(PROBE)
    assert s.poll(T0) == []  # the first poll that sees the upgrade starts the delay
    assert s.noop_due == T0 + UPGRADE_NOOP_DELAY
    assert s.poll(T0 + UPGRADE_NOOP_DELAY / 2) == []
    s.send("a")
    assert s.poll(T0 + UPGRADE_NOOP_DELAY / 2) == [Packet(M, "a")]
    assert s.poll(T0 + UPGRADE_NOOP_DELAY) == [NOOP]
    assert s.poll(T0 + 1) == [NOOP]  # the delay runs once per upgrade
    s.abort_upgrade()
    assert s.poll(T0 + 2) == []
    s.probe(PROBE)  # a new upgrade, a new delay
    assert s.poll(T0 + 3) == []
    assert s.poll(T0 + 3 + UPGRADE_NOOP_DELAY) == [NOOP]


def test_poll_while_upgrading_delivers_what_is_queued() -> None:
    s = make(4)
    s.send("a")
    s.probe(PROBE)
    assert s.poll() == [Packet(M, "a")]
    assert s.poll() == [NOOP]


@pytest.mark.parametrize("packet", [
    Packet(PacketType.PING), Packet(PacketType.PING, "probe "), Packet(PacketType.PING, "Probe"),
    Packet(PacketType.PING, b"probe"), Packet(PacketType.PONG, "probe"), Packet(M, "probe"),
    UPGRADE,
])
def test_probe_with_wrong_data(packet: Packet) -> None:
    s = make(4)
    with pytest.raises(ProtocolError):
        s.probe(packet)
    assert s.state is SessionState.OPEN
    assert s.transport == "polling"


def test_probe_in_the_wrong_state() -> None:
    s = make(4)
    s.probe(PROBE)
    with pytest.raises(ProtocolError):
        s.probe(PROBE)  # already upgrading
    assert s.state is SessionState.UPGRADING
    s.upgrade(UPGRADE)
    with pytest.raises(ProtocolError):
        s.probe(PROBE)  # already on websocket
    with pytest.raises(ProtocolError):
        make(4, "websocket").probe(PROBE)
    closed = make(4)
    closed.close(CloseReason.FORCED_CLOSE)
    assert closed.can_upgrade() is False
    with pytest.raises(ProtocolError):
        closed.probe(PROBE)
    assert closed.state is SessionState.CLOSED


def test_upgrade_without_probe() -> None:
    s = make(4)
    with pytest.raises(ProtocolError):
        s.upgrade(UPGRADE)
    assert (s.state, s.transport) == (SessionState.OPEN, "polling")


def test_upgrade_twice() -> None:
    s = upgraded()
    with pytest.raises(ProtocolError):
        s.upgrade(UPGRADE)
    assert (s.state, s.transport) == (SessionState.OPEN, "websocket")


@pytest.mark.parametrize("packet", [NOOP, PROBE, Packet(PacketType.PONG, "probe"), Packet(M, "5")])
def test_upgrade_with_the_wrong_packet(packet: Packet) -> None:
    s = make(4)
    s.probe(PROBE)
    with pytest.raises(ProtocolError):
        s.upgrade(packet)
    assert (s.state, s.transport) == (SessionState.UPGRADING, "polling")


def test_closed_while_upgrading_the_last_packets_go_out_on_the_websocket() -> None:
    """The client paused polling after the noop: only the websocket can deliver them."""
    s = make(4)
    s.probe(PROBE)
    assert s.poll() == [Packet(PacketType.NOOP)]
    s.send("the ack")
    s.close(CloseReason.FORCED_CLOSE)
    s.upgrade(UPGRADE)
    assert (s.state, s.transport) == (SessionState.CLOSED, "websocket")
    assert s.take() == [Packet(M, "the ack"), Packet(PacketType.CLOSE)]
    with pytest.raises(ProtocolError):
        s.upgrade(UPGRADE)  # once


def test_upgrade_after_close_without_probe() -> None:
    s = make(4)
    s.close(CloseReason.TRANSPORT_ERROR)
    with pytest.raises(ProtocolError):
        s.upgrade(UPGRADE)
    assert (s.state, s.transport) == (SessionState.CLOSED, "polling")


def test_abort_upgrade_returns_to_polling() -> None:
    s = make(4)
    s.send("a")
    s.probe(PROBE)
    s.abort_upgrade()
    assert (s.state, s.transport) == (SessionState.OPEN, "polling")
    assert s.can_upgrade() is True
    assert s.poll() == [Packet(M, "a")]
    # an empty poll waits again instead of answering a noop
    assert s.poll() == []
    s.begin_get()
    # and a new probe may come
    assert s.probe(PROBE) == Packet(PacketType.PONG, "probe")


def test_abort_upgrade_outside_an_upgrade_changes_nothing() -> None:
    s = make(4)
    s.abort_upgrade()
    assert (s.state, s.transport) == (SessionState.OPEN, "polling")
    u = upgraded()
    u.abort_upgrade()
    assert (u.state, u.transport) == (SessionState.OPEN, "websocket")
    c = make(4)
    c.probe(PROBE)
    c.close(CloseReason.FORCED_CLOSE)
    c.abort_upgrade()
    assert c.state is SessionState.CLOSED


# -- nothing lost or reordered across an upgrade ---------------------------------------------------


@st.composite
def upgrade_scripts(draw):
    """Sends and polls around the probe and upgrade, then sends and websocket writes."""
    polling_ops = st.lists(st.sampled_from(["send", "poll", "tick"]), max_size=8)
    return (draw(st.sampled_from([3, 4])), draw(polling_ops), draw(polling_ops),
            draw(st.lists(st.sampled_from(["send", "take", "poll", "tick"]), max_size=8)),
            draw(st.lists(st.text(max_size=3) | st.binary(max_size=3), min_size=30,
                          max_size=30)))


@given(upgrade_scripts())
def test_upgrade_loses_and_reorders_nothing(script) -> None:
    version, before_probe, while_upgrading, after_upgrade, payloads = script
    s = make(version)
    sent: List[Packet] = []
    from_polling: List[Packet] = []
    from_websocket: List[Packet] = []
    data = iter(payloads)
    now = T0

    def send() -> None:
        packet = Packet(M, next(data))
        assert s.send(packet.data) is SendResult.QUEUED
        sent.append(packet)

    def poll() -> List[Packet]:
        s.begin_get()
        got = s.poll()
        s.end_get()
        return got

    def tick() -> None:
        # the heartbeat adds its packets to the same outbox; they are filtered below
        nonlocal now
        now += 30
        assert s.tick(now) is None
        if version == 3:
            s.receive(Packet(PacketType.PING), now)
        else:
            s.receive(Packet(PacketType.PONG), now)

    for op in before_probe:
        if op == "send":
            send()
        elif op == "tick":
            tick()
        else:
            was_empty = not s.outbox
            got = poll()
            assert (got == []) is was_empty
            from_polling += got
    assert s.probe(PROBE) == Packet(PacketType.PONG, "probe")
    for op in while_upgrading:
        if op == "send":
            send()
        elif op == "tick":
            tick()
        else:
            was_empty = not s.outbox
            got = poll()
            assert (got == [NOOP]) is was_empty
            from_polling += got
    s.upgrade(UPGRADE)
    for op in after_upgrade:
        if op == "send":
            send()
        elif op == "tick":
            tick()
        elif op == "take":
            from_websocket += s.take()
        else:
            assert s.poll() == [NOOP]
    from_websocket += s.take()

    def messages(packets: List[Packet]) -> List[Packet]:
        heartbeat = (PacketType.PING, PacketType.PONG, PacketType.NOOP)
        return [p for p in packets if p.type not in heartbeat]

    assert messages(from_polling) + messages(from_websocket) == sent
    assert [p for p in from_websocket if p.type is PacketType.NOOP] == []


# -- close ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_close_with_notify(transport: str) -> None:
    s = make(4, transport)
    s.send("a")
    assert s.close(CloseReason.SERVER_SHUTTING_DOWN) is True
    assert s.state is SessionState.CLOSED
    assert s.closed is True
    assert s.reason is CloseReason.SERVER_SHUTTING_DOWN
    assert list(s.outbox) == [Packet(M, "a"), CLOSE]
    assert repr(s) == "<Session sid v4 %s closed>" % transport
    # the second close changes nothing
    assert s.close(CloseReason.FORCED_CLOSE) is False
    assert s.close(CloseReason.FORCED_CLOSE, notify=False) is False
    assert s.reason is CloseReason.SERVER_SHUTTING_DOWN
    assert list(s.outbox) == [Packet(M, "a"), CLOSE]


def test_close_without_notify() -> None:
    s = make(4)
    assert s.close(CloseReason.TRANSPORT_ERROR, notify=False) is True
    assert list(s.outbox) == []
    assert s.reason is CloseReason.TRANSPORT_ERROR
    assert s.close(CloseReason.TRANSPORT_ERROR) is False
    assert list(s.outbox) == []


def test_close_while_upgrading() -> None:
    s = make(4)
    s.probe(PROBE)
    assert s.close(CloseReason.FORCED_CLOSE) is True
    assert s.state is SessionState.CLOSED
    assert s.poll() == [CLOSE]

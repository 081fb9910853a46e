"""The Engine.IO session state machine: heartbeat, outbox, polling rules, upgrade.

One ``Session`` per client. It never performs I/O: the layer above feeds it
decoded packets and the time, takes packets out of its outbox to write them, and
acts on what the methods return.

States and transitions (anything else raises ``ProtocolError``)::

    OPEN --probe()--> UPGRADING --upgrade()--> OPEN (on websocket)
    UPGRADING --abort_upgrade()--> OPEN (still polling)
    any --close(reason)--> CLOSED
"""
from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Deque, List, NamedTuple, Optional, Union

from .errors import BadRequest, OverlappingRequest, ProtocolError
from .heartbeat import Heartbeat
from .packet import Data, Packet, PacketType, UncompressedPacket
from .reasons import CloseReason

__all__ = ["SessionState", "SendResult", "Message", "Closed", "Event", "Session",
           "UPGRADE_NOOP_DELAY"]


class SessionState(Enum):
    """Where a session is in its life."""

    OPEN = "open"
    UPGRADING = "upgrading"
    CLOSED = "closed"


class SendResult(Enum):
    """What became of a message handed to ``Session.send``."""

    QUEUED = "queued"
    DROPPED = "dropped"  # volatile, and the transport was not writable
    OVERFLOW = "overflow"  # the outbox is full: the client is too slow
    CLOSED = "closed"


class Message(NamedTuple):
    """A message from the client."""

    data: Data


class Closed(NamedTuple):
    """The session closed."""

    reason: CloseReason


Event = Union[Message, Closed]

_NOOP = Packet(PacketType.NOOP)
_CLOSE = Packet(PacketType.CLOSE)

#: seconds a polling GET waits for packets after an upgrade started, before it is answered
#: with the noop that lets the client pause polling (engine.io checks every 100 ms)
UPGRADE_NOOP_DELAY = 0.1


class Session:
    """State of one Engine.IO session.

    :param sid: session id
    :param version: protocol revision, 3 or 4
    :param transport: ``polling`` or ``websocket``
    :param heartbeat: the heartbeat policy for ``version``
    :param now: current time (seconds)
    :param max_queue: most packets held unsent
    """

    __slots__ = (
        "sid", "version", "transport", "state", "reason", "outbox", "heartbeat",
        "ping_due", "deadline", "extended", "max_queue", "getting", "posting", "probed",
        "noop_due",
    )

    def __init__(
        self, sid: str, version: int, transport: str, heartbeat: Heartbeat, now: float,
        max_queue: int = 10_000,
    ) -> None:
        self.sid = sid
        self.version = version
        #: the transport currently carrying the session
        self.transport = transport
        self.state = SessionState.OPEN
        #: why the session closed, once it has
        self.reason: Optional[CloseReason] = None
        #: packets waiting for the transport, oldest first
        self.outbox: Deque[Packet] = deque()
        self.heartbeat = heartbeat
        self.ping_due, self.deadline = heartbeat.start(now)
        #: the deadline was already pushed back by a packet since the last ping
        self.extended = False
        self.max_queue = max_queue
        #: a polling GET is in flight
        self.getting = False
        #: a polling POST is in flight
        self.posting = False
        #: a websocket answered the probe and has not sent the upgrade packet yet
        self.probed = False
        #: when a GET waiting during this upgrade gets its noop (see ``poll``)
        self.noop_due: Optional[float] = None

    def __repr__(self) -> str:
        return "<Session %s v%d %s %s>" % (self.sid, self.version, self.transport, self.state.value)

    # -- inbound -----------------------------------------------------------------

    def receive(self, packet: Packet, now: float) -> Optional[Event]:
        """Consume one packet from the client.

        :returns: a ``Message`` or ``Closed`` event for the layer above, or None
        :raises ProtocolError: on a packet the client may not send here
        """
        if self.state is SessionState.CLOSED:
            return None
        ptype = packet.type
        if ptype is not PacketType.PONG:
            self.deadline, self.extended = self.heartbeat.on_packet(now, self.deadline,
                                                                    self.extended)
        if ptype is PacketType.MESSAGE:
            return Message(packet.data)
        if ptype is PacketType.PING:
            self.ping_due, self.deadline = self.heartbeat.on_ping(now, self.ping_due, self.deadline)
            if self.version == 3:
                self.outbox.append(Packet(PacketType.PONG, packet.data))
            return None
        if ptype is PacketType.PONG:
            self.ping_due, self.deadline = self.heartbeat.on_pong(now, self.ping_due, self.deadline)
            return None
        if ptype is PacketType.CLOSE:
            self.close(CloseReason.TRANSPORT_CLOSE, notify=False)
            return Closed(CloseReason.TRANSPORT_CLOSE)
        if ptype is PacketType.NOOP:
            return None
        raise ProtocolError("unexpected %s packet from client" % ptype.name)

    # -- outbound ----------------------------------------------------------------

    def writable(self) -> bool:
        """Whether a packet sent now would go out at once."""
        if self.state is not SessionState.OPEN or self.outbox:
            return False
        return self.transport == "websocket" or self.getting

    def send(self, data: Data, volatile: bool = False, compress: bool = True) -> SendResult:
        """Queue a message for the client.

        :param data: text or bytes
        :param volatile: drop it instead when the transport is not writable now
        :param compress: False: the websocket sends it uncompressed (permessage-deflate)
        """
        if self.state is SessionState.CLOSED:
            return SendResult.CLOSED
        if volatile and not self.writable():
            return SendResult.DROPPED
        if len(self.outbox) >= self.max_queue:
            return SendResult.OVERFLOW
        self.outbox.append(Packet(PacketType.MESSAGE, data) if compress
                           else UncompressedPacket(PacketType.MESSAGE, data))
        return SendResult.QUEUED

    def queue(self, packet: Packet) -> None:
        """Queue a control packet (open, noop, ...), outside the queue limit."""
        self.outbox.append(packet)

    def take(self) -> List[Packet]:
        """Remove and return everything queued."""
        packets = list(self.outbox)
        self.outbox.clear()
        return packets

    def poll(self, now: Optional[float] = None) -> List[Packet]:
        """What a polling GET answers with now; empty means keep waiting.

        After an upgrade started, the GET is answered with a noop so that the
        client can pause polling; once on websocket, queued packets stay for it.
        Given ``now``, that noop waits ``UPGRADE_NOOP_DELAY`` (from the first poll
        that saw the upgrade) for real packets to carry instead, as engine.io's
        100 ms upgrade check does; ``noop_due`` says until when.
        """
        if self.transport != "polling":
            return [_NOOP]
        outbox = self.outbox
        if outbox:
            if outbox[-1].type is PacketType.CLOSE and len(outbox) > 1:
                # clients act on a close packet before the packets sharing its payload
                # (socket.io-client defers packet handling): send it on its own
                close = outbox.pop()
                packets = self.take()
                outbox.append(close)
                return packets
            return self.take()
        if self.state is SessionState.UPGRADING:
            if now is None:
                return [_NOOP]
            if self.noop_due is None:
                self.noop_due = now + UPGRADE_NOOP_DELAY
            return [_NOOP] if now >= self.noop_due else []
        return []

    # -- polling request rules -------------------------------------------------

    def _check_polling(self) -> None:
        if self.transport != "polling":
            raise BadRequest("session %s is on %s, not polling" % (self.sid, self.transport))

    def begin_get(self) -> None:
        """A polling GET arrives.

        :raises OverlappingRequest: when one is already in flight (close the session)
        :raises BadRequest: when the session is no longer on polling
        """
        self._check_polling()
        if self.getting:
            raise OverlappingRequest("overlapping GET for session %s" % self.sid)
        self.getting = True

    def end_get(self) -> None:
        """The polling GET was answered."""
        self.getting = False

    def begin_post(self) -> None:
        """A polling POST arrives; see ``begin_get``."""
        self._check_polling()
        if self.posting:
            raise OverlappingRequest("overlapping POST for session %s" % self.sid)
        self.posting = True

    def end_post(self) -> None:
        """The polling POST was answered."""
        self.posting = False

    # -- upgrade -----------------------------------------------------------------

    def can_upgrade(self) -> bool:
        """Whether a websocket may join this session now."""
        return self.state is SessionState.OPEN and self.transport == "polling"

    def probe(self, packet: Packet) -> Packet:
        """A ``2probe`` arrived on the joining websocket; returns the ``3probe`` to send on it.

        :raises ProtocolError: when the session cannot upgrade or the packet is not the probe
        """
        if packet.type is not PacketType.PING or packet.data != "probe":
            raise ProtocolError("expected the 2probe packet, got %r" % (packet,))
        if not self.can_upgrade():
            raise ProtocolError("probe in state %s on %s" % (self.state.value, self.transport))
        self.state = SessionState.UPGRADING
        self.probed = True
        self.noop_due = None
        return Packet(PacketType.PONG, "probe")

    def upgrade(self, packet: Packet) -> None:
        """The upgrade packet arrived on the websocket: switch transports.

        :raises ProtocolError: when no probe preceded it or the packet is not ``5``
        """
        if packet.type is not PacketType.UPGRADE:
            raise ProtocolError("expected the upgrade packet, got %r" % (packet,))
        if not self.probed:
            raise ProtocolError("upgrade in state %s without a probe" % self.state.value)
        self.probed = False
        self.transport = "websocket"
        if self.state is SessionState.UPGRADING:
            self.state = SessionState.OPEN
        # closed meanwhile: the client paused polling for this websocket, so what is
        # still queued (the last packets, the close) goes out on it

    def abort_upgrade(self) -> None:
        """The joining websocket went away before the upgrade completed."""
        self.probed = False
        if self.state is SessionState.UPGRADING:
            self.state = SessionState.OPEN

    # -- heartbeat and closing ---------------------------------------------------

    def next_due(self) -> float:
        """When ``tick`` next has something to do."""
        return min(self.ping_due, self.deadline)

    def tick(self, now: float) -> Optional[Closed]:
        """Advance the heartbeat: queue a ping, or close on a timeout.

        :returns: ``Closed`` when the peer timed out
        """
        if self.state is SessionState.CLOSED:
            return None
        if now >= self.deadline:
            # a polling GET in flight is answered with the close packet, as engine.io does,
            # so the client reports "transport close" rather than an error on its next GET
            self.close(CloseReason.PING_TIMEOUT, notify=self.getting)
            return Closed(CloseReason.PING_TIMEOUT)
        if now >= self.ping_due:
            self.outbox.append(Packet(PacketType.PING))
            self.ping_due, self.deadline = self.heartbeat.on_ping_sent(now)
            self.extended = False
        return None

    @property
    def closed(self) -> bool:
        """Whether the session is closed."""
        return self.state is SessionState.CLOSED

    def close(self, reason: CloseReason, notify: bool = True) -> bool:
        """Close the session.

        :param reason: why
        :param notify: queue a close packet for the client
        :returns: False when it was already closed
        """
        if self.state is SessionState.CLOSED:
            return False
        self.state = SessionState.CLOSED
        self.reason = reason
        if notify:
            self.outbox.append(_CLOSE)
        return True

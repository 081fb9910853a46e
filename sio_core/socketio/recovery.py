"""Connection state recovery (socket.io 4.6+): the rules and the bounded stores, pure.

With recovery on, the server's CONNECT reply carries ``{"sid", "pid"}``; every broadcast
EVENT without an ack and not volatile gets an *offset* (a string) appended as its last
argument and is kept in a ``PacketLog``; a socket that drops for a recoverable reason is
kept as a ``PersistedSession`` in a ``SessionStore``. A client reconnecting within the
window sends ``{"pid", "offset"}`` in its CONNECT auth and gets back its socket id, rooms,
``data`` and the packets for it logged after ``offset``.

Nothing here reads a clock: every ``now`` is passed in (seconds, monotonic).
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any, Deque, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

__all__ = [
    "RECOVERABLE_REASONS", "LoggedPacket", "PacketLog", "PersistedSession", "RecoveryOptions",
    "SessionStore", "is_recoverable", "reaches", "recovery_auth", "recovery_request",
    "reply_pid",
]

#: disconnect reasons after which a session is kept (socket.io's list)
RECOVERABLE_REASONS = frozenset([
    "transport error", "transport close", "forced close", "ping timeout",
    "server shutting down", "forced server close",
])


@dataclass(frozen=True)
class RecoveryOptions:
    """The ``connection_state_recovery`` option, validated once.

    :param max_disconnection_duration: seconds a dropped session can be recovered
    :param skip_middlewares: connect middlewares do not run for a recovered session
    :param max_packets: the most packets a namespace keeps for recovery (oldest go first)
    """

    max_disconnection_duration: float = 120.0
    skip_middlewares: bool = True
    max_packets: int = 10_000

    def __post_init__(self) -> None:
        if not self.max_disconnection_duration > 0:
            raise ValueError("max_disconnection_duration must be > 0")
        if self.max_packets < 1:
            raise ValueError("max_packets must be >= 1")

    @classmethod
    def from_option(cls, value: Any) -> Optional["RecoveryOptions"]:
        """The options for a server's ``connection_state_recovery=`` value.

        None or False: off; True: the defaults; a mapping of the keyword names above;
        a ``RecoveryOptions``: itself.
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError("connection_state_recovery must be a bool, a dict or RecoveryOptions, "
                        "not %s" % type(value).__name__)


def is_recoverable(reason: str) -> bool:
    """Whether a socket closed for ``reason`` is kept for recovery."""
    return str(reason) in RECOVERABLE_REASONS


def recovery_request(auth: Any) -> Optional[Tuple[str, str]]:
    """``(pid, offset)`` when a CONNECT's auth asks to recover a session, else None."""
    if not isinstance(auth, dict):
        return None
    pid, offset = auth.get("pid"), auth.get("offset")
    if isinstance(pid, str) and isinstance(offset, str):
        return pid, offset
    return None


def recovery_auth(auth: Optional[Dict[str, Any]], pid: Optional[str],
                  offset: Optional[str]) -> Optional[Dict[str, Any]]:
    """The auth a client sends in its CONNECT: with a ``pid`` from an earlier session,
    ``{"pid", "offset"}`` under the application's own keys (as socket.io-client; no
    ``offset`` key before any offset was received)."""
    if pid is None:
        return auth
    merged: Dict[str, Any] = {"pid": pid}
    if offset is not None:
        merged["offset"] = offset
    merged.update(auth or {})
    return merged


def reply_pid(data: Any) -> Optional[str]:
    """The private session id in a CONNECT reply's data (None: recovery is off)."""
    pid = data.get("pid") if isinstance(data, dict) else None
    return pid if isinstance(pid, str) else None


def reaches(session_rooms: Iterable[str], rooms: FrozenSet[str],
            except_rooms: FrozenSet[str]) -> bool:
    """Whether a broadcast to ``rooms`` (all when empty) minus ``except_rooms`` reaches a
    socket that was in ``session_rooms``."""
    mine = set(session_rooms)
    return (not rooms or not mine.isdisjoint(rooms)) and mine.isdisjoint(except_rooms)


@dataclass(frozen=True)
class PersistedSession:
    """What is kept of a dropped socket."""

    #: the socket id, given back on recovery
    sid: str
    #: the private session id the client proves itself with
    pid: str
    #: its rooms (its own included)
    rooms: Tuple[str, ...]
    #: its ``socket.data``
    data: Any
    #: when it dropped
    disconnected_at: float


@dataclass(frozen=True)
class LoggedPacket:
    """A broadcast kept for recovery."""

    offset: str
    rooms: FrozenSet[str]
    except_rooms: FrozenSet[str]
    #: the EVENT data, offset included
    data: List[Any]
    emitted_at: float


class SessionStore:
    """Dropped sessions by pid, each kept for ``max_age`` seconds."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._sessions: Dict[str, PersistedSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def put(self, session: PersistedSession, now: float) -> None:
        """Keep ``session`` (and forget the expired ones)."""
        self.prune(now)
        self._sessions[session.pid] = session

    def take(self, pid: str, now: float) -> Optional[PersistedSession]:
        """Remove and return the unexpired session ``pid``, or None."""
        session = self._sessions.pop(pid, None)
        if session is None or session.disconnected_at + self.max_age < now:
            return None
        return session

    def prune(self, now: float) -> None:
        """Forget the expired sessions (the oldest come first: ``put`` is called in time
        order, so this stops at the first one still kept)."""
        horizon = now - self.max_age
        sessions = self._sessions
        while sessions:
            pid, oldest = next(iter(sessions.items()))
            if oldest.disconnected_at >= horizon:
                break
            del sessions[pid]


class PacketLog:
    """The broadcasts of one namespace, newest last, at most ``max_packets`` of them and
    none older than ``max_age`` seconds.

    :param prefix: starts every offset, so offsets of another log (a previous run) are
        never found here
    """

    def __init__(self, max_age: float, max_packets: int, prefix: str) -> None:
        self.max_age = max_age
        self._packets: Deque[LoggedPacket] = deque(maxlen=max_packets)
        self._index: Dict[str, int] = {}  # offset -> sequence number
        self._first = 0  # the sequence number of self._packets[0]
        self._prefix = prefix
        self._next = 0  # the sequence number of the next packet

    def __len__(self) -> int:
        return len(self._packets)

    def next_offset(self) -> str:
        """The offset of the next packet to ``append``."""
        return "%s%x" % (self._prefix, self._next)

    def append(self, offset: str, data: List[Any], rooms: FrozenSet[str],
               except_rooms: FrozenSet[str], now: float) -> None:
        """Log the data (offset included) of a broadcast stamped with ``next_offset()``."""
        if offset != self.next_offset():
            raise ValueError("%r is not the next offset of this log" % offset)
        self.prune(now)
        seq = self._next
        self._next += 1
        if len(self._packets) == self._packets.maxlen:
            self._forget_oldest()
        if not self._packets:
            self._first = seq
        self._packets.append(LoggedPacket(offset, rooms, except_rooms, data, now))
        self._index[offset] = seq

    def _forget_oldest(self) -> None:
        oldest = self._packets.popleft()
        del self._index[oldest.offset]
        self._first += 1

    def prune(self, now: float) -> None:
        """Forget the packets older than ``max_age``."""
        horizon = now - self.max_age
        while self._packets and self._packets[0].emitted_at < horizon:
            self._forget_oldest()

    def since(self, offset: str, rooms: Iterable[str], now: float) -> Optional[List[List[Any]]]:
        """The data of the packets after ``offset`` that reach a socket in ``rooms``, in
        order; None when ``offset`` is not (or no longer) in the log."""
        self.prune(now)
        seq = self._index.get(offset)
        if seq is None:
            return None
        mine = list(rooms)
        after = itertools.islice(self._packets, seq - self._first + 1, None)
        return [p.data for p in after if reaches(mine, p.rooms, p.except_rooms)]


"""The adapter interface: rooms of one namespace, and broadcasting to them.

An adapter keeps two indexes, ``rooms`` (room → socket ids) and ``sids``
(socket id → rooms), so a socket's rooms are found without scanning. Every
socket is in a room named by its own id.

Broadcasts encode the packet **once** and hand the same messages to each
recipient's connection. A multi-node adapter (``RedisAdapter``) overrides the
hooks marked *multi-node*: it forwards broadcasts and queries to the other
nodes and answers theirs by calling the local ``*_local`` methods here.

Interface (every method takes and returns plain values):

- ``add_all(sid, rooms)``, ``delete(sid, room)``, ``delete_all(sid)``
- ``socket_rooms(sid)`` → set of rooms; ``sockets(rooms)`` → set of socket ids
- ``broadcast(packet, opts)``; ``broadcast_with_ack(packet, opts, on_count, on_ack)``
- ``fetch_sockets(opts)``, ``add_sockets(opts, rooms)``, ``del_sockets(opts, rooms)``,
  ``disconnect_sockets(opts, close)``
- ``server_count()``, ``init()``, ``close()``
- connection state recovery, when the namespace's ``recovery`` options are set:
  ``persist_session(session)``, ``restore_session(pid, offset)``,
  ``missed_packets(offset, rooms)``; ``broadcast`` logs the packets it stamps with an offset

What the adapter needs from the namespace it serves and from each of its sockets is
spelled out by two protocols, ``AdaptedNamespace`` and ``AdaptedSocket``; the adapter
knows nothing else of them (``sio_core.server``'s ``Namespace`` and ``Socket`` fit).

An adapter built without a namespace (``RedisAdapter(url=...)``) is a *template*:
given as a server's ``adapter=`` option, the server calls ``for_namespace(nsp)`` on it
once per namespace.
"""
from __future__ import annotations

import logging
import secrets
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Protocol,
    Set,
)

from ..socketio import (
    EncodedPacket,
    Packet,
    PacketLog,
    PacketType,
    PersistedSession,
    RecoveryOptions,
    SessionStore,
    encode,
)

__all__ = ["Adapter", "AdaptedNamespace", "AdaptedSocket", "BroadcastOptions"]

log = logging.getLogger(__name__)


class BroadcastOptions(NamedTuple):
    """Who receives an emit, and how: the one value of emit flags.

    A broadcast uses every field; a socket's own emit (``socket.volatile``,
    ``socket.timeout(5)``) only the flags, its rooms staying empty.
    """

    #: target rooms (union); empty means the whole namespace
    rooms: FrozenSet[str] = frozenset()
    #: rooms whose members are skipped
    except_rooms: FrozenSet[str] = frozenset()
    #: drop for clients whose transport is not writable now
    volatile: bool = False
    #: stay on this node
    local: bool = False
    #: False: the packet is never compressed on the websocket (permessage-deflate)
    compress: bool = True
    #: ack timeout in seconds, for emits that collect acks
    timeout: Optional[float] = None


class AdaptedSocket(Protocol):
    """What an adapter needs from a socket of its namespace."""

    #: the socket id (each socket is in the room of that name)
    id: str
    #: the application's free slot, reported to other nodes by ``fetch_sockets``
    data: Any

    @property
    def rooms(self) -> Set[str]:
        """The socket's rooms."""

    def write_messages(self, messages: List[Any], volatile: bool = False,
                       compress: bool = True) -> None:
        """Send the encoded messages of one packet to the socket's client (``compress``
        False: never compressed on the websocket)."""

    def register_ack(self, ack_id: int, on_ack: Callable[[Any], None]) -> None:
        """Call ``on_ack(values)`` when the client acks ``ack_id``."""

    def join(self, rooms: Iterable[str]) -> Any:
        """Join ``rooms``."""

    def leave(self, room: str) -> Any:
        """Leave ``room``."""

    def disconnect(self, close: bool = False) -> Any:
        """Leave the namespace; with ``close``, close the connection."""


class AdaptedNamespace(Protocol):
    """What an adapter needs from the namespace it serves."""

    #: the namespace name, e.g. ``/chat``
    name: str
    @property
    def recovery(self) -> Optional[RecoveryOptions]:
        """Connection state recovery options (None: off)."""

    @property
    def clock(self) -> Any:
        """The server's clock (``monotonic()`` stamps recovery's sessions and packets)."""

    @property
    def connected(self) -> Mapping[str, AdaptedSocket]:
        """The connected sockets of this node, by id."""

    def dumps(self, value: Any) -> str:
        """The server's JSON encoder."""

    def next_ack_id(self) -> int:
        """A fresh ack id, unique in the namespace (a broadcast shares one)."""


class Adapter:
    """In-process room bookkeeping and broadcast for one namespace.

    :param nsp: the namespace served; None makes a template (see ``for_namespace``)
    """

    def __init__(self, nsp: Optional[AdaptedNamespace] = None) -> None:
        #: the namespace served (None in a template)
        self.nsp: AdaptedNamespace = nsp  # type: ignore[assignment]
        #: room → socket ids
        self.rooms: Dict[str, Set[str]] = {}
        #: socket id → rooms (the reverse index)
        self.sids: Dict[str, Set[str]] = {}
        #: ``fn(change, room, sid)`` for each room joined (``"join"``) or left (``"leave"``)
        self._room_observers: Optional[List[Callable[[str, str, str], None]]] = None
        # connection state recovery: made at first use, when the namespace has it on
        self._packet_log: Optional[PacketLog] = None
        self._sessions: Optional[SessionStore] = None

    def observe_rooms(self, fn: Callable[[str, str, str], None]) -> None:
        """Call ``fn(change, room, sid)`` whenever a socket of this node joins a room
        (``change`` is ``"join"``) or leaves one (``"leave"``), its own room included.

        :param fn: the observer; it runs inside the room change and must not block
        """
        if self._room_observers is None:
            self._room_observers = []
        self._room_observers.append(fn)

    def _rooms_changed(self, change: str, sid: str, rooms: Iterable[str]) -> None:
        for fn in list(self._room_observers or ()):
            for room in rooms:
                try:
                    fn(change, room, sid)
                except Exception:
                    log.exception("room observer %r failed", fn)

    def for_namespace(self, nsp: AdaptedNamespace) -> "Adapter":
        """A new adapter with this one's settings, serving ``nsp``.

        :param nsp: the namespace the new adapter serves
        """
        return type(self)(nsp, **self.settings())

    def settings(self) -> Dict[str, Any]:
        """The constructor keywords that ``for_namespace`` copies (none here)."""
        return {}

    def init(self) -> None:
        """Start whatever the adapter needs (nothing in memory)."""

    def close(self) -> None:
        """Stop the adapter."""

    def server_count(self) -> int:
        """How many nodes share the rooms (*multi-node*)."""
        return 1

    # -- rooms -------------------------------------------------------------------------

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put socket ``sid`` in ``rooms``."""
        mine = self.sids.get(sid)
        if mine is None:
            mine = self.sids[sid] = set()
        added: Optional[List[str]] = [] if self._room_observers else None
        for room in rooms:
            if room in mine:
                continue
            mine.add(room)
            members = self.rooms.get(room)
            if members is None:
                self.rooms[room] = {sid}
            else:
                members.add(sid)
            if added is not None:
                added.append(room)
        if added:
            self._rooms_changed("join", sid, added)

    def delete(self, sid: str, room: str) -> None:
        """Take socket ``sid`` out of ``room``."""
        mine = self.sids.get(sid)
        was_in = mine is not None and room in mine
        if mine is not None:
            mine.discard(room)
        self._leave(sid, room)
        if was_in and self._room_observers:
            self._rooms_changed("leave", sid, [room])

    def _leave(self, sid: str, room: str) -> None:
        members = self.rooms.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self.rooms[room]

    def delete_all(self, sid: str) -> None:
        """Take socket ``sid`` out of every room."""
        rooms = self.sids.pop(sid, ())
        for room in rooms:
            self._leave(sid, room)
        if rooms and self._room_observers:
            self._rooms_changed("leave", sid, sorted(rooms))

    def socket_rooms(self, sid: str) -> Set[str]:
        """The rooms of socket ``sid`` (a copy)."""
        return set(self.sids.get(sid, ()))

    # -- targeting ------------------------------------------------------------------

    def _targets(self, opts: BroadcastOptions) -> Iterator[str]:
        excluded: Set[str] = set()
        for room in opts.except_rooms:
            excluded.update(self.rooms.get(room, ()))
        if opts.rooms:
            seen: Set[str] = set()
            for room in opts.rooms:
                for sid in self.rooms.get(room, ()):
                    if sid not in seen and sid not in excluded:
                        seen.add(sid)
                        yield sid
        else:
            for sid in list(self.sids):
                if sid not in excluded:
                    yield sid

    def _local_sockets(self, opts: BroadcastOptions) -> List[AdaptedSocket]:
        connected = self.nsp.connected
        return [connected[sid] for sid in list(self._targets(opts)) if sid in connected]

    def sockets(self, rooms: Iterable[str] = ()) -> Set[str]:
        """Ids of the sockets in ``rooms`` (all sockets when empty) on this node."""
        return set(self._targets(BroadcastOptions(rooms=frozenset(rooms))))

    # -- broadcast ------------------------------------------------------------------

    def encode(self, packet: Packet) -> EncodedPacket:
        """Encode ``packet`` with the server's JSON encoder."""
        return encode(packet, self.nsp.dumps)

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to every matching socket (*multi-node*: also to other nodes).

        With recovery on, an EVENT without ack id and not volatile gets an offset as its
        last argument and is logged for sessions that drop and come back.
        """
        log = self._recovery_log(packet, opts)
        if log is None:
            self.broadcast_local(self.encode(packet), opts)
            return
        offset = log.next_offset()
        stamped = packet._replace(data=[*packet.data, offset])
        encoded = self.encode(stamped)  # a value with no JSON form raises before logging
        log.append(offset, stamped.data, opts.rooms, opts.except_rooms, self._now())
        self.broadcast_local(encoded, opts)

    def broadcast_local(self, encoded: EncodedPacket, opts: BroadcastOptions) -> int:
        """Send an encoded packet to the matching sockets of this node; returns how many."""
        messages = encoded.messages()
        count = 0
        for socket in self._local_sockets(opts):
            socket.write_messages(messages, opts.volatile, opts.compress)
            count += 1
        return count

    def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions,
        on_count: Callable[[int], None], on_ack: Callable[[Any], None],
    ) -> None:
        """Broadcast a packet whose recipients each ack it.

        :param on_count: called once per node with the number of recipients there
        :param on_ack: called with each recipient's answer (a list of values)
        """
        on_count(self.broadcast_with_ack_local(packet, opts, on_ack))

    def broadcast_with_ack_local(self, packet: Packet, opts: BroadcastOptions,
                                 on_ack: Callable[[Any], None]) -> int:
        """Local part of ``broadcast_with_ack``; returns the number of recipients."""
        ack_id = self.nsp.next_ack_id()
        messages = self.encode(packet._replace(id=ack_id)).messages()
        count = 0
        for socket in self._local_sockets(opts):
            socket.register_ack(ack_id, on_ack)
            socket.write_messages(messages, opts.volatile, opts.compress)
            count += 1
        return count

    # -- remote-capable socket operations ----------------------------------------------

    def fetch_sockets(self, opts: BroadcastOptions) -> List[Any]:
        """The matching sockets (*multi-node*: remote ones as ``RemoteSocket``)."""
        return self._local_sockets(opts)

    def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the matching sockets join ``rooms`` (*multi-node*)."""
        rooms = list(rooms)
        for socket in self._local_sockets(opts):
            socket.join(rooms)

    def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the matching sockets leave ``rooms`` (*multi-node*)."""
        rooms = list(rooms)
        for socket in self._local_sockets(opts):
            for room in rooms:
                socket.leave(room)

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool = False) -> None:
        """Disconnect the matching sockets (*multi-node*)."""
        for socket in self._local_sockets(opts):
            socket.disconnect(close)

    def all_sockets(self, opts: BroadcastOptions) -> Set[str]:
        """Ids of the matching sockets (*multi-node*: across nodes)."""
        return set(self._targets(opts))

    # -- connection state recovery ------------------------------------------------------

    def _now(self) -> float:
        return self.nsp.clock.monotonic()

    def _recovery_log(self, packet: Packet, opts: BroadcastOptions) -> Optional[PacketLog]:
        """The packet log when ``packet`` is one recovery keeps, else None."""
        recovery = getattr(self.nsp, "recovery", None)
        if recovery is None or not self._kept_for_recovery(packet, opts):
            return None
        if self._packet_log is None:
            self._packet_log = PacketLog(recovery.max_disconnection_duration,
                                         recovery.max_packets, secrets.token_hex(4) + "-")
        return self._packet_log

    def _kept_for_recovery(self, packet: Packet, opts: BroadcastOptions) -> bool:
        """Whether recovery (when on) gives ``packet`` an offset: an EVENT without ack id,
        not volatile."""
        return packet.type is PacketType.EVENT and packet.id is None and not opts.volatile

    def _session_store(self) -> Optional[SessionStore]:
        recovery = getattr(self.nsp, "recovery", None)
        if recovery is None:
            return None
        if self._sessions is None:
            self._sessions = SessionStore(recovery.max_disconnection_duration)
        return self._sessions

    def persist_session(self, session: PersistedSession) -> None:
        """Keep a dropped socket's session for recovery (nothing when recovery is off)."""
        store = self._session_store()
        if store is not None:
            store.put(session, self._now())

    def restore_session(self, pid: str, offset: str) -> Optional[PersistedSession]:
        """Take back session ``pid`` if it has not expired and ``offset`` is still logged.

        :returns: the session (removed from the store), or None for a clean start
        """
        store = self._session_store()
        if store is None or self._packet_log is None:
            return None
        now = self._now()
        session = store.take(pid, now)
        if session is None or self._packet_log.since(offset, (), now) is None:
            return None
        return session

    def missed_packets(self, offset: str, rooms: Iterable[str]) -> List[List[Any]]:
        """The data of the logged EVENTs after ``offset`` that reach ``rooms``, in order."""
        if self._packet_log is None:
            return []
        return self._packet_log.since(offset, rooms, self._now()) or []

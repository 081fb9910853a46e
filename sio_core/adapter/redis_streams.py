"""RedisStreamsAdapter: broadcasts through one Redis stream, so that connection state
recovery works across nodes.

Every node appends its broadcasts (``XADD``, trimmed to about ``max_len`` entries) to one
stream and reads that stream with a blocking ``XREAD`` in a greenlet of its own. With
connection state recovery on, an entry's id is the offset its EVENT carries to clients:
every node, the sender included, delivers such an EVENT when it reads the entry back, so
each node's clients get the stream's order. Broadcasts without an offset (recovery off, or
volatile) reach the sender's clients at once and the other nodes through the stream;
``local`` ones stay on their node, without offset.

A socket that drops for a recoverable reason is kept as a Redis key (``SET ... PX``, the
recovery window). A CONNECT carrying its pid and last offset, on any node, takes the key
(``GETDEL``) and gets every stream entry after the offset that reaches the session's rooms,
in order, once. When the offset is no longer in the stream (trimmed) or the key has
expired, the client gets a new session: never a partial replay.

What is not a plain broadcast (broadcasts collecting acks and their answers,
``fetch_sockets``, ``sockets_join`` / ``sockets_leave`` / ``disconnect_sockets`` of remote
sockets, ``server_count``) goes over ``RedisAdapter``'s pub/sub request and response
channels, unchanged, as do ``Emitter``'s broadcasts (delivered without offset). Needs
Redis 6.2 or later (``GETDEL``, exclusive ``XRANGE`` ranges).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

import redis

from .. import runtime
from ..socketio import (
    Packet,
    PacketType,
    PersistedSession,
    default_dumps,
    default_loads,
    join_binary,
    split_binary,
)
from ..socketio.recovery import reaches
from .base import BroadcastOptions
from .messages import (
    BrokerMessage,
    MessageError,
    MessageType,
    decode_message,
    options_from_dict,
    options_to_dict,
)
from .redis import _REDIS_ERRORS, BrokerUnavailable, RedisAdapter, _Broker

__all__ = ["RedisStreamsAdapter"]

log = logging.getLogger(__name__)

#: the field of a stream entry that holds the encoded broker message
FIELD = b"m"

_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")

#: how many stream entries one restore may read (``max_len`` bounds it first)
MAX_REPLAY = 1_000_000


def stream_position(entry_id: Any) -> Optional[Tuple[int, int]]:
    """``(milliseconds, sequence)`` of a stream entry id, or None when it is not one."""
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode("ascii", "replace")
    match = _STREAM_ID.fullmatch(entry_id) if isinstance(entry_id, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _batches(reply: Any) -> Iterator[List[Any]]:
    """The entry lists of an ``XREAD`` answer: ``[[name, entries]]`` as RESP2 gives it, or
    ``{name: [entries]}`` as redis-py gives RESP3's."""
    if isinstance(reply, dict):
        for value in reply.values():
            yield value[0] if value and isinstance(value[0], list) else value
    else:
        for _name, entries in reply or ():
            yield entries


class _Hold:
    """A session being restored: its replay, then what the stream reader delivered for it
    until the socket connects."""

    __slots__ = ("rooms", "packets")

    def __init__(self, rooms: Tuple[str, ...], packets: List[List[Any]]) -> None:
        self.rooms = rooms
        self.packets = packets


class _StreamBroker(_Broker):
    """``_Broker`` plus the stream: its messages for the stream are ``XADD``-ed in the same
    ordered batches as the pub/sub ones, and a reader greenlet follows the stream."""

    _instances: Dict[Tuple[str, str], "_Broker"] = {}

    def __init__(self, url: str, prefix: str, stream: str, max_len: int, read_count: int,
                 block_ms: int) -> None:
        super().__init__(url, prefix)
        self.stream = stream
        self.max_len = max_len
        self.read_count = read_count
        self.block_ms = block_ms
        # XREAD blocks for block_ms: its connection waits longer than that for the answer
        self.reader_redis: Any = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=block_ms / 1000.0 + 5,
            health_check_interval=10)
        #: the id of the last entry read and delivered (None: not known yet)
        self.last_id: Optional[str] = None
        #: held while the reader delivers a batch, and while a replay is read
        self.dispatching = runtime.Lock()
        self._reader: Optional[runtime.Greenlet] = None
        self._positioned = runtime.Event()
        self._moved = runtime.Event()
        self._reader_outage = False

    @classmethod
    def for_adapter(cls, adapter: "RedisStreamsAdapter") -> "_StreamBroker":
        """The process's broker for ``adapter``'s url and channel.

        :raises ValueError: when one exists with other stream settings
        """
        wanted = (adapter.stream_name, adapter.max_len, adapter.read_count, adapter.block_ms)
        broker = cls._instances.get((adapter.url, adapter.channel))
        if broker is None:
            broker = cls(adapter.url, adapter.channel, *wanted)
            cls._instances[(adapter.url, adapter.channel)] = broker
        assert isinstance(broker, _StreamBroker)
        if (broker.stream, broker.max_len, broker.read_count, broker.block_ms) != wanted:
            raise ValueError("a RedisStreamsAdapter on %s with channel %r already uses other "
                             "stream settings in this process" % (adapter.url, adapter.channel))
        return broker

    def _send(self, target: Any, channel: str, data: bytes) -> None:
        if channel == self.stream:
            target.xadd(self.stream, {FIELD: data}, maxlen=self.max_len, approximate=True)
        else:
            super()._send(target, channel, data)

    # -- lifecycle -------------------------------------------------------------------------

    def add(self, adapter: Any) -> None:
        super().add(adapter)
        if self._reader is None:
            self._reader = runtime.spawn(self._read_loop)
            # an entry appended before the reader knows where the stream ends would be
            # taken for an old one: wait for that position (or the outage's log line)
            self._positioned.wait(timeout=5)

    def remove(self, adapter: Any) -> None:
        super().remove(adapter)
        if not self.adapters and self._reader is not None:
            # its blocked XREAD ends (and redis-py drops that connection) before the pool
            # is closed under it
            self._reader.kill(block=True, timeout=2)
            self._reader = None
            self.reader_redis.connection_pool.disconnect()

    # -- the reader ------------------------------------------------------------------------

    def _stream_end(self) -> str:
        newest = self.reader_redis.xrevrange(self.stream, count=1)
        return newest[0][0].decode() if newest else "0-0"

    def _read_loop(self) -> None:
        delay = 0.1
        while True:
            try:
                if self.last_id is None:
                    self.last_id = self._stream_end()
                    self._positioned.set()
                reply = self.reader_redis.xread({self.stream: self.last_id},
                                                count=self.read_count, block=self.block_ms)
                if self._reader_outage:
                    log.warning("reading stream %r from Redis at %s again", self.stream,
                                self.url)
                self._reader_outage, delay = False, 0.1
            except _REDIS_ERRORS as exc:
                if not self._reader_outage:
                    log.error("lost Redis at %s while reading stream %r (%s); retrying with "
                              "backoff", self.url, self.stream, exc)
                self._reader_outage = True
                runtime.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            for entries in _batches(reply):
                self._deliver(entries)

    def _deliver(self, entries: List[Any]) -> None:
        """Hand a batch of entries to the adapters of their namespaces, in order."""
        with self.dispatching:
            for raw_id, fields in entries:
                entry_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                message = self._decode(entry_id, fields)
                adapter = self.adapters.get(message.nsp) if message is not None else None
                if message is not None and isinstance(adapter, RedisStreamsAdapter):
                    try:
                        adapter._on_stream_entry(entry_id, message)
                    except Exception:
                        log.exception("error delivering stream entry %s", entry_id)
                self.last_id = entry_id
        moved, self._moved = self._moved, runtime.Event()
        moved.set()

    @staticmethod
    def _decode(entry_id: str, fields: Any) -> Optional[BrokerMessage]:
        data = fields.get(FIELD) if isinstance(fields, dict) else None
        if data is None:
            log.warning("ignoring stream entry %s: no %r field", entry_id, FIELD)
            return None
        try:
            message = decode_message(data)
        except MessageError as exc:
            log.warning("ignoring malformed stream entry %s: %s", entry_id, exc)
            return None
        return message if message.type is MessageType.BROADCAST else None

    def wait_read(self, position: Tuple[int, int], timeout: float) -> bool:
        """Wait until the reader has delivered the entry at ``position``; False on timeout."""
        deadline = runtime.monotonic() + timeout
        while True:
            moved = self._moved
            last = stream_position(self.last_id) if self.last_id is not None else None
            if last is not None and last >= position:
                return True
            left = deadline - runtime.monotonic()
            if left <= 0:
                return False
            moved.wait(timeout=left)

    def entries_after(self, entry_id: str, end: str) -> Iterator[Tuple[str, BrokerMessage]]:
        """The decoded broadcasts after ``entry_id`` up to ``end`` (included), read in
        pages of ``read_count``.

        :raises redis.RedisError: when Redis fails meanwhile
        """
        client: Any = self.redis
        start, read = "(" + entry_id, 0
        while read < MAX_REPLAY:
            page = client.xrange(self.stream, start, end, count=self.read_count)
            for raw_id, fields in page:
                found = raw_id.decode()
                message = self._decode(found, fields)
                if message is not None:
                    yield found, message
            if len(page) < self.read_count:
                return
            read += len(page)
            start = "(" + page[-1][0].decode()


class RedisStreamsAdapter(RedisAdapter):
    """An adapter whose broadcasts cross nodes through a Redis stream, with connection
    state recovery across nodes.

    ``Server(adapter=RedisStreamsAdapter.factory(url=...), connection_state_recovery=...)``
    on every node (a template ``RedisStreamsAdapter(url=...)`` works too).

    :param nsp: the namespace; None (the usual) for a template
    :param url: Redis URL
    :param channel: prefix of the pub/sub channels for requests and responses
    :param request_timeout: seconds to wait for other nodes' answers (and, on a restore, for
        this node's reader to reach the client's offset)
    :param stream_name: the stream's key (default: ``channel``)
    :param max_len: about how many entries the stream keeps (``XADD MAXLEN ~``: Redis trims
        whole internal nodes, so it can hold up to ~100 more)
    :param read_count: entries per ``XREAD`` and per ``XRANGE`` page
    :param block_ms: how long one ``XREAD`` waits for new entries
    :param session_key_prefix: prefix of the dropped sessions' keys (default:
        ``<stream_name>#session#``)
    """

    def __init__(self, nsp: Any = None, url: str = "redis://127.0.0.1:6379/0",
                 channel: str = "socket.io", request_timeout: float = 5.0,
                 stream_name: Optional[str] = None, max_len: int = 10_000,
                 read_count: int = 100, block_ms: int = 5000,
                 session_key_prefix: Optional[str] = None) -> None:
        super().__init__(nsp, url=url, channel=channel, request_timeout=request_timeout)
        if max_len < 1 or read_count < 1 or block_ms < 1:
            raise ValueError("max_len, read_count and block_ms must be >= 1")
        self.stream_name = stream_name or channel
        if self.stream_name.startswith(channel + "#"):
            raise ValueError("stream_name %r is taken by the pub/sub channels of %r"
                             % (self.stream_name, channel))
        self.max_len = max_len
        self.read_count = read_count
        self.block_ms = block_ms
        self.session_key_prefix = session_key_prefix or self.stream_name + "#session#"
        self.streams: Optional[_StreamBroker] = None
        # restores in progress: (offset, rooms) -> what arrived for them meanwhile
        self._holds: Dict[Tuple[str, Tuple[str, ...]], _Hold] = {}

    def settings(self) -> Dict[str, Any]:
        settings = super().settings()
        settings.update(stream_name=self.stream_name, max_len=self.max_len,
                        read_count=self.read_count, block_ms=self.block_ms,
                        session_key_prefix=self.session_key_prefix)
        return settings

    def _get_broker(self) -> _Broker:
        self.streams = _StreamBroker.for_adapter(self)
        return self.streams

    def _stamped(self, packet: Packet, opts: BroadcastOptions) -> bool:
        return self.nsp.recovery is not None and self._kept_for_recovery(packet, opts)

    # -- broadcasts ------------------------------------------------------------------------

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` through the stream. With recovery on, an EVENT that gets an
        offset reaches every node's clients, this one's included, when read back (the
        offset is its entry id); any other packet reaches this node's clients at once.

        :raises BrokerUnavailable: Redis is unreachable (this node's clients got the packet,
            without offset), unless the packet is for one socket of this node
        """
        streams = self.streams
        if opts.local or streams is None:
            self.broadcast_local(self.encode(packet), opts)
            return
        body: Dict[str, Any] = {"opts": options_to_dict(opts)}
        stamped = self._stamped(packet, opts)
        if stamped:
            plain, attachments = split_binary(packet.data)
            body["data"] = self.nsp.dumps(plain)  # the server's encoder, in the caller
            body["offset"] = True
        else:
            encoded = self.encode(packet)
            self.broadcast_local(encoded, opts)
            body["text"], attachments = encoded.text, encoded.attachments
        try:
            streams.publish(streams.stream, self._message(MessageType.BROADCAST, body,
                                                          attachments))
        except BrokerUnavailable:
            if not stamped:
                raise
            self.broadcast_local(self.encode(packet), opts)
            if not self._for_one_local_socket(opts):
                raise
            # a socket's own emit (or io.to(sid) of a socket here) needs no Redis to arrive
            log.debug("sent to %s without offset: Redis is unreachable", next(iter(opts.rooms)))

    def _for_one_local_socket(self, opts: BroadcastOptions) -> bool:
        return (len(opts.rooms) == 1 and not opts.except_rooms
                and next(iter(opts.rooms)) in self.nsp.connected)

    def _on_stream_entry(self, entry_id: str, message: BrokerMessage) -> None:
        """Deliver a stream entry to this node's clients (its sender's unstamped ones have
        been delivered already)."""
        body = message.body
        if not body.get("offset"):
            if message.uid != self.broker.uid:  # type: ignore[union-attr]
                self._on_message(message)
            return
        try:
            opts = BroadcastOptions(**options_from_dict(body.get("opts", {})))
            data = join_binary(default_loads(body["data"]), list(message.attachments))
            if not isinstance(data, list) or not data:
                raise MessageError("an EVENT's data must be a non-empty list")
        except (MessageError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring malformed stream entry %s: %s", entry_id, exc)
            return
        data.append(entry_id)
        self.broadcast_local(self.encode(Packet(PacketType.EVENT, self.nsp.name, data)), opts)
        for hold in self._holds.values():
            if reaches(hold.rooms, opts.rooms, opts.except_rooms):
                hold.packets.append(data)

    # -- connection state recovery -----------------------------------------------------------

    def _session_key(self, pid: str) -> str:
        return self.session_key_prefix + pid

    def persist_session(self, session: PersistedSession) -> None:
        """Keep a dropped socket's session in Redis for the recovery window."""
        recovery = self.nsp.recovery
        if recovery is None or self.streams is None:
            return
        try:
            value = default_dumps({"sid": session.sid, "pid": session.pid,
                                   "rooms": list(session.rooms), "data": session.data,
                                   "nsp": self.nsp.name})
        except (TypeError, ValueError) as exc:
            log.warning("socket %s is not kept for recovery: its data has no JSON form (%s)",
                        session.sid, exc)
            return
        try:
            self.streams.redis.set(self._session_key(session.pid), value,
                                   px=max(1, int(recovery.max_disconnection_duration * 1000)))
        except _REDIS_ERRORS as exc:
            log.warning("socket %s is not kept for recovery: Redis at %s failed: %s",
                        session.sid, self.url, exc)

    def _parse_session(self, raw: bytes, pid: str) -> Optional[PersistedSession]:
        try:
            value = default_loads(raw.decode("utf-8"))
            sid, rooms = value["sid"], value["rooms"]
            if (value["pid"] != pid or value.get("nsp") != self.nsp.name
                    or not isinstance(sid, str) or not isinstance(rooms, list)
                    or not all(isinstance(room, str) for room in rooms)):
                raise ValueError("unexpected fields")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring a malformed kept session %s: %s", pid, exc)
            return None
        return PersistedSession(sid, pid, tuple(rooms), value.get("data"), self._now())

    def restore_session(self, pid: str, offset: str) -> Optional[PersistedSession]:
        """Take session ``pid`` from Redis when ``offset`` is still in the stream, and read
        what it missed (``missed_packets`` hands it over).

        :returns: the session, or None for a clean start
        """
        streams = self.streams
        position = stream_position(offset)
        if self.nsp.recovery is None or streams is None or position is None:
            return None
        try:
            pipe = streams.redis.pipeline(transaction=True)
            pipe.getdel(self._session_key(pid))
            pipe.xrange(streams.stream, offset, offset, count=1)
            raw, found = pipe.execute()
        except (*_REDIS_ERRORS, redis.ResponseError) as exc:
            log.warning("no recovery of %s: Redis at %s failed: %s", pid, self.url, exc)
            return None
        session = self._parse_session(raw, pid) if raw is not None else None
        if session is None:
            return None
        if not found:
            log.info("no recovery of %s: offset %s is no longer in the stream", session.sid,
                     offset)
            return None
        if not streams.wait_read(position, self.request_timeout):
            log.warning("no recovery of %s: this node has not read up to offset %s within %ss",
                        session.sid, offset, self.request_timeout)
            return None
        key = (offset, session.rooms)
        with streams.dispatching:  # the reader delivers nothing until the hold is in place
            end = streams.last_id or offset
            try:
                missed = [data for _id, data in self._replay(offset, end, session.rooms)]
            except (*_REDIS_ERRORS, redis.ResponseError) as exc:
                log.warning("no recovery of %s: Redis at %s failed: %s", session.sid,
                            self.url, exc)
                return None
            self._holds[key] = _Hold(session.rooms, missed)
        # a socket that never connects (refused, gone) does not keep its hold
        runtime.call_later(self.nsp.recovery.max_disconnection_duration + self.request_timeout,
                           self._holds.pop, key, None)
        return session

    def _replay(self, offset: str, end: str,
                rooms: Tuple[str, ...]) -> Iterator[Tuple[str, List[Any]]]:
        """The stamped EVENTs of this namespace after ``offset`` up to ``end`` that reach
        ``rooms``, offsets appended."""
        if stream_position(end) <= stream_position(offset):  # type: ignore[operator]
            return
        for entry_id, message in self.streams.entries_after(offset, end):  # type: ignore
            body = message.body
            if message.nsp != self.nsp.name or not body.get("offset"):
                continue
            try:
                opts = options_from_dict(body.get("opts", {}))
                if not reaches(rooms, opts["rooms"], opts["except_rooms"]):
                    continue
                data = join_binary(default_loads(body["data"]), list(message.attachments))
            except (MessageError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping malformed stream entry %s: %s", entry_id, exc)
                continue
            if isinstance(data, list) and data:
                yield entry_id, [*data, entry_id]

    def missed_packets(self, offset: str, rooms: Any) -> List[List[Any]]:
        """What ``restore_session`` read for the session, and what arrived since."""
        hold = self._holds.pop((offset, tuple(rooms)), None)
        return hold.packets if hold is not None else []

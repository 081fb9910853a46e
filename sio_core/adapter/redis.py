"""RedisAdapter: rooms and broadcasts shared by several server processes through Redis pub/sub.

Every node publishes its broadcasts (encoded once) and requests on shared channels
and ignores its own messages; answers to a node's requests come back on a channel
of its own. ``Emitter`` publishes broadcasts from processes that are not servers.

Channels, for a prefix ``P`` (option ``channel``, default ``socket.io``):
``P#broadcast``, ``P#request`` (both shared) and ``P#response#<node id>``.

Publishing never waits for Redis: messages are queued for one publisher greenlet per
process, which sends whatever has accumulated in one pipeline, in order.

If Redis goes away, the listener reconnects with backoff (logged once per outage);
emits during the outage reach local clients and then raise ``BrokerUnavailable``.
Messages already queued when the connection broke are lost, and their count logged.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import gevent.monkey
import redis

from .. import debug, runtime
from ..debug import trace
from ..errors import SioError, check_event
from ..socketio import EncodedPacket, Packet, PacketType, encode, join_binary, split_binary
from .base import Adapter, BroadcastOptions
from .messages import (
    BrokerMessage,
    MessageError,
    MessageType,
    decode_message,
    encode_message,
    options_from_dict,
    options_to_dict,
)

__all__ = ["RedisAdapter", "Emitter", "BrokerUnavailable", "RemoteSocket"]

log = logging.getLogger(__name__)

_REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

#: messages queued for the publisher beyond which emitters wait for it (back-pressure)
MAX_OUTGOING = 10_000
#: how long an emitter waits for room in a full queue before ``BrokerUnavailable``
PUBLISH_WAIT = 5.0
#: how long closing the last adapter waits for the publisher to send what is queued
CLOSE_FLUSH_WAIT = 2.0


class BrokerUnavailable(SioError):
    """Redis could not be reached; the message reached local clients only."""


def _client(url: str) -> "redis.Redis":
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5,
                                health_check_interval=10)


class RemoteSocket:
    """A socket living on another node, as ``fetch_sockets()`` returns it."""

    __slots__ = ("id", "rooms", "data", "_adapter")

    def __init__(self, adapter: "RedisAdapter", info: Dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.rooms = set(info.get("rooms", ()))
        self.data = info.get("data") or {}
        self._adapter = adapter

    def _only_me(self) -> BroadcastOptions:
        return BroadcastOptions(rooms=frozenset([self.id]))

    def emit(self, event: str, *args: Any) -> None:
        """Emit to this socket."""
        self._adapter.broadcast(Packet(PacketType.EVENT, self._adapter.nsp.name, [event, *args]),
                                self._only_me())

    def join(self, rooms: Any) -> None:
        """Make it join room(s)."""
        self._adapter.add_sockets(self._only_me(), [rooms] if isinstance(rooms, str) else rooms)

    def leave(self, room: str) -> None:
        """Make it leave a room."""
        self._adapter.del_sockets(self._only_me(), [room])

    def disconnect(self, close: bool = False) -> None:
        """Disconnect it."""
        self._adapter.disconnect_sockets(self._only_me(), close)


class _Broker:
    """One Redis connection pair per (url, channel) and process, shared by its namespaces."""

    _instances: Dict[Tuple[str, str], "_Broker"] = {}

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        #: this node's id
        self.uid = secrets.token_hex(8)
        self.redis = _client(url)
        self.broadcast_channel = prefix + "#broadcast"
        self.request_channel = prefix + "#request"
        self.response_channel = prefix + "#response#" + self.uid
        self.adapters: Dict[str, "RedisAdapter"] = {}
        self.pending: Dict[str, Callable[[BrokerMessage], None]] = {}
        self._listener: Optional[runtime.Greenlet] = None
        self._subscribed = runtime.Event()
        #: the listener lost Redis and has not reconnected yet
        self.outage = False
        self._outgoing: List[Tuple[str, bytes]] = []
        self._publisher: Optional[runtime.Greenlet] = None
        self._has_outgoing = runtime.Event()
        self._room = runtime.Event()
        #: the publisher has sent everything queued
        self._flushed = runtime.Event()
        self._flushed.set()

    @classmethod
    def get(cls, url: str, prefix: str) -> "_Broker":
        broker = cls._instances.get((url, prefix))
        if broker is None:
            broker = cls._instances[(url, prefix)] = cls(url, prefix)
        return broker

    # -- lifecycle -----------------------------------------------------------------------

    def add(self, adapter: "RedisAdapter") -> None:
        self.adapters[adapter.nsp.name] = adapter
        if self._listener is None:
            self._listener = runtime.spawn(self._listen)
            self._publisher = runtime.spawn(self._publish_loop)
            self._subscribed.wait(timeout=5)

    def remove(self, adapter: "RedisAdapter") -> None:
        if self.adapters.get(adapter.nsp.name) is adapter:
            del self.adapters[adapter.nsp.name]
        if not self.adapters and self._listener is not None:
            self._listener.kill(block=False)
            self._listener = None
            if not self._flushed.wait(timeout=CLOSE_FLUSH_WAIT):
                log.warning("closing with %d message(s) for other nodes unsent",
                            len(self._outgoing))
            if self._publisher is not None:
                self._publisher.kill(block=False)
                self._publisher = None
            self._subscribed.clear()
            self._instances.pop((self.url, self.prefix), None)

    def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = None
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.broadcast_channel, self.request_channel,
                                 self.response_channel)
                if self.outage:
                    log.warning("Redis at %s is reachable again; cross-node messages resume",
                                self.url)
                self.outage, delay = False, 0.1
                self._subscribed.set()
                for item in pubsub.listen():
                    if item.get("type") == "message":
                        self._on_raw(item["channel"], item["data"])
            except _REDIS_ERRORS as exc:
                self._subscribed.clear()
                if not self.outage:
                    log.error("lost Redis at %s (%s); reconnecting with backoff — broadcasts "
                              "reach only this node until it is back", self.url, exc)
                self.outage = True
                runtime.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass

    # -- in and out ----------------------------------------------------------------------

    def publish(self, channel: str, message: BrokerMessage) -> None:
        """Queue a message for the publisher greenlet; it goes out in order, soon.

        :raises BrokerUnavailable: Redis is known to be unreachable, or the publisher has
            had no room for ``PUBLISH_WAIT`` seconds
        """
        if self.outage:
            raise BrokerUnavailable("Redis at %s unreachable (reconnecting)" % self.url)
        outgoing = self._outgoing
        if len(outgoing) >= MAX_OUTGOING:
            self._room.clear()
            if not self._room.wait(timeout=PUBLISH_WAIT) or len(outgoing) >= MAX_OUTGOING:
                raise BrokerUnavailable("Redis at %s does not take messages fast enough"
                                        % self.url)
        data = encode_message(message)
        if trace.redis:
            debug.redis_message("send", channel, message.type.value, len(data))
        outgoing.append((channel, data))
        if len(outgoing) == 1:
            self._flushed.clear()
            self._has_outgoing.set()

    def _publish_loop(self) -> None:
        """The publisher: send what accumulated, one pipeline per batch."""
        outgoing = self._outgoing
        while True:
            if not outgoing:
                self._flushed.set()
                self._has_outgoing.clear()
                self._has_outgoing.wait()
                continue
            batch = outgoing[:]
            del outgoing[:]
            self._room.set()
            try:
                if len(batch) == 1:
                    self._send(self.redis, *batch[0])
                else:
                    pipe = self.redis.pipeline(transaction=False)
                    for channel, data in batch:
                        self._send(pipe, channel, data)
                    pipe.execute()
            except _REDIS_ERRORS as exc:
                log.error("lost %d message(s) for other nodes: Redis at %s failed: %s",
                          len(batch), self.url, exc)
            except Exception:  # a bug must not stop every later message
                log.exception("lost %d message(s) for other nodes", len(batch))

    def _send(self, target: Any, channel: str, data: bytes) -> None:
        """Put one queued message on ``target`` (the client or a pipeline)."""
        target.publish(channel, data)

    def server_count(self) -> int:
        """Nodes subscribed to the request channel (this one included)."""
        try:
            counts = self.redis.pubsub_numsub(self.request_channel)
        except _REDIS_ERRORS:
            return 1
        return max(1, int(counts[0][1]) if counts else 1)

    def _on_raw(self, channel: Any, data: bytes) -> None:
        try:
            message = decode_message(data)
        except MessageError as exc:
            log.warning("ignoring a malformed broker message: %s", exc)
            return
        if message.uid == self.uid:
            return
        if isinstance(channel, bytes):
            channel = channel.decode()
        if trace.redis:
            debug.redis_message("recv", channel, message.type.value, len(data))
        try:
            if channel == self.response_channel:
                handler = self.pending.get(message.request_id or "")
                if handler is not None:
                    handler(message)
                return
            adapter = self.adapters.get(message.nsp)
            if adapter is not None:
                adapter._on_message(message)
        except Exception:
            log.exception("error handling a %s message from node %s", message.type.value,
                          message.uid)


class RedisAdapter(Adapter):
    """An adapter whose rooms span every server sharing a Redis and a channel prefix.

    Give a server ``adapter=RedisAdapter(url=...)`` (a template: the server makes one
    adapter per namespace from it) or ``adapter=RedisAdapter.factory(url=...)``.

    :param nsp: the namespace; None (the usual) for a template
    :param url: Redis URL
    :param channel: channel prefix (servers with different prefixes ignore each other)
    :param request_timeout: seconds to wait for other nodes' answers
    :raises TypeError: when a URL is passed where the namespace goes
    """

    def __init__(self, nsp: Any = None, url: str = "redis://127.0.0.1:6379/0",
                 channel: str = "socket.io", request_timeout: float = 5.0) -> None:
        if isinstance(nsp, str):
            raise TypeError("RedisAdapter's first argument is the namespace: "
                            "write RedisAdapter(url=%r)" % nsp)
        super().__init__(nsp)
        self.url = url
        self.channel = channel
        self.request_timeout = request_timeout
        self.broker: Optional[_Broker] = None

    @classmethod
    def factory(cls, **options: Any) -> Callable[[Any], "RedisAdapter"]:
        """``adapter=`` value for a server: ``RedisAdapter.factory(url=..., channel=...)``."""
        return lambda nsp: cls(nsp, **options)

    def settings(self) -> Dict[str, Any]:
        return {"url": self.url, "channel": self.channel,
                "request_timeout": self.request_timeout}

    def init(self) -> None:
        if self.nsp is None:
            raise RuntimeError("this RedisAdapter is a template: pass it as a server's "
                               "adapter= option, which makes one per namespace")
        if not gevent.monkey.is_module_patched("socket"):
            raise RuntimeError(
                "RedisAdapter needs gevent's monkey-patching: put `from gevent import monkey; "
                "monkey.patch_all()` at the top of your program, before anything imports redis")
        self.broker = self._get_broker()
        self.broker.add(self)

    def _get_broker(self) -> _Broker:
        """This process's broker for the adapter's Redis and channel."""
        return _Broker.get(self.url, self.channel)

    def close(self) -> None:
        if self.broker is not None:
            self.broker.remove(self)

    def server_count(self) -> int:
        return self.broker.server_count() if self.broker else 1

    def _message(self, mtype: MessageType, body: Dict[str, Any], attachments: Iterable[bytes] = (),
                 request_id: Optional[str] = None) -> BrokerMessage:
        return BrokerMessage(mtype, self.broker.uid, self.nsp.name, body,  # type: ignore
                             tuple(attachments), request_id)

    # -- broadcasts ----------------------------------------------------------------------

    def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        encoded = self.encode(packet)
        self.broadcast_local(encoded, opts)
        if not opts.local and self.broker is not None:
            self.broker.publish(self.broker.broadcast_channel, self._message(
                MessageType.BROADCAST, {"opts": options_to_dict(opts), "text": encoded.text},
                encoded.attachments))

    def broadcast_with_ack(self, packet: Packet, opts: BroadcastOptions,
                           on_count: Callable[[int], None],
                           on_ack: Callable[[Any], None]) -> None:
        on_count(self.broadcast_with_ack_local(packet, opts, on_ack))
        if opts.local or self.broker is None:
            return
        broker = self.broker
        request_id = secrets.token_hex(8)

        def on_response(message: BrokerMessage) -> None:
            if message.type is MessageType.ACK_COUNT:
                on_count(int(message.body.get("count", 0)))
            elif message.type is MessageType.ACK:
                on_ack(join_binary(message.body.get("values", []), list(message.attachments)))

        broker.pending[request_id] = on_response
        runtime.call_later((opts.timeout or self.request_timeout) + 1.0,
                           broker.pending.pop, request_id, None)
        data, attachments = split_binary(packet.data)
        broker.publish(broker.request_channel, self._message(
            MessageType.BROADCAST_ACK, {"opts": options_to_dict(opts), "data": data},
            attachments, request_id))

    # -- requests answered by every node -------------------------------------------------------

    def _request(self, mtype: MessageType, body: Dict[str, Any]) -> List[BrokerMessage]:
        broker = self.broker
        if broker is None:
            return []
        expected = broker.server_count() - 1
        if expected <= 0:
            return []
        request_id = secrets.token_hex(8)
        answers: List[BrokerMessage] = []
        complete = runtime.Event()

        def on_response(message: BrokerMessage) -> None:
            answers.append(message)
            if len(answers) >= expected:
                complete.set()

        broker.pending[request_id] = on_response
        try:
            broker.publish(broker.request_channel, self._message(mtype, body, (), request_id))
            if not complete.wait(timeout=self.request_timeout):
                log.warning("%d of %d nodes answered %s within %ss", len(answers), expected,
                            mtype.value, self.request_timeout)
        finally:
            broker.pending.pop(request_id, None)
        return answers

    def _remote_sockets(self, opts: BroadcastOptions) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for answer in self._request(MessageType.SOCKETS, {"opts": options_to_dict(opts)}):
            found.extend(answer.body.get("sockets", []))
        return found

    def all_sockets(self, opts: BroadcastOptions) -> set:
        ids = super().all_sockets(opts)
        if not opts.local:
            ids.update(info["id"] for info in self._remote_sockets(opts))
        return ids

    def fetch_sockets(self, opts: BroadcastOptions) -> List[Any]:
        sockets: List[Any] = list(super().fetch_sockets(opts))
        if not opts.local:
            sockets.extend(RemoteSocket(self, info) for info in self._remote_sockets(opts))
        return sockets

    def _publish_command(self, mtype: MessageType, opts: BroadcastOptions,
                         extra: Dict[str, Any]) -> None:
        if opts.local or self.broker is None:
            return
        body = {"opts": options_to_dict(opts)}
        body.update(extra)
        self.broker.publish(self.broker.request_channel, self._message(mtype, body))

    def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        super().add_sockets(opts, rooms)
        self._publish_command(MessageType.JOIN, opts, {"rooms": rooms})

    def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        super().del_sockets(opts, rooms)
        self._publish_command(MessageType.LEAVE, opts, {"rooms": rooms})

    def disconnect_sockets(self, opts: BroadcastOptions, close: bool = False) -> None:
        super().disconnect_sockets(opts, close)
        self._publish_command(MessageType.DISCONNECT, opts, {"close": bool(close)})

    # -- messages from other nodes ------------------------------------------------------

    def _reply(self, request: BrokerMessage, mtype: MessageType, body: Dict[str, Any],
               attachments: Iterable[bytes] = ()) -> None:
        broker = self.broker
        channel = broker.prefix + "#response#" + request.uid  # type: ignore[union-attr]
        try:
            broker.publish(channel, self._message(  # type: ignore[union-attr]
                mtype, body, attachments, request.request_id))
        except BrokerUnavailable as exc:
            log.warning("could not answer node %s: %s", request.uid, exc)

    def _on_message(self, message: BrokerMessage) -> None:
        mtype = message.type
        opts = BroadcastOptions(**options_from_dict(message.body.get("opts", {})))
        if mtype is MessageType.BROADCAST:
            text = message.body.get("text")
            if isinstance(text, str):
                self.broadcast_local(EncodedPacket(text, list(message.attachments)), opts)
        elif mtype is MessageType.BROADCAST_ACK:
            data = join_binary(message.body.get("data"), list(message.attachments))

            def on_ack(values: Any) -> None:
                plain, attachments = split_binary(list(values))
                self._reply(message, MessageType.ACK, {"values": plain}, attachments)

            count = self.broadcast_with_ack_local(Packet(PacketType.EVENT, self.nsp.name, data),
                                                  opts, on_ack)
            self._reply(message, MessageType.ACK_COUNT, {"count": count})
        elif mtype is MessageType.SOCKETS:
            infos = [{"id": s.id, "rooms": sorted(s.rooms), "data": s.data}
                     for s in Adapter.fetch_sockets(self, opts)]
            self._reply(message, MessageType.SOCKETS_RESPONSE, {"sockets": infos})
        elif mtype is MessageType.JOIN:
            Adapter.add_sockets(self, opts, message.body.get("rooms", []))
        elif mtype is MessageType.LEAVE:
            Adapter.del_sockets(self, opts, message.body.get("rooms", []))
        elif mtype is MessageType.DISCONNECT:
            Adapter.disconnect_sockets(self, opts, bool(message.body.get("close")))


class Emitter:
    """Emit to a cluster's rooms from any Python process, through Redis (no server needed).

    ``Emitter("redis://...").of("/chat").to("room").emit("event", data)``

    :param url: Redis URL
    :param channel: the servers' channel prefix
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", channel: str = "socket.io",
                 nsp: str = "/", rooms: Tuple[str, ...] = (),
                 except_rooms: Tuple[str, ...] = (), redis_client: Any = None) -> None:
        self.url = url
        self.channel = channel
        self.nsp = nsp
        self.rooms = rooms
        self.except_rooms = except_rooms
        self._redis = redis_client or _client(url)
        self._uid = "emitter-" + secrets.token_hex(6)

    def _with(self, **changes: Any) -> "Emitter":
        values: Dict[str, Any] = dict(url=self.url, channel=self.channel, nsp=self.nsp,
                                      rooms=self.rooms, except_rooms=self.except_rooms,
                                      redis_client=self._redis)
        values.update(changes)
        return Emitter(**values)

    def of(self, nsp: str) -> "Emitter":
        """Target namespace ``nsp``."""
        return self._with(nsp=nsp if nsp.startswith("/") else "/" + nsp)

    def to(self, room: str) -> "Emitter":
        """Add a target room."""
        return self._with(rooms=self.rooms + (room,))

    in_ = to

    def except_(self, room: str) -> "Emitter":
        """Exclude a room."""
        return self._with(except_rooms=self.except_rooms + (room,))

    def emit(self, event: str, *args: Any) -> None:
        """Publish ``event`` for every server to deliver.

        :raises BrokerUnavailable: when Redis cannot be reached
        """
        check_event(event)
        encoded = encode(Packet(PacketType.EVENT, self.nsp, [event, *args]))
        opts = BroadcastOptions(rooms=frozenset(self.rooms),
                                except_rooms=frozenset(self.except_rooms))
        message = BrokerMessage(MessageType.BROADCAST, self._uid, self.nsp,
                                {"opts": options_to_dict(opts), "text": encoded.text},
                                tuple(encoded.attachments))
        data = encode_message(message)
        if trace.redis:
            debug.redis_message("send", self.channel + "#broadcast", message.type.value,
                                len(data))
        try:
            self._redis.publish(self.channel + "#broadcast", data)
        except _REDIS_ERRORS as exc:
            raise BrokerUnavailable("Redis at %s unreachable: %s" % (self.url, exc)) from None

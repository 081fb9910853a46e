"""Trace logs of the protocol, as ``DEBUG=socket.io*`` gives them in Node.

Turned on by the environment variable ``SIO_DEBUG`` (read once, when sio_core is first
imported), by ``Server(logger=True, engineio_logger=True)``, or by ``enable()``:

- ``SIO_DEBUG=engine``: Engine.IO sessions opening, upgrading and closing (session id,
  transport, protocol revision, reason), logger ``sio_core.debug.engine``;
- ``socket``: Socket.IO namespace connections and disconnections, logger
  ``sio_core.debug.socket``;
- ``packets``: with ``engine`` and/or ``socket``, also every packet of those layers, in
  (``recv``) and out (``send``): session id, transport or namespace, type, ack id, size;
- ``redis``: messages published to and received from Redis (channel, type, size), logger
  ``sio_core.debug.redis``;
- ``client``: the Engine.IO session and packets of the Python client
  (``sio_core.client``), logger ``sio_core.debug.client``;
- ``payloads``: the packets' data too, cut to ``SIO_DEBUG_PAYLOAD_LEN`` characters (100);
- ``*``: engine, socket, packets, redis and client (payloads only when named).

Channels combine with commas (``SIO_DEBUG=engine,socket,packets``). Lines are logged at
DEBUG, to stderr unless the application configured logging. When tracing is off, a trace
point costs one attribute read (``if trace.socket_packets:``): nothing is formatted.
Tracing is process-wide, like the environment variable.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Iterable, List, Mapping, Optional, Set, Union

from .socketio import ProtocolError, decode_text

__all__ = ["CHANNELS", "ForwardTo", "LoggerOption", "Trace", "disable", "enable",
           "enable_from_env", "enable_from_options", "parse", "trace"]

#: the channel names ``SIO_DEBUG`` understands (``*`` names all but ``payloads``)
CHANNELS = ("engine", "socket", "packets", "redis", "client", "payloads")
_STAR = ("engine", "socket", "packets", "redis", "client")
#: data longer than this is cut in the trace, unless ``SIO_DEBUG_PAYLOAD_LEN`` says otherwise
DEFAULT_PAYLOAD_LEN = 100

engine_log = logging.getLogger("sio_core.debug.engine")
socket_log = logging.getLogger("sio_core.debug.socket")
redis_log = logging.getLogger("sio_core.debug.redis")
client_log = logging.getLogger("sio_core.debug.client")
_LOGGERS = {"engine": engine_log, "socket": socket_log, "redis": redis_log,
            "client": client_log}

log = logging.getLogger(__name__)

#: what the ``logger`` options take: a flag, or the logger to send the lines to
LoggerOption = Union[bool, logging.Logger, None]


class Trace:
    """What is traced now: the flags the trace points test."""

    __slots__ = ("engine", "socket", "redis", "client", "engine_packets", "socket_packets",
                 "payloads", "payload_len")

    #: ``engine``, ``socket``, ``redis``, ``client``: that channel is on;
    #: ``engine_packets``: every Engine.IO packet (``engine`` and ``packets``),
    #: ``socket_packets`` every Socket.IO packet; ``payloads``: with their data, cut to
    #: ``payload_len`` characters
    engine: bool
    socket: bool
    redis: bool
    client: bool
    engine_packets: bool
    socket_packets: bool
    payloads: bool
    payload_len: int

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Everything off."""
        for name in ("engine", "socket", "redis", "client", "engine_packets",
                     "socket_packets", "payloads"):
            setattr(self, name, False)
        self.payload_len = DEFAULT_PAYLOAD_LEN

    def channels(self) -> Set[str]:
        """The channels on, as ``SIO_DEBUG`` names them."""
        on = {name for name in ("engine", "socket", "redis", "client", "payloads")
              if getattr(self, name)}
        if self.engine_packets or self.socket_packets:
            on.add("packets")
        return on


#: the process's trace flags (read by the trace points of the transports, the glue and
#: the Redis adapter)
trace = Trace()


def parse(spec: str) -> Set[str]:
    """The channels named by a ``SIO_DEBUG`` value (unknown names are logged, then ignored).

    ``socket.io*`` (what Node users type) counts as ``*``.
    """
    channels: Set[str] = set()
    for name in (part.strip().lower() for part in spec.split(",")):
        if not name:
            continue
        if name == "*" or name.startswith("socket.io") or name.startswith("engine.io"):
            channels.update(_STAR)
        elif name in CHANNELS:
            channels.add(name)
        else:
            log.warning("SIO_DEBUG: unknown channel %r (known: %s, *)", name,
                        ", ".join(CHANNELS))
    return channels


class ForwardTo(logging.Handler):
    """Hands records to a logger the application gave (``logger=my_logger``)."""

    def __init__(self, target: logging.Logger) -> None:
        super().__init__()
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        if self.target.isEnabledFor(record.levelno):
            self.target.handle(record)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr while the application has configured no logging; once it has (even after
    tracing was turned on), its own handlers get the lines, each line once."""

    sio_debug = True  # ours: ``enable`` replaces it, ``disable`` removes it

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.root.handlers:
            super().emit(record)


class _ForwardTrace(ForwardTo):
    """``ForwardTo`` for the trace loggers."""

    sio_debug = True


def _route(logger: logging.Logger, target: Optional[logging.Logger]) -> None:
    """Let ``logger`` show DEBUG lines: to ``target``, or to stderr when the application
    configured no logging, or through the application's own handlers."""
    for earlier in [h for h in logger.handlers if getattr(h, "sio_debug", False)]:
        logger.removeHandler(earlier)
    logger.setLevel(logging.DEBUG)
    handler: logging.Handler
    if target is not None:
        handler = _ForwardTrace(target)
        logger.propagate = False  # the target's parents see each line once
    else:
        logger.propagate = True
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger.addHandler(handler)


def enable(channels: Iterable[str], payload_len: Optional[int] = None,
           target: Optional[logging.Logger] = None) -> None:
    """Turn on the trace of ``channels`` (names of ``CHANNELS``), beside those already on.

    :param payload_len: cut payloads to this many characters
    :param target: send the lines to this logger instead of stderr or the root logger
    """
    wanted = set(channels) | trace.channels()
    trace.engine = "engine" in wanted
    trace.socket = "socket" in wanted
    trace.redis = "redis" in wanted
    trace.client = "client" in wanted
    trace.payloads = "payloads" in wanted
    trace.engine_packets = trace.engine and "packets" in wanted
    trace.socket_packets = trace.socket and "packets" in wanted
    if payload_len is not None:
        trace.payload_len = max(0, payload_len)
    for name in set(channels) & set(_LOGGERS):
        _route(_LOGGERS[name], target)


def disable() -> None:
    """Turn every trace off and take back the handlers ``enable`` added."""
    trace.reset()
    for logger in _LOGGERS.values():
        for handler in [h for h in logger.handlers if getattr(h, "sio_debug", False)]:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def enable_from_options(logger: LoggerOption = None, engineio_logger: LoggerOption = None) -> None:
    """What python-socketio's ``logger`` and ``engineio_logger`` options ask for.

    ``logger``: the Socket.IO connections and packets; ``engineio_logger``: the Engine.IO
    sessions and packets. ``True`` logs to stderr (or through the application's logging
    configuration); a ``logging.Logger`` receives the lines (at DEBUG: they show when that
    logger's level lets DEBUG through); false values change nothing.
    """
    for option, channel in ((logger, "socket"), (engineio_logger, "engine")):
        if option:
            target = option if isinstance(option, logging.Logger) else None
            enable((channel, "packets"), target=target)


def enable_from_env(environ: Mapping[str, str] = os.environ) -> None:
    """Turn on what ``SIO_DEBUG`` (and ``SIO_DEBUG_PAYLOAD_LEN``) ask for, if set."""
    spec = environ.get("SIO_DEBUG", "")
    if not spec:
        return
    length: Optional[int] = None
    raw = environ.get("SIO_DEBUG_PAYLOAD_LEN")
    if raw:
        try:
            length = int(raw)
        except ValueError:
            log.warning("SIO_DEBUG_PAYLOAD_LEN=%r is not a number: using %d", raw,
                        DEFAULT_PAYLOAD_LEN)
    enable(parse(spec), payload_len=length)


# -- the lines (called only when their flag is on) ---------------------------------------

def _size(data: Any) -> int:
    if isinstance(data, str):
        return len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))
    return len(data) if data is not None else 0


def _payload(data: Any) -> str:
    """`` data=<repr>``, cut, when payloads are traced; else nothing."""
    if not trace.payloads:
        return ""
    limit = trace.payload_len
    text = repr(data)
    if len(text) > limit:
        text = text[:limit] + "...(%d more)" % (len(text) - limit)
    return " data=" + text


def engine_opened(sid: Optional[str], transport: str, version: int,
                  logger: logging.Logger = engine_log) -> None:
    """An Engine.IO session opened (``logger``: ``client_log`` for the Python client's)."""
    logger.debug("sid=%s transport=%s open EIO=%d", sid, transport, version)


def engine_upgraded(sid: Optional[str], transport: str,
                    logger: logging.Logger = engine_log) -> None:
    """A session moved to another transport."""
    logger.debug("sid=%s transport=%s upgraded", sid, transport)


def engine_closed(sid: str, transport: str, reason: Any) -> None:
    """An Engine.IO session closed."""
    engine_log.debug("sid=%s transport=%s closed reason=%s", sid, transport,
                     getattr(reason, "value", reason))


def engine_packets(sid: Optional[str], transport: str, direction: str,
                   packets: Iterable[Any], logger: logging.Logger = engine_log) -> None:
    """Engine.IO packets in (``recv``) or out (``send``), one line each (by ``logger``:
    the Python client's go to ``sio_core.debug.client``)."""
    for packet in packets:
        logger.debug("sid=%s transport=%s %s type=%s size=%d%s", sid, transport,
                         direction, packet.type.name, _size(packet.data),
                         _payload(packet.data))


def socket_connected(sid: str, namespace: str, socket_id: str) -> None:
    """A client joined a namespace."""
    socket_log.debug("sid=%s nsp=%s connected id=%s", sid, namespace, socket_id)


def socket_disconnected(sid: str, namespace: str, socket_id: str, reason: str) -> None:
    """A client left a namespace."""
    socket_log.debug("sid=%s nsp=%s disconnected id=%s reason=%s", sid, namespace,
                     socket_id, reason)


def socket_received(sid: str, packet: Any, size: int) -> None:
    """A complete Socket.IO packet arrived (``size``: its messages' bytes)."""
    socket_log.debug("sid=%s nsp=%s recv type=%s id=%s size=%d%s", sid, packet.namespace,
                     packet.type.name, packet.id, size, _payload(packet.data))


def socket_sent(sid: str, messages: List[Any]) -> None:
    """A Socket.IO packet, already encoded (its text, then its attachments), goes out."""
    size = sum(_size(m) for m in messages)
    try:  # read back with the one decoder: the trace shows what the client will read
        packet, _ = decode_text(messages[0], json.loads)
    except ProtocolError:  # the application's JSON encoder wrote what JSON.parse refuses
        ptype, nsp, ack_id, data = "?", "?", None, messages[0]
    else:
        ptype, nsp, ack_id, data = packet.type.name, packet.namespace, packet.id, packet.data
    socket_log.debug("sid=%s nsp=%s send type=%s id=%s size=%d%s", sid, nsp, ptype, ack_id,
                     size, _payload(data))


def redis_message(direction: str, channel: Any, mtype: str, size: int) -> None:
    """A message published to Redis (``send``) or received from it (``recv``)."""
    if isinstance(channel, bytes):
        channel = channel.decode("utf-8", "replace")
    redis_log.debug("channel=%s %s type=%s size=%d", channel, direction, mtype, size)


enable_from_env()

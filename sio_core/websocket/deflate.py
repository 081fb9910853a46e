"""permessage-deflate (RFC 7692) without I/O: the negotiation and the per-message codec.

``negotiate`` answers a client's ``Sec-WebSocket-Extensions`` offers from the server's
``DeflateOptions``; ``client_offer`` and ``accept_response`` are the client's half. Both
end in a ``DeflateParams`` (what was agreed), from which ``PerMessageDeflate`` compresses
what one side sends and inflates what it receives.

Memory is only spent when used: the compressor is made for the first message at or over
the threshold, the decompressor for the first compressed message received, and neither is
kept when the side that uses it agreed to no context takeover. Without context takeover
the server's compressed frames are the same bytes for every connection with the same
parameters (``share_key``), so a broadcast is compressed once.
Inflating is bounded: ``decompress(data, max_length)`` in a loop, failing with 1009 as soon
as the message grows past the limit, never after.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .frames import WebSocketProtocolError

__all__ = ["EXTENSION", "DeflateOptions", "DeflateParams", "PerMessageDeflate",
           "accept_response", "client_offer", "negotiate", "parse_extensions"]

#: the extension's token in ``Sec-WebSocket-Extensions``
EXTENSION = "permessage-deflate"

_TAIL = b"\x00\x00\xff\xff"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
           "server_max_window_bits", "client_max_window_bits")

Extension = Tuple[str, Dict[str, Optional[str]]]


def _bad(message: str) -> WebSocketProtocolError:
    return WebSocketProtocolError("Sec-WebSocket-Extensions: " + message, 1002)


def parse_extensions(value: str) -> List[Extension]:
    """A ``Sec-WebSocket-Extensions`` value as ``(name, {parameter: value or None})``
    pairs, in order (RFC 6455, 9.1; quoted values unquoted).

    :raises WebSocketProtocolError: for a malformed value or a repeated parameter
    """
    found: List[Extension] = []
    for item in value.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            if len(parts) == 1 and not item.strip():
                continue  # an empty list element, which RFC 7230 allows
            raise _bad("an extension without a name")
        if not _TOKEN.match(parts[0]):
            raise _bad("bad extension name %r" % parts[0])
        params: Dict[str, Optional[str]] = {}
        for part in parts[1:]:
            name, eq, raw = part.partition("=")
            name, raw = name.strip(), raw.strip()
            if not _TOKEN.match(name):
                raise _bad("bad parameter %r" % part)
            if eq:
                if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                    raw = raw[1:-1]
                if not _TOKEN.match(raw):
                    raise _bad("bad value in %r" % part)
            if name in params:
                raise _bad("parameter %s repeated" % name)
            params[name] = raw if eq else None
        found.append((parts[0].lower(), params))
    return found


def _bits(value: Optional[str], name: str) -> int:
    if value is None or not value.isdigit() or not 8 <= int(value) <= 15:
        raise _bad("%s must be 8 to 15, not %r" % (name, value))
    return int(value)


@dataclass(frozen=True)
class DeflateOptions:
    """A server's (or our client's) permessage-deflate settings.

    The server compresses without context takeover by default: each compressed message
    then stands alone, so a broadcast's compressed frame is shared by every recipient
    and no compressor is kept per connection (socket.io 2's ``ws`` kept the context,
    ``server_no_context_takeover=False`` does that: a compressor per connection, each
    message compressed once per recipient).
    """

    #: smallest message (in bytes, as sent) that is compressed
    threshold: int = 1024
    #: the server starts each compressed message afresh (see the class docstring)
    server_no_context_takeover: bool = True
    #: ask the client to start each compressed message afresh (the server then keeps
    #: no decompressor between messages)
    client_no_context_takeover: bool = False
    #: the server's LZ77 window, 9 to 15 (zlib has no raw window of 8)
    server_max_window_bits: int = 15
    #: the largest window the client may use, 8 to 15 (asked only when it offers the
    #: parameter)
    client_max_window_bits: int = 15
    #: zlib compression level, 0 to 9 (-1 is zlib's default, 6)
    level: int = -1
    #: zlib memory level of the compressor, 1 to 9 (8 is zlib's default: 256 KiB with a
    #: window of 15 bits)
    mem_level: int = 8

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError("threshold must not be negative")
        if not 9 <= self.server_max_window_bits <= 15:
            raise ValueError("server_max_window_bits must be 9 to 15")
        if not 8 <= self.client_max_window_bits <= 15:
            raise ValueError("client_max_window_bits must be 8 to 15")
        if not -1 <= self.level <= 9:
            raise ValueError("level must be -1 to 9")
        if not 1 <= self.mem_level <= 9:
            raise ValueError("mem_level must be 1 to 9")

    @classmethod
    def from_option(cls, value: Any) -> Optional["DeflateOptions"]:
        """``per_message_deflate=``'s value: False/None (off), True, a dict of fields, or
        a ``DeflateOptions``.

        :raises ValueError: for anything else, or an out-of-range field
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError("unknown per_message_deflate option(s): %s"
                                 % ", ".join(sorted(unknown)))
            return cls(**dict(value))
        raise ValueError("per_message_deflate must be a bool or a dict of options")


@dataclass(frozen=True)
class DeflateParams:
    """What both sides agreed (the parameters of the accepted response)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    #: whether ``server_max_window_bits`` and ``client_max_window_bits`` are stated in
    #: the response (a client that did not offer the latter must not be sent it)
    state_server_bits: bool = False
    state_client_bits: bool = False

    def header(self) -> str:
        """The response's ``Sec-WebSocket-Extensions`` value."""
        parts = [EXTENSION]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.state_server_bits:
            parts.append("server_max_window_bits=%d" % self.server_max_window_bits)
        if self.state_client_bits:
            parts.append("client_max_window_bits=%d" % self.client_max_window_bits)
        return "; ".join(parts)


def _accept_offer(params: Dict[str, Optional[str]],
                  options: DeflateOptions) -> Optional[DeflateParams]:
    """The answer to one offer, or None to decline it."""
    if set(params) - set(_PARAMS):
        return None
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if flag in params and params[flag] is not None:
            return None
    try:
        server_bits = options.server_max_window_bits
        state_server = server_bits < 15
        if "server_max_window_bits" in params:
            server_bits = min(server_bits, _bits(params["server_max_window_bits"],
                                                 "server_max_window_bits"))
            state_server = True
        client_bits = 15
        state_client = False
        if "client_max_window_bits" in params:
            raw = params["client_max_window_bits"]
            client_bits = min(15 if raw is None else _bits(raw, "client_max_window_bits"),
                              options.client_max_window_bits)
            state_client = raw is not None or client_bits < 15
    except WebSocketProtocolError:
        return None
    if server_bits < 9:
        return None  # zlib cannot deflate with a window of 8 bits
    return DeflateParams(
        server_no_context_takeover=(options.server_no_context_takeover
                                    or "server_no_context_takeover" in params),
        client_no_context_takeover=(options.client_no_context_takeover
                                    or "client_no_context_takeover" in params),
        server_max_window_bits=server_bits, client_max_window_bits=client_bits,
        state_server_bits=state_server, state_client_bits=state_client)


def negotiate(offers: str, options: Optional[DeflateOptions]) -> Optional[DeflateParams]:
    """The server's answer to a client's ``Sec-WebSocket-Extensions`` header: the first
    permessage-deflate offer it can accept, or None (no extension: the header is absent,
    offers nothing acceptable, or ``options`` is None).

    A malformed offer (a parameter repeated, a value that is no token) is declined alone,
    as RFC 7692 (section 7) says: the offers after it are still considered.
    """
    if options is None or not offers:
        return None
    for item in offers.split(","):
        try:
            extensions = parse_extensions(item)
        except WebSocketProtocolError:
            continue
        for name, params in extensions:
            if name == EXTENSION:
                agreed = _accept_offer(params, options)
                if agreed is not None:
                    return agreed
    return None


def client_offer(options: DeflateOptions) -> str:
    """The client's ``Sec-WebSocket-Extensions`` offer for ``options``."""
    parts = [EXTENSION, "client_max_window_bits"]
    if options.client_no_context_takeover:
        parts.append("client_no_context_takeover")
    if options.server_no_context_takeover:
        parts.append("server_no_context_takeover")
    if options.server_max_window_bits < 15:
        parts.append("server_max_window_bits=%d" % options.server_max_window_bits)
    return "; ".join(parts)


def accept_response(value: Optional[str], options: DeflateOptions) -> Optional[DeflateParams]:
    """The client's reading of the server's ``Sec-WebSocket-Extensions`` answer to
    ``client_offer(options)``: the agreed parameters, or None when none was accepted.

    :raises WebSocketProtocolError: when the answer is malformed or accepts something
        that was not offered (the client must then fail the connection)
    """
    if not value:
        return None
    extensions = parse_extensions(value)
    if len(extensions) != 1 or extensions[0][0] != EXTENSION:
        raise _bad("the server accepted an extension not offered: %r" % value)
    params = extensions[0][1]
    unknown = set(params) - set(_PARAMS)
    if unknown:
        raise _bad("unknown parameter(s) %s" % ", ".join(sorted(unknown)))
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if flag in params and params[flag] is not None:
            raise _bad("%s takes no value" % flag)
    server_bits = 15
    if "server_max_window_bits" in params:
        server_bits = _bits(params["server_max_window_bits"], "server_max_window_bits")
        if server_bits > options.server_max_window_bits:
            raise _bad("server_max_window_bits over the offered limit")
    client_bits = options.client_max_window_bits
    if "client_max_window_bits" in params:
        client_bits = min(client_bits, _bits(params["client_max_window_bits"],
                                             "client_max_window_bits"))
    return DeflateParams(
        server_no_context_takeover="server_no_context_takeover" in params,
        client_no_context_takeover=("client_no_context_takeover" in params
                                    or options.client_no_context_takeover),
        server_max_window_bits=server_bits, client_max_window_bits=client_bits)


class PerMessageDeflate:
    """One endpoint's compression state on a connection with permessage-deflate agreed.

    :param params: what was agreed
    :param client: we are the client (we compress with the client's parameters)
    :param threshold: smallest message (bytes, as sent) that ``compress`` is used for
    :param level: zlib compression level
    :param mem_level: zlib memory level of the compressor
    """

    __slots__ = ("params", "client", "threshold", "level", "mem_level", "_send_bits",
                 "_send_reset", "_recv_bits", "_recv_reset", "_compressor", "_decompressor",
                 "share_key")

    def __init__(self, params: DeflateParams, client: bool = False, threshold: int = 1024,
                 level: int = -1, mem_level: int = 8) -> None:
        self.params = params
        self.client = client
        self.threshold = threshold
        self.level = level
        self.mem_level = mem_level
        server = (params.server_max_window_bits, params.server_no_context_takeover)
        peer = (params.client_max_window_bits, params.client_no_context_takeover)
        if client:
            server, peer = peer, server
        # zlib has no raw window of 8 bits: 9 (a larger window inflates a smaller one's
        # output; a client allowed 8 may use 9 only if the server accepts it, as zlib
        # itself does since 1.2.9)
        self._send_bits, self._send_reset = max(server[0], 9), server[1]
        self._recv_bits, self._recv_reset = max(peer[0], 9), peer[1]
        self._compressor: Any = None
        self._decompressor: Any = None
        #: the same for every connection whose compressed frames are the same bytes
        #: (no context takeover on our side), else None: compress per connection
        self.share_key: Optional[Tuple[int, int, int]] = (
            (self._send_bits, level, mem_level) if self._send_reset else None)

    @property
    def holds_memory(self) -> bool:
        """Whether a compressor or decompressor is kept between messages."""
        return self._compressor is not None or self._decompressor is not None

    def compress(self, data: bytes) -> bytes:
        """A message's payload, compressed (to send in a frame with RSV1 set)."""
        compressor = self._compressor
        if compressor is None:
            compressor = zlib.compressobj(self.level, zlib.DEFLATED, -self._send_bits,
                                          self.mem_level)
            if not self._send_reset:
                self._compressor = compressor
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if out.endswith(_TAIL):
            out = out[:-4]
        return out or b"\x00"

    def inflate(self, data: bytes, room: int) -> bytes:
        """A piece of a compressed message, inflated.

        :param room: how many more bytes the message may inflate to
        :raises WebSocketProtocolError: 1009 as soon as the output passes ``room``;
            1007 for data that is not DEFLATE
        """
        decompressor = self._decompressor
        if decompressor is None:
            decompressor = self._decompressor = zlib.decompressobj(-self._recv_bits)
        out: List[bytes] = []
        while data:
            try:
                piece = decompressor.decompress(data, room + 1)
            except zlib.error as exc:
                self._decompressor = None
                raise WebSocketProtocolError("bad compressed data: %s" % exc, 1007) from None
            if len(piece) > room:
                self._decompressor = None
                raise WebSocketProtocolError("message inflates past the limit", 1009)
            room -= len(piece)
            out.append(piece)
            if decompressor.eof:  # a final block: the next message starts afresh
                self._decompressor = None
                if decompressor.unused_data:
                    raise WebSocketProtocolError("data after a final deflate block", 1007)
                break
            data = decompressor.unconsumed_tail
        return b"".join(out)

    def end_message(self, room: int) -> bytes:
        """What the end of a compressed message still yields (the flush tail's output);
        forgets the context when the peer agreed not to keep it."""
        out = self.inflate(_TAIL, room) if self._decompressor is not None else b""
        if self._recv_reset:
            self._decompressor = None
        return out

"""RFC 6455 framing without I/O: bytes in, messages and control frames out, and back.

``FrameDecoder`` takes bytes as they arrive (``feed``) and hands out what they complete
(``next_event``): a data message as itself (``str`` for text, ``bytes`` for binary, so the
common case costs no wrapper object) and control frames as ``Ping``, ``Pong`` or
``Close``. Every violation raises ``WebSocketProtocolError`` carrying the close code to
answer with. Limits are enforced before buffering: a frame header announcing more than
the message limit fails before its payload is awaited, and text is checked as UTF-8 as
each piece arrives, so a bad byte fails at once rather than when the message completes.

The encoding side builds frames (``encode_message``, ``encode_control``, ``encode_close``);
a client passes the 4-byte masking key it drew, as this module draws no random numbers.

With permessage-deflate agreed (``deflate.py``), the decoder's ``deflate`` is set: RSV1 is
then allowed on the first frame of a data message, whose payload is inflated piece by
piece within the message limit; ``encode_message`` sets RSV1 on a payload it was given
compressed. Without it, any reserved bit fails with 1002.
"""
from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Union

__all__ = [
    "OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG", "OP_TEXT", "Close",
    "Event", "FrameDecoder", "Ping", "Pong", "WebSocketProtocolError", "encode_close",
    "encode_control", "encode_message", "frame_header", "LOCAL_CODES", "unmask",
]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: close codes that report a local condition and never go in a close frame (RFC 6455, 7.4.1)
LOCAL_CODES = frozenset((1005, 1006, 1015))

_utf8_decoder = codecs.getincrementaldecoder("utf-8")
_pack_short = struct.Struct("!BB").pack
_pack_medium = struct.Struct("!BBH").pack
_pack_long = struct.Struct("!BBQ").pack
_unpack_medium = struct.Struct("!H").unpack_from
_unpack_long = struct.Struct("!Q").unpack_from


class WebSocketProtocolError(Exception):
    """The peer broke RFC 6455; ``code`` is the close code to answer with.

    :param message: what was wrong
    :param code: 1002 (protocol error), 1007 (invalid UTF-8), 1009 (too big), ...
    """

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(message)
        #: the close code that reports this violation
        self.code = code


@dataclass(frozen=True)
class Ping:
    """A ping frame; answer it with a pong carrying the same ``payload``."""

    payload: bytes


@dataclass(frozen=True)
class Pong:
    """A pong frame."""

    payload: bytes


@dataclass(frozen=True)
class Close:
    """A close frame: its status ``code`` (None when the frame had no payload) and reason."""

    code: Optional[int]
    reason: str = ""


#: what ``FrameDecoder.next_event`` returns: a whole message or a control frame
Event = Union[str, bytes, Ping, Pong, Close]

Masker = Callable[[bytes, bytes], bytes]


def unmask(mask: bytes, data: bytes) -> bytes:
    """``data`` XOR-ed with the 4-byte ``mask`` repeated (masking and unmasking alike)."""
    size = len(data)
    if not size:
        return data
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "little")
    return (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")


def _valid_close_code(code: int) -> bool:
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _invalid_utf8() -> WebSocketProtocolError:
    return WebSocketProtocolError("invalid UTF-8 in a text message", 1007)


def _payload(opcode: int, data: bytes) -> Event:
    """A whole message's unmasked payload as its event: ``str`` for text, else ``bytes``."""
    if opcode == OP_BINARY:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_utf8() from None


def _parse_close(payload: bytes) -> Close:
    """A close frame's payload: empty, or a valid status code and a UTF-8 reason."""
    if not payload:
        return Close(None)
    if len(payload) == 1:
        raise WebSocketProtocolError("close frame with half a status code")
    (code,) = _unpack_medium(payload)
    if not _valid_close_code(code):
        raise WebSocketProtocolError("close frame with the invalid status code %d" % code)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError("close frame reason is not UTF-8", 1007) from None
    return Close(code, reason)


class FrameDecoder:
    """Decodes the frames one peer sends into messages and control frames.

    :param max_size: largest message accepted, in bytes (all its fragments together)
    :param client: we are the client: frames must come unmasked (a server's must be masked)
    :param unmask: the XOR function to use (an accelerated one, say); ``unmask`` by default
    """

    __slots__ = ("max_size", "client", "_unmask", "_buf", "_pos", "_fin", "_opcode",
                 "_mask", "_left", "_done", "_message", "_parts", "_size", "_utf8", "_closed",
                 "deflate", "_deflated", "_inflated")

    def __init__(self, max_size: int, client: bool = False,
                 unmask: Optional[Masker] = None) -> None:
        self.max_size = max_size
        self.client = client
        self._unmask: Masker = unmask or globals()["unmask"]
        self._buf = b""
        self._pos = 0
        # the frame being read: its FIN bit, opcode, mask, payload bytes not yet seen and
        # seen; _opcode is -1 between frames
        self._fin = True
        self._opcode = -1
        self._mask: Optional[bytes] = None
        self._left = 0
        self._done = 0
        # the message being assembled: its opcode (0 between messages), pieces, size and,
        # for text, the incremental UTF-8 decoder
        self._message = 0
        self._parts: List[Any] = []
        self._size = 0
        self._utf8: Any = None
        self._closed = False
        #: the ``PerMessageDeflate`` inflating compressed messages, when it was agreed
        self.deflate: Any = None
        # the message being assembled is compressed; its size once inflated
        self._deflated = False
        self._inflated = 0

    @property
    def in_frame(self) -> bool:
        """Whether bytes of an unfinished frame are pending (the peer stopped mid-frame)."""
        return self._opcode >= 0 or self._pos < len(self._buf)

    def feed(self, data: bytes) -> None:
        """Add received bytes; ``next_event`` hands out what they complete.

        Bytes after a close frame are ignored: nothing may follow it.
        """
        if self._closed:
            return
        if self._pos >= len(self._buf):
            self._buf = bytes(data)
        else:
            self._buf = self._buf[self._pos:] + data
        self._pos = 0

    def next_event(self) -> Optional[Event]:
        """The next whole message or control frame, or None until more bytes are fed.

        :raises WebSocketProtocolError: on a protocol violation; the events of the bytes
            before it have all been returned first
        """
        while not self._closed:
            if self._opcode < 0:
                whole = self._short_message()
                if whole is not None:
                    return whole
                if not self._read_header():
                    return None
            opcode = self._opcode
            if opcode >= OP_CLOSE:
                event = self._control()
                if event is None:
                    return None
                return event
            event = self._data()
            if event is not None:
                return event
            if self._opcode >= 0:  # the frame's payload is still to come
                return None
        return None

    def _short_message(self) -> Optional[Event]:
        """A whole text or binary message of at most 125 bytes in one masked frame, when
        all of it has arrived: what clients send most, read at once, the frame state left
        untouched. None for anything else, which ``_read_header`` reads and checks."""
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 6 or self._message or self.client:
            return None
        b0, b1 = buf[pos], buf[pos + 1]
        # FIN, no reserved bit, text or binary; masked, a 7-bit length
        if (b0 != 0x81 and b0 != 0x82) or b1 < 0x80 or b1 > 0xFD:
            return None
        end = pos + 6 + (b1 & 0x7F)
        if end > len(buf) or b1 & 0x7F > self.max_size:
            return None
        self._pos = end
        return _payload(b0 & 0x0F, self._unmask(buf[pos + 2:pos + 6], buf[pos + 6:end]))

    # -- header --------------------------------------------------------------------

    def _read_header(self) -> bool:
        """Parse the next frame header if it is all there; each check is made as soon as
        the bytes it needs are, before any payload is awaited."""
        buf, pos = self._buf, self._pos
        avail = len(buf) - pos
        if avail < 2:
            return False
        b0, b1 = buf[pos], buf[pos + 1]
        if not ((b0 == 0x81 or b0 == 0x82) and not self._message
                and bool(b1 & 0x80) != self.client):  # not a plain whole message
            self._check_start(b0, b1)
        length = b1 & 0x7F
        head = pos + 2
        if length == 126:
            if avail < 4:
                return False
            (length,) = _unpack_medium(buf, head)
            head += 2
        elif length == 127:
            if avail < 10:
                return False
            (length,) = _unpack_long(buf, head)
            head += 8
        opcode = b0 & 0x0F
        if opcode >= OP_CLOSE:
            if length > 125:
                raise WebSocketProtocolError("control frame over 125 bytes")
        elif self._size + length > self.max_size:
            raise WebSocketProtocolError("message over the %d byte limit" % self.max_size, 1009)
        if b1 & 0x80:
            if len(buf) < head + 4:
                return False
            self._mask = buf[head:head + 4]
            head += 4
        else:
            self._mask = None
        self._pos = head
        self._fin = bool(b0 & 0x80)
        self._opcode = opcode
        self._left = length
        self._done = 0
        return True

    def _check_start(self, b0: int, b1: int) -> None:
        """The checks the first two bytes of a frame settle on their own."""
        if b0 & 0x70:
            if not (b0 & 0x70 == 0x40 and self.deflate is not None
                    and (b0 & 0x0F) in (OP_TEXT, OP_BINARY)):
                raise WebSocketProtocolError(
                    "reserved bits set" if self.deflate is not None
                    else "reserved bits set (no extension was negotiated)")
        if bool(b1 & 0x80) == self.client:
            raise WebSocketProtocolError("server frame masked" if self.client
                                         else "client frame not masked")
        opcode = b0 & 0x0F
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                raise WebSocketProtocolError("unknown opcode %d" % opcode)
            if not b0 & 0x80:
                raise WebSocketProtocolError("fragmented control frame")
        elif opcode > OP_BINARY:
            raise WebSocketProtocolError("unknown opcode %d" % opcode)
        elif opcode == OP_CONT:
            if not self._message:
                raise WebSocketProtocolError("continuation without a message")
        elif self._message:
            raise WebSocketProtocolError("new message inside a fragmented one")
        if b0 & 0x40:
            self._deflated = True  # the first frame of a compressed message

    # -- payloads ------------------------------------------------------------------

    def _control(self) -> Optional[Event]:
        """A control frame once its whole payload is there (at most 125 bytes)."""
        length, pos = self._left, self._pos
        if len(self._buf) - pos < length:
            return None
        payload = self._buf[pos:pos + length]
        self._pos = pos + length
        if self._mask is not None:
            payload = self._unmask(self._mask, payload)
        opcode = self._opcode
        self._opcode = -1
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        close = _parse_close(payload)
        self._closed = True
        self._buf, self._pos = b"", 0
        return close

    def _data(self) -> Optional[Event]:
        """Take what is there of a data frame's payload; the message once it is complete."""
        buf, pos, left = self._buf, self._pos, self._left
        opcode = self._opcode
        deflated = self._deflated
        if opcode and self._fin and self._done == 0 and len(buf) - pos >= left \
                and not deflated:
            # a whole message in one frame, all received: the usual case, kept short
            data = buf[pos:pos + left]
            self._pos = pos + left
            self._opcode = -1
            if self._mask is not None:
                data = self._unmask(self._mask, data)
            return _payload(opcode, data)
        piece = self._piece()
        if piece is not None:
            if deflated and piece:  # inflated piece by piece, within the limit
                piece = self.deflate.inflate(piece, self.max_size - self._inflated)
                self._inflated += len(piece)
            self._add(piece)
        if self._left:
            return None
        self._opcode = -1
        if not self._fin:
            return None
        if deflated:
            self._add(self.deflate.end_message(self.max_size - self._inflated))
            self._deflated, self._inflated = False, 0
        return self._finish()

    def _piece(self) -> Optional[bytes]:
        """What has arrived of the frame's payload, unmasked (starting the message on its
        first bytes); None when nothing has and some is awaited."""
        buf, pos, left = self._buf, self._pos, self._left
        take = min(left, len(buf) - pos)
        if not take and left:
            return None
        opcode = self._opcode
        if opcode and not self._message:  # the first bytes of a fragmented message
            self._message = opcode
            if opcode == OP_TEXT:
                self._utf8 = _utf8_decoder()
        data = buf[pos:pos + take]
        self._pos = pos + take
        mask = self._mask
        if mask is not None and take:
            shift = self._done & 3
            data = self._unmask(mask[shift:] + mask[:shift] if shift else mask, data)
        self._done += take
        self._left = left - take
        self._size += take
        return data

    def _add(self, data: bytes) -> None:
        """A piece of the message's payload, into its parts (text checked as UTF-8)."""
        if self._message == OP_TEXT:
            try:
                self._parts.append(self._utf8.decode(data))
            except UnicodeDecodeError:
                raise _invalid_utf8() from None
        elif data:
            self._parts.append(data)

    def _finish(self) -> Event:
        parts, message = self._parts, self._message
        self._parts, self._message, self._size = [], 0, 0
        if message == OP_BINARY:
            return b"".join(parts)
        utf8, self._utf8 = self._utf8, None
        try:
            utf8.decode(b"", True)  # a code point cut off at the end
        except UnicodeDecodeError:
            raise _invalid_utf8() from None
        return "".join(parts)


# -- encoding ----------------------------------------------------------------------


def frame_header(opcode: int, length: int, masked: bool = False, rsv1: bool = False) -> bytes:
    """The header of a final frame: FIN, RSV1 (a compressed message's), ``opcode``, the
    mask bit and ``length``."""
    bit = 0x80 if masked else 0
    first = (0xC0 if rsv1 else 0x80) | opcode
    if length < 126:
        return _pack_short(first, bit | length)
    if length < 65536:
        return _pack_medium(first, bit | 126, length)
    return _pack_long(first, bit | 127, length)


def encode_message(message: Union[str, bytes], mask: Optional[bytes] = None,
                   compress: Optional[Callable[[bytes], bytes]] = None) -> bytes:
    """One frame carrying a whole message: text for ``str``, binary for ``bytes``.

    :param mask: the 4-byte masking key (a client's frames), or None (a server's)
    :param compress: permessage-deflate's ``compress``: the payload goes compressed,
        with RSV1 set
    """
    if isinstance(message, str):
        data, opcode = message.encode("utf-8"), OP_TEXT
    else:
        data, opcode = bytes(message), OP_BINARY
    rsv1 = compress is not None
    if rsv1:
        data = compress(data)  # type: ignore[misc]
    if mask is None:
        return frame_header(opcode, len(data), False, rsv1) + data
    return frame_header(opcode, len(data), True, rsv1) + mask + unmask(mask, data)


def encode_control(opcode: int, payload: bytes = b"", mask: Optional[bytes] = None) -> bytes:
    """A ping, pong or close frame.

    :raises ValueError: for another opcode, or a payload over 125 bytes
    """
    if opcode not in (OP_CLOSE, OP_PING, OP_PONG):
        raise ValueError("opcode %d is not a control frame's" % opcode)
    if len(payload) > 125:
        raise ValueError("a control frame carries at most 125 bytes, not %d" % len(payload))
    if mask is None:
        return frame_header(opcode, len(payload)) + payload
    return frame_header(opcode, len(payload), True) + mask + unmask(mask, payload)


def encode_close(code: int = 1000, reason: str = "", mask: Optional[bytes] = None) -> bytes:
    """A close frame with a status ``code`` and a ``reason``.

    :raises ValueError: for a code that may not be sent (1005, 1006, 1015, out of range)
        or a reason too long for a control frame
    """
    if not _valid_close_code(code):
        raise ValueError("close code %d may not be sent" % code)
    return encode_control(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"), mask)

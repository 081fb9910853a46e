"""Incremental decoding: Engine.IO messages in, complete Socket.IO packets out."""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, Union

from .binary import join_binary
from .errors import ProtocolError
from .packet import Packet, PacketType, default_loads

__all__ = ["Decoder", "decode_text", "MAX_DEPTH"]

_TYPES = {str(t.value): t for t in PacketType}
_MAX_DIGITS = 15
_DIGITS = "0123456789"

#: deepest nesting of arrays and objects accepted in a packet's data (the event's own
#: array is level 1); deeper data could not be re-encoded or walked without a
#: RecursionError, and some JSON decoders (orjson) accept any depth
MAX_DEPTH = 200


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (list, dict)))
    return False


def decode_text(text: str,
                loads: Callable[[str], Any] = default_loads) -> Tuple[Packet, int]:
    """Decode a packet's text part.

    :returns: ``(packet, attachment_count)``; for binary packets the data still holds placeholders
    :raises ProtocolError: on malformed input
    """
    if not text:
        raise ProtocolError("empty packet")
    ptype = _TYPES.get(text[0])
    if ptype is None:
        raise ProtocolError("unknown packet type %r" % text[0])
    pos, end = 1, len(text)
    count = 0
    if ptype is PacketType.BINARY_EVENT or ptype is PacketType.BINARY_ACK:
        dash = text.find("-", pos, pos + _MAX_DIGITS + 1)
        digits = text[pos:dash] if dash > 0 else ""
        if not digits.isascii() or not digits.isdigit():
            raise ProtocolError("bad attachment count")
        count = int(digits)
        pos = dash + 1
    namespace = "/"
    if pos < end and text[pos] == "/":
        comma = text.find(",", pos)
        if comma < 0:
            namespace, pos = text[pos:], end
        else:
            namespace, pos = text[pos:comma], comma + 1
    ack_id = None
    if pos < end and "0" <= text[pos] <= "9":
        head = text[pos:pos + _MAX_DIGITS + 1]
        width = len(head) - len(head.lstrip(_DIGITS))
        if width > _MAX_DIGITS:
            raise ProtocolError("ack id too long")
        ack_id = int(text[pos:pos + width])
        pos += width
    data = None
    present = pos < end
    if present:
        try:
            data = loads(text[pos:])
        except (ValueError, TypeError, RecursionError) as exc:
            raise ProtocolError("bad JSON payload: %s" % exc) from None
        # deeper than MAX_DEPTH takes more than 2 * MAX_DEPTH characters of valid JSON
        if end - pos > 2 * MAX_DEPTH and \
                text.count("[", pos) + text.count("{", pos) > MAX_DEPTH and \
                isinstance(data, (list, dict)) and _nested_deeper_than(data, MAX_DEPTH):
            raise ProtocolError("payload nested deeper than %d levels" % MAX_DEPTH)
    if not (ptype is PacketType.EVENT and type(data) is list and data
            and type(data[0]) is str):  # the usual event needs no more checks
        _validate(ptype, data, ack_id, present)
    return Packet(ptype, namespace, data, ack_id), count


def _validate(ptype: PacketType, data: Any, ack_id: Optional[int], present: bool) -> None:
    if ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT:
        if not isinstance(data, list) or not data or not isinstance(data[0], (str, int)) \
                or isinstance(data[0], bool):
            raise ProtocolError("an event needs a non-empty array starting with its name")
    elif ptype is PacketType.ACK or ptype is PacketType.BINARY_ACK:
        if not isinstance(data, list) or ack_id is None:
            raise ProtocolError("an ack needs an id and an array")
    elif ptype is PacketType.CONNECT:
        if present and not isinstance(data, dict):
            raise ProtocolError("CONNECT data must be an object")
    elif ptype is PacketType.DISCONNECT:
        if present:
            raise ProtocolError("DISCONNECT carries no data")


class Decoder:
    """Reassembles packets from Engine.IO messages (text, then its binary attachments).

    :param loads: JSON decoder
    :param max_attachments: most attachments one packet may announce
    :param max_attachment_bytes: most bytes all attachments of one packet may hold
        together (None: no limit beyond each message's own)
    """

    __slots__ = ("loads", "max_attachments", "max_attachment_bytes", "_pending", "_buffers",
                 "_expected", "_size")

    def __init__(self, loads: Callable[[str], Any] = default_loads,
                 max_attachments: int = 1000,
                 max_attachment_bytes: Optional[int] = None) -> None:
        self.loads = loads
        self.max_attachments = max_attachments
        self.max_attachment_bytes = max_attachment_bytes
        self._pending: Optional[Packet] = None
        self._buffers: List[bytes] = []
        self._expected = 0
        self._size = 0

    @property
    def waiting(self) -> bool:
        """Whether a binary packet is waiting for attachments."""
        return self._pending is not None

    def feed(self, message: Union[str, bytes]) -> Optional[Packet]:
        """Take one Engine.IO message.

        :returns: a complete packet, or None while attachments are still due
        :raises ProtocolError: on malformed input or out-of-place messages
        """
        if isinstance(message, str):
            if self._pending is not None:
                raise ProtocolError("text packet while %d attachment(s) were due"
                                    % (self._expected - len(self._buffers)))
            packet, count = decode_text(message, self.loads)
            if packet.type not in (PacketType.BINARY_EVENT, PacketType.BINARY_ACK):
                if count:
                    raise ProtocolError("attachments on a non-binary packet")
                return packet
            if count > self.max_attachments:
                raise ProtocolError("%d attachments exceed the limit of %d"
                                    % (count, self.max_attachments))
            if count == 0:
                return self._finish(packet, [])
            self._pending, self._expected, self._buffers, self._size = packet, count, [], 0
            return None
        if self._pending is None:
            raise ProtocolError("unexpected binary message")
        self._size += len(message)
        limit = self.max_attachment_bytes
        if limit is not None and self._size > limit:
            raise ProtocolError("the attachments of one packet exceed %d bytes" % limit)
        self._buffers.append(bytes(message))
        if len(self._buffers) < self._expected:
            return None
        packet, buffers = self._pending, self._buffers
        self._pending, self._buffers, self._expected = None, [], 0
        return self._finish(packet, buffers)

    @staticmethod
    def _finish(packet: Packet, buffers: List[bytes]) -> Packet:
        plain = PacketType.EVENT if packet.type is PacketType.BINARY_EVENT else PacketType.ACK
        try:
            data = join_binary(packet.data, buffers)
        except RecursionError:
            raise ProtocolError("binary packet nested too deeply") from None
        return Packet(plain, packet.namespace, data, packet.id)

"""A tiny RFC 6455 websocket client and an HTTP helper, for tests over loopback sockets.

Nothing here is clever on purpose: the client writes exactly the bytes a test asks
for (masked or not, any opcode) and reads frames one at a time, so the tests see the
server's behaviour unfiltered. Every read has a timeout.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import threading
from email.message import Message
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

__all__ = ["Reply", "request", "error_of", "WebSocketClient", "Refused", "ws_connect",
           "ws_handshake", "Frame", "ConnectionEnded", "OP_TEXT", "OP_BINARY", "OP_CLOSE",
           "OP_PING", "OP_PONG", "OP_CONT", "open_ws", "polling_sid", "assert_sid_gone",
           "assert_closed_with", "in_thread", "joined", "sio_connect",
           "read_response", "RawReply"]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

Data = Union[str, bytes]


# -- plain HTTP -------------------------------------------------------------------------

class Reply(NamedTuple):
    """An HTTP answer: status, headers (case-insensitive ``get``) and body."""

    status: int
    headers: Message
    body: bytes


def request(port: int, method: str, query: str = "", body: Optional[bytes] = None,
            headers: Optional[Dict[str, str]] = None, path: str = "/socket.io/",
            timeout: float = 5.0) -> Reply:
    """One HTTP request on its own connection to 127.0.0.1:``port``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        target = path + ("?" + query if query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        conn.close()


def error_of(reply: Reply) -> Dict[str, object]:
    """The ``{"code", "message"}`` JSON body of a refusal (checks its shape)."""
    assert reply.headers.get("Content-Type") == "application/json"
    body = json.loads(reply.body)
    assert isinstance(body, dict)
    assert sorted(body) == ["code", "message"]
    assert isinstance(body["code"], int)
    assert isinstance(body["message"], str)
    return body


# -- websocket --------------------------------------------------------------------------

class Frame(NamedTuple):
    """One frame as read from the wire."""

    fin: bool
    opcode: int
    payload: bytes


class ConnectionEnded(Exception):
    """The server closed the TCP connection (EOF) where a frame was expected."""


class RawReply(NamedTuple):
    """An HTTP answer read from a raw socket: status, lower-case headers, body."""

    status: int
    headers: Dict[str, str]
    body: bytes


#: a websocket handshake the server answered without switching protocols
Refused = RawReply


def _read_head(sock: socket.socket) -> Tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionEnded("connection closed inside the HTTP response head: %r" % data)
        data += chunk
        if len(data) > 65536:
            raise AssertionError("HTTP response head too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _parse_head(head: bytes) -> Tuple[int, Dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def _read_body(sock: socket.socket, headers: Dict[str, str], rest: bytes) -> bytes:
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(length - len(rest))
        if not chunk:
            break
        rest += chunk
    if len(rest) > length:  # the server must not say more than its Content-Length
        raise AssertionError("data after the response body: %r" % rest[length:])
    return rest


def read_response(sock: socket.socket) -> RawReply:
    """One HTTP response read from a raw socket."""
    head, rest = _read_head(sock)
    status, headers = _parse_head(head)
    return RawReply(status, headers, _read_body(sock, headers, rest))


def ws_handshake(port: int, query: str, headers: Optional[Dict[str, str]] = None,
                 path: str = "/socket.io/", timeout: float = 5.0
                 ) -> Union["WebSocketClient", Refused]:
    """Open a websocket; the client on a 101, else the server's HTTP answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = ["GET %s?%s HTTP/1.1" % (path, query), "Host: 127.0.0.1:%d" % port,
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % item for item in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head, rest = _read_head(sock)
        status, response_headers = _parse_head(head)
        if status != 101:
            body = _read_body(sock, response_headers, rest)
            sock.close()
            return Refused(status, response_headers, body)
        expected = base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode()
        assert response_headers.get("sec-websocket-accept") == expected
        assert response_headers.get("upgrade", "").lower() == "websocket"
        client = WebSocketClient(sock, rest)
        client.headers = response_headers
        return client
    except BaseException:
        sock.close()
        raise


def ws_connect(port: int, query: str, headers: Optional[Dict[str, str]] = None,
               timeout: float = 5.0) -> "WebSocketClient":
    """Open a websocket that must be accepted (101)."""
    result = ws_handshake(port, query, headers, timeout=timeout)
    if isinstance(result, Refused):
        raise AssertionError("websocket refused: %r" % (result,))
    return result


def encode_frame(opcode: int, payload: bytes, masked: bool = True, fin: bool = True,
                 rsv: int = 0) -> bytes:
    """The bytes of one frame, masked (as clients must) unless ``masked`` is False."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", b0, bit | size)
    elif size < 65536:
        head = struct.pack("!BBH", b0, bit | 126, size)
    else:
        head = struct.pack("!BBQ", b0, bit | 127, size)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    key = (mask * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return head + mask + body


class WebSocketClient:
    """The client side of an open websocket."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self.sock = sock
        self._buffer = buffered
        #: the 101's headers (lower-case names), when ``ws_handshake`` opened it
        self.headers: Dict[str, str] = {}

    def __enter__(self) -> "WebSocketClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def settimeout(self, timeout: float) -> None:
        self.sock.settimeout(timeout)

    # -- writing
    def send_frame(self, opcode: int, payload: bytes, masked: bool = True, fin: bool = True,
                   rsv: int = 0) -> None:
        self.sock.sendall(encode_frame(opcode, payload, masked, fin, rsv))

    def send(self, message: Data) -> None:
        """A text frame for ``str``, a binary frame for ``bytes``."""
        if isinstance(message, str):
            self.send_frame(OP_TEXT, message.encode("utf-8"))
        else:
            self.send_frame(OP_BINARY, bytes(message))

    def send_many(self, messages: List[Data]) -> None:
        """Several messages with one write."""
        out = b"".join(encode_frame(OP_TEXT, m.encode("utf-8")) if isinstance(m, str)
                       else encode_frame(OP_BINARY, m) for m in messages)
        self.sock.sendall(out)

    # -- reading
    def _exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(max(65536, size - len(self._buffer)))
            if not chunk:
                raise ConnectionEnded("connection closed (%d of %d bytes buffered)"
                                      % (len(self._buffer), size))
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv_frame(self) -> Frame:
        """The next frame; server frames must not be masked."""
        b0, b1 = self._exact(2)
        assert not b1 & 0x80, "the server masked a frame"
        assert not b0 & 0x70, "the server set reserved bits"
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._exact(8))
        return Frame(bool(b0 & 0x80), b0 & 0x0F, self._exact(length))

    def recv(self) -> Data:
        """The next message: ``str`` for a text frame, ``bytes`` for binary.

        :raises AssertionError: on a close frame (its code is in the message)
        """
        frame = self.recv_frame()
        assert frame.fin, "the server fragmented a message"
        if frame.opcode == OP_TEXT:
            return frame.payload.decode("utf-8")
        if frame.opcode == OP_BINARY:
            return frame.payload
        raise AssertionError("expected a data frame, got opcode %d payload %r"
                             % (frame.opcode, frame.payload))

    def recv_close(self) -> Optional[int]:
        """Read until the server's close frame; its status code (None if it had none).

        Data frames before it are skipped. ``ConnectionEnded`` if the TCP connection
        ends without a close frame.
        """
        while True:
            frame = self.recv_frame()
            if frame.opcode == OP_CLOSE:
                if len(frame.payload) >= 2:
                    return struct.unpack("!H", frame.payload[:2])[0]
                return None

    def at_eof(self) -> bool:
        """Whether the server closed the TCP connection with nothing more to read."""
        if self._buffer:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self, code: Optional[int] = 1000) -> None:
        """Send a close frame (unless ``code`` is None) and close the socket."""
        try:
            if code is not None:
                self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        finally:
            self.sock.close()


# -- Engine.IO sessions and checks -------------------------------------------------------

def open_ws(port: int, version: int, extra: str = "") -> Tuple[WebSocketClient, Dict[str, Any]]:
    """A direct websocket session: the client and its open packet's JSON."""
    ws = ws_connect(port, "EIO=%d&transport=websocket%s" % (version, extra))
    try:
        first = ws.recv()
        assert isinstance(first, str) and first.startswith("0{"), first
        return ws, json.loads(first[1:])
    except BaseException:
        ws.close(None)
        raise


def sio_connect(port: int, version: int = 4) -> Tuple[WebSocketClient, str]:
    """A Socket.IO client over a direct websocket, connected to ``/``; and its socket id.

    Protocol 4 (``EIO=3``) connects to ``/`` implicitly, with the engine sid as socket
    id; protocol 5 sends the CONNECT and is told its socket id.
    """
    ws, info = open_ws(port, version)
    try:
        if version == 3:
            assert ws.recv() == "40"
            return ws, info["sid"]
        ws.send("40")
        reply = ws.recv()
        assert isinstance(reply, str) and reply.startswith("40{"), reply
        return ws, json.loads(reply[2:])["sid"]
    except BaseException:
        ws.close(None)
        raise


def polling_sid(port: int, version: int) -> str:
    """The sid of a new polling session (its open packet collected)."""
    reply = request(port, "GET", "EIO=%d&transport=polling" % version)
    assert reply.status == 200
    text = reply.body.decode()
    return json.loads(text[text.index("{"):])["sid"]


def assert_sid_gone(port: int, version: int, sid: str) -> None:
    """The server no longer knows session ``sid``."""
    reply = request(port, "GET", "EIO=%d&transport=polling&sid=%s" % (version, sid))
    assert reply.status == 400
    assert error_of(reply)["code"] == 1


def assert_closed_with(ws: WebSocketClient, code: int) -> None:
    """The server sends a close frame with ``code`` and ends the connection."""
    assert ws.recv_close() == code
    assert ws.at_eof()


def in_thread(fn: Any, *args: Any) -> Tuple[threading.Thread, Dict[str, Any]]:
    """Run ``fn(*args)`` in a thread; the dict gets "value" or "error"."""
    result: Dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised by joined()
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def joined(thread: threading.Thread, result: Dict[str, Any], timeout: float = 10.0) -> Any:
    """Wait for an ``in_thread`` call; its value, or its exception raised here."""
    thread.join(timeout)
    assert not thread.is_alive(), "the call did not finish"
    if "error" in result:
        raise result["error"]
    return result["value"]

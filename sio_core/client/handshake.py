"""The client side of the websocket opening handshake (RFC 6455, 4.1)."""
from __future__ import annotations

import base64
import os
from typing import Any, Dict, Optional

from ..transports.wsconn import WebSocket
from ..websocket import (
    DeflateOptions,
    PerMessageDeflate,
    WebSocketProtocolError,
    accept_key,
    accept_response,
    client_offer,
)
from . import net
from .errors import ConnectionError

__all__ = ["open_websocket"]

#: the largest message the client accepts from the server
MAX_MESSAGE = 100_000_000


def open_websocket(host: str, port: int, secure: bool, target: str, headers: Dict[str, str],
                   timeout: float, deflate: Optional[DeflateOptions] = None) -> WebSocket:
    """Connect, ask for the upgrade of ``target`` (path and query) and return the websocket.

    :param timeout: seconds for connecting and for the server's answer
    :param deflate: offer permessage-deflate with these options (used if the server
        accepts; ``WebSocket.deflate`` then says what was agreed)
    :raises ConnectionError: when the server does not switch protocols (``cause``
        ``"http"``, with the status and the start of the body)
    :raises OSError: when the connection fails
    """
    sock = net.create_connection((host, port), timeout=timeout)
    try:
        return _upgrade(sock, host, port, secure, target, headers, deflate)
    except BaseException:  # a reset or a timeout during the handshake: no socket left open
        sock.close()
        raise


def _upgrade(sock: Any, host: str, port: int, secure: bool, target: str,
             headers: Dict[str, str], deflate: Optional[DeflateOptions]) -> WebSocket:
    if secure:
        sock = net.ssl_context().wrap_socket(sock, server_hostname=host)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % target, "Host: %s:%d" % (host, port), "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    lines += ["%s: %s" % item for item in headers.items()]
    if deflate is not None:
        lines.append("Sec-WebSocket-Extensions: " + client_offer(deflate))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    rfile = _Reader(sock)  # not makefile(): closing the socket then frees the descriptor
    status = rfile.readline(65537).decode("latin-1")
    answer = {}
    while True:
        line = rfile.readline(65537).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    if " 101 " not in status or answer.get("sec-websocket-accept") != accept_key(key):
        code = status.split(" ", 2)[1:2]
        body = None
        length = answer.get("content-length", "")
        if length.isdigit():
            body = rfile.read(min(int(length), 200)).decode("utf-8", "replace")
        sock.close()
        raise ConnectionError("websocket handshake refused: %s%s" % (
            status.strip(), ": " + body if body else ""), "http",
            status=int(code[0]) if code and code[0].isdigit() else None, body=body)
    agreed = _agreed(answer.get("sec-websocket-extensions"), deflate)
    sock.settimeout(None)
    ws = WebSocket(rfile, sock, MAX_MESSAGE, client=True)
    if agreed is not None and deflate is not None:
        ws.enable_deflate(PerMessageDeflate(agreed, True, deflate.threshold, deflate.level,
                                            deflate.mem_level))
    return ws


def _agreed(answer: Optional[str], deflate: Optional[DeflateOptions]) -> Any:
    """What the server's Sec-WebSocket-Extensions answer agreed (None: no extension).

    :raises ConnectionError: when it accepts what was not offered, or is malformed
    """
    if deflate is None:
        if answer:
            raise ConnectionError("the server answered with extensions not offered: %r"
                                  % answer, "protocol")
        return None
    try:
        return accept_response(answer, deflate)
    except WebSocketProtocolError as exc:
        raise ConnectionError(str(exc), "protocol") from None


class _Reader:
    """Reads a socket through a buffer: the HTTP answer line by line, then the frames that
    follow it (``read1``, what ``WebSocket`` reads with)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buffer = b""

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self.buffer and len(self.buffer) < limit:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        line, self.buffer = self.buffer[:min(end, limit)], self.buffer[min(end, limit):]
        return line

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(size - len(self.buffer))
            if not chunk:
                break
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read1(self, size: int) -> bytes:
        if self.buffer:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
            return data
        return self.sock.recv(size)

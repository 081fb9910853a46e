"""The client side of the websocket opening handshake (RFC 6455, 4.1)."""
from __future__ import annotations

import base64
import os
from typing import Dict

from ..transports.wsconn import WebSocket
from ..websocket import accept_key
from . import net
from .errors import ConnectionError

__all__ = ["open_websocket"]

#: the largest message the client accepts from the server
MAX_MESSAGE = 100_000_000


def open_websocket(host: str, port: int, secure: bool, target: str, headers: Dict[str, str],
                   timeout: float) -> WebSocket:
    """Connect, ask for the upgrade of ``target`` (path and query) and return the websocket.

    :param timeout: seconds for connecting and for the server's answer
    :raises ConnectionError: when the server does not switch protocols (``cause``
        ``"http"``, with the status and the start of the body)
    :raises OSError: when the connection fails
    """
    sock = net.create_connection((host, port), timeout=timeout)
    if secure:
        sock = net.ssl_context().wrap_socket(sock, server_hostname=host)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % target, "Host: %s:%d" % (host, port), "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    lines += ["%s: %s" % item for item in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    rfile = sock.makefile("rb")
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
    sock.settimeout(None)
    return WebSocket(rfile, sock, MAX_MESSAGE, client=True)

"""Long-polling from the client side: HTTP requests and the payload framing per version."""
from __future__ import annotations

import http.client
import select
import socket as socketlib
from typing import Dict, List, Optional, Tuple

from ..engineio import Packet, payload_v3, payload_v4
from . import net
from .errors import ConnectionError

__all__ = ["decode_payload", "encode_payload", "http_connection", "request"]

#: the content type of a text payload
TEXT = "text/plain;charset=UTF-8"


def http_connection(host: str, port: int, secure: bool,
                    timeout: float) -> http.client.HTTPConnection:
    """A keep-alive HTTP(S) connection to the server (opened at its first request), on
    gevent's sockets (``net``)."""
    conn: http.client.HTTPConnection
    if secure:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=net.ssl_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn._create_connection = net.create_connection  # type: ignore[attr-defined]
    return conn


def _dropped(sock: socketlib.socket) -> bool:
    """Whether the server closed this idle keep-alive connection (it reads as ready: EOF)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def request(conn: http.client.HTTPConnection, method: str, target: str,
            headers: Dict[str, str], body: Optional[bytes] = None,
            ctype: Optional[str] = None, timeout: Optional[float] = None) -> bytes:
    """Send one request on ``conn`` and return the body of its 200 answer.

    :param target: the path and query
    :param timeout: a new timeout for the connection's socket
    :raises ConnectionError: for any other status (``cause`` ``"http"``)
    :raises OSError: when the connection fails
    """
    headers = dict(headers)
    if ctype:
        headers["Content-Type"] = ctype
    if conn.sock is not None and _dropped(conn.sock):
        conn.close()  # the server ended the idle keep-alive connection: open another
    if timeout is not None:
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        text = data[:200].decode("utf-8", "replace")
        raise ConnectionError("HTTP %d: %s" % (response.status, text), "http",
                              status=response.status, body=text)
    return data


def decode_payload(eio: int, body: bytes) -> List[Packet]:
    """The packets of a polling response in Engine.IO ``eio``'s framing."""
    if eio == 3:
        return payload_v3.decode_payload(body)
    return payload_v4.decode_payload(body.decode("utf-8"))


def encode_payload(eio: int, packets: List[Packet]) -> Tuple[bytes, str]:
    """``(body, content type)`` of a POST carrying ``packets`` in Engine.IO ``eio``'s framing."""
    if eio == 3:
        if any(p.binary for p in packets):
            return payload_v3.encode_binary_payload(packets), "application/octet-stream"
        return payload_v3.encode_payload(packets).encode("utf-8"), TEXT
    return payload_v4.encode_payload(packets).encode("utf-8"), TEXT

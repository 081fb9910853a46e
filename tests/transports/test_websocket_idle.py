"""An idle websocket holds no greenlet (issue 13): the event loop's watcher drives its reads.

The server runs in this process on gevent's hub, its clients on gevent sockets, so that
the test can count the greenlets the server holds; the frames are read and written raw.
"""
from __future__ import annotations

import gc
import json
import os
import struct
import subprocess
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import gevent
import pytest
from gevent import socket as gsocket
from gevent import ssl as gssl
from greenlet import greenlet

from sio_core import Server
from sio_core.serving import make_server

N = 20
TIMEOUT = 10.0
UPGRADE = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "\r\n").encode()


def masked(text: str, opcode: int = 0x1) -> bytes:
    payload = text.encode("latin-1" if opcode == 0x8 else "utf-8")
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + body


class Raw:
    """A websocket client on a gevent socket."""

    def __init__(self, port: int, first: bytes = b"", context: Any = None) -> None:
        self.sock = gsocket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if context is not None:
            self.sock = context.wrap_socket(self.sock)
        self.sock.sendall(UPGRADE + first)
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101 ")

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def frame(self) -> Tuple[int, bytes]:
        while len(self.buf) < 2 or len(self.buf) < 2 + (self.buf[1] & 0x7F):
            self._more()
        opcode, size = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        assert size < 126
        payload, self.buf = self.buf[2:2 + size], self.buf[2 + size:]
        return opcode, payload

    def text(self) -> str:
        opcode, payload = self.frame()
        assert opcode == 0x1
        return payload.decode()

    def send(self, text: str) -> None:
        self.sock.sendall(masked(text))

    def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        while True:
            try:
                self._more()
            except EOFError:
                return self.buf


@pytest.fixture
def served() -> Iterator[Tuple[Server, int]]:
    io = Server(ping_interval=25.0, ping_timeout=20.0)

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        @socket.on("echo")
        def echo(*args: Any) -> None:
            socket.emit("echo", *args)

    http = make_server(io, "127.0.0.1", 0)
    http.start()
    try:
        yield io, http.server_port
    finally:
        http.stop(timeout=1)


def _greenlets() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)


def _connected(port: int, first: bytes = b"", context: Any = None) -> Raw:
    client = Raw(port, first, context)
    assert client.text().startswith("0{")
    if not first:
        client.send("40")
    assert client.text().startswith("40{")
    return client


def test_idle_websockets_hold_no_greenlet(served: Tuple[Server, int]) -> None:
    io, port = served
    with gevent.Timeout(TIMEOUT):
        _connected(port).sock.close()  # the server's own greenlets exist from here on
        while io.engine.clients_count:
            gevent.sleep(0.01)
        before = _greenlets()
        clients: List[Raw] = [_connected(port) for _ in range(N)]
        gevent.sleep(0.1)  # the handshakes' requests end
        assert _greenlets() - before < N / 2  # it was 2 per connection
        for client in clients:  # and each is still served
            client.send('42["echo",1]')
        for client in clients:
            assert json.loads(client.text()[2:]) == ["echo", 1]
        for client in clients:
            client.sock.close()
        while io.engine.clients_count:
            gevent.sleep(0.01)


def test_frames_sent_with_the_handshake_are_read(served: Tuple[Server, int]) -> None:
    _, port = served
    with gevent.Timeout(TIMEOUT):
        client = _connected(port, masked("40") + masked('42["echo","early"]'))
        assert json.loads(client.text()[2:]) == ["echo", "early"]
        client.sock.close()


def test_a_close_from_the_server_ends_the_idle_connection(served: Tuple[Server, int]) -> None:
    io, port = served
    with gevent.Timeout(TIMEOUT):
        client = _connected(port)
        (conn,) = io.engine.sessions.values()
        conn.close()
        assert client.rest() == b"\x88\x02\x03\xe8"  # the close frame (1000), then the end
        client.sock.close()
        assert io.engine.clients_count == 0


def test_a_close_frame_from_the_client_is_answered(served: Tuple[Server, int]) -> None:
    io, port = served
    with gevent.Timeout(TIMEOUT):
        client = _connected(port)
        client.sock.sendall(masked("\x03\xe8", opcode=0x8))
        assert client.frame() == (0x8, b"\x03\xe8")
        assert client.rest() == b""
        client.sock.close()
        while io.engine.clients_count:
            gevent.sleep(0.01)


def test_a_tls_websocket_keeps_its_handler_and_works(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    io = Server()

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        @socket.on("echo")
        def echo(*args: Any) -> None:
            socket.emit("echo", *args)

    served = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(str(cert), str(key))
    http = make_server(io, "127.0.0.1", 0, ssl_context=served)
    http.start()
    context = gssl.SSLContext(gssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(cert))
    context.check_hostname = False
    try:
        with gevent.Timeout(TIMEOUT):
            client = _connected(http.server_port, context=context)
            client.send('42["echo","over tls"]')
            assert json.loads(client.text()[2:]) == ["echo", "over tls"]
            client.sock.close()
            while io.engine.clients_count:
                gevent.sleep(0.01)
    finally:
        http.stop(timeout=1)

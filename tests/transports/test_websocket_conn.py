"""``wsconn.WebSocket``, the socket side of the codec, over a real loopback TCP connection;
the frames it reads are laid out by hand, those it writes are read back by the codec."""
from __future__ import annotations

import socket
import struct
import warnings
from typing import Iterator, List, Tuple

import pytest

from sio_core.transports.wsconn import ConnectionClosed, WebSocket, WebSocketError
from sio_core.websocket import OP_CLOSE, OP_PING, OP_TEXT, Close, FrameDecoder, Pong
from tests.websocket.test_frames import raw

TIMEOUT = 5.0


class Ends:
    """Both ends of a loopback connection: ``ws`` over the server's, ``peer`` the client's."""

    def __init__(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.peer = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
        self.server_sock, _ = listener.accept()
        listener.close()
        self.server_sock.settimeout(TIMEOUT)
        self.rfile = self.server_sock.makefile("rb")
        self.ws = WebSocket(self.rfile, self.server_sock, 1000)

    def close_server_side(self) -> None:
        self.rfile.close()
        self.server_sock.close()


@pytest.fixture
def ends() -> Iterator[Ends]:
    ends = Ends()
    yield ends
    ends.peer.close()
    ends.close_server_side()


@pytest.fixture
def pair(ends: Ends) -> Tuple[WebSocket, socket.socket]:
    """Our server-side ``WebSocket`` and the raw client socket at the other end."""
    return ends.ws, ends.peer


def read_frames(peer: socket.socket, count: int) -> List[object]:
    """The next ``count`` frames the server wrote, decoded as a client would."""
    decoder = FrameDecoder(1 << 20, client=True)
    out: List[object] = []
    while len(out) < count:
        data = peer.recv(65536)
        assert data != b""
        decoder.feed(data)
        while len(out) < count:
            event = decoder.next_event()
            if event is None:
                break
            out.append(event)
    return out


def test_receive_messages_and_answer_pings(pair) -> None:
    ws, peer = pair
    peer.sendall(raw(OP_PING, b"are you there") + raw(OP_TEXT, "hé".encode()))
    assert ws.receive() == "hé"
    assert read_frames(peer, 1) == [Pong(b"are you there")]


def test_send_and_close_once(pair) -> None:
    ws, peer = pair
    ws.send(["text", b"\x00"])
    ws.close(1008)
    ws.close(1000)  # a second close sends nothing
    assert read_frames(peer, 3) == ["text", b"\x00", Close(1008, "")]
    ws.shutdown()
    assert peer.recv(10) == b""  # nothing after the first close frame


def test_a_local_close_code_sends_no_frame(pair) -> None:
    ws, peer = pair
    ws.close(1006)
    ws.shutdown()
    assert peer.recv(10) == b""


def test_close_frame_received(pair) -> None:
    ws, peer = pair
    peer.sendall(raw(OP_CLOSE, struct.pack("!H", 1001)))
    assert ws.receive() is None


def test_peer_gone_between_frames(pair) -> None:
    ws, peer = pair
    peer.sendall(raw(OP_TEXT, b"last"))
    peer.shutdown(socket.SHUT_WR)
    assert ws.receive() == "last"
    with pytest.raises(ConnectionClosed):
        ws.receive()


def test_peer_gone_mid_frame(pair) -> None:
    ws, peer = pair
    peer.sendall(raw(OP_TEXT, b"cut short")[:5])
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(WebSocketError) as info:
        ws.receive()
    assert type(info.value) is WebSocketError
    assert info.value.code == 1006


def test_protocol_error_carries_its_code(pair) -> None:
    ws, peer = pair
    peer.sendall(raw(OP_TEXT, b"x" * 1001))
    with pytest.raises(WebSocketError) as info:
        ws.receive()
    assert info.value.code == 1009


def test_abort_resets_the_connection(ends) -> None:
    ends.peer.sendall(b"unread by the server")
    ends.ws.abort()
    ends.close_server_side()  # the final close: a reset, whatever is left unread
    assert ends.peer.recv(10) == b""  # the shutdown's FIN came first
    # after a plain close the first send would still be taken; after the reset, none is
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        ends.peer.sendall(b"after the reset")


def test_shutdown_ends_a_blocked_receive_with_eof(ends) -> None:
    ends.ws.shutdown()
    with pytest.raises(ConnectionClosed):
        ends.ws.receive()
    assert ends.peer.recv(10) == b""


def test_client_masks_and_reads_unmasked(pair) -> None:
    ws, peer = pair
    client = WebSocket(peer.makefile("rb"), peer, 1000, client=True)
    client.send(["from the client"])
    assert ws.receive() == "from the client"  # the server side refuses unmasked frames
    ws.send(["from the server"])
    assert client.receive() == "from the server"


def test_old_names_are_deprecated_aliases() -> None:
    from sio_core.transports import websocket

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert websocket.WebSocket is WebSocket
        assert websocket.WebSocketError is WebSocketError
        assert websocket.socket_of == WebSocket.from_environ
    assert [w.category for w in caught] == [DeprecationWarning] * 3
    with pytest.raises(AttributeError):
        websocket.no_such_name  # noqa: B018


def test_pong_of_a_client_is_masked(ends) -> None:
    client = WebSocket(ends.peer.makefile("rb"), ends.peer, 1000, client=True)
    ends.server_sock.sendall(raw(OP_PING, b"p", mask=None) + raw(OP_TEXT, b"then", mask=None))
    assert client.receive() == "then"
    client.send(["x"])
    # the pong came first and passed the server side's check that frames are masked
    assert ends.ws.receive() == "x"

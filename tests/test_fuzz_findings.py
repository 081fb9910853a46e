"""What the hostile-client fuzzer found, each pinned by a focused test.

``test_malformed_request_then_reset_logs_no_traceback``: pywsgi's own 400 for a malformed
request met a client that had reset, and the BrokenPipeError reached the log as a traceback
(fixed in ``sio_core/serving.py``).
"""
from __future__ import annotations

import socket
import struct
from typing import Iterator

import pytest

from tests.helpers import ROOT, ServerProcess


@pytest.fixture
def conformance() -> Iterator[ServerProcess]:
    server = ServerProcess(ROOT / "examples" / "conformance_app.py")
    yield server
    server.stop()


def reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a client that vanishes does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_malformed_request_then_reset_logs_no_traceback(conformance) -> None:
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", conformance.port), timeout=5)
        sock.sendall(b"\x16\x03garbage\r\n\r\n")  # not HTTP: answered 400 by pywsgi
        reset(sock)
    # the server is still serving, and then we read its log
    probe = socket.create_connection(("127.0.0.1", conformance.port), timeout=5)
    probe.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
    assert probe.recv(12) == b"HTTP/1.1 200"
    probe.close()
    log = conformance.stop()
    assert "Traceback" not in log, log[:3000]

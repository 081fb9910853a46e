"""sio_core.client when a connection is closed as soon as it is made.

Found by the soak test (``bench/soak.py``): under load, some clients whose connection
dropped right after a (re)connection never tried again, and ``connect()`` returned as if
connected.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

SCRIPT = Path(__file__).parent / "drop_at_connect.py"


def run(transport: str, eio: int, mode: str) -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), transport, str(eio), mode],
                          cwd=str(ROOT), capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("eio", [3, 4])
def test_a_reconnection_closed_at_once_is_retried(transport: str, eio: int) -> None:
    assert run(transport, eio, "reconnect") == {
        "server_connections": 3, "client_connects": 3, "connected": True,
        "reasons": ["transport close", "transport close"], "answer": "still here"}


@pytest.mark.parametrize("eio", [3, 4])
def test_a_connection_closed_at_once_fails_connect(eio: int) -> None:
    """Over websocket the CONNECT reply and the close arrive together (over polling the
    close comes in a later response, after connect() has returned)."""
    assert run("websocket", eio, "connect") == {
        "first": "ConnectionError: the connection closed before it was established",
        "connected": True, "server_connections": 2, "answer": "still here"}


@pytest.mark.parametrize("eio", [3, 4])
def test_a_close_in_the_handshake_fails_connect(eio: int) -> None:
    assert run("polling", eio, "handshake") == {
        "outcome": "ConnectionError: the connection closed before it was established"}

"""sio_core.client keeps reconnecting when a reconnection is closed as soon as it is made.

Found by the soak test (``bench/soak.py``): under load, some clients whose connection
dropped right after a successful reconnection never tried again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = Path(__file__).parent / "drop_at_connect.py"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("eio", [3, 4])
def test_a_reconnection_closed_at_once_is_retried(transport: str, eio: int) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), transport, str(eio)], cwd=str(ROOT),
                          capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert result == {"server_connections": 3, "client_connects": 3, "connected": True,
                      "reasons": ["transport close", "transport close"],
                      "answer": "still here"}

"""The soak test with churn (``bench/soak.py``) at the size of the test suite.

200 clients of our Python client in one gevent process (both protocol generations, over
websocket, polling and polling upgraded) exchange acked events and join, leave and
message rooms for 30 s, while they drop at random (clean disconnect, TCP reset, silence
until the server's 1 s + 1 s ping timeout) and reconnect. ``bench/soak.py`` runs the same
for longer with more clients.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT

SOAK = ROOT / "bench" / "soak.py"


def run_soak(*args: str, timeout: float = 300.0) -> dict:
    """``bench/soak.py --json`` with ``args``; its figures."""
    proc = subprocess.run([sys.executable, str(SOAK), "--json", *args], cwd=str(ROOT),
                          capture_output=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = proc.stdout.decode().strip().splitlines()
    assert lines, "no figures; stderr:\n" + proc.stderr.decode()[-5000:]
    figures = json.loads(lines[-1])
    figures["client_stderr"] = proc.stderr.decode()
    return figures


def test_soak_with_churn_loses_nothing_and_leaves_nothing_behind() -> None:
    figures = run_soak("--clients", "200", "--duration", "30", "--warm-up", "8")
    summary = json.dumps(figures, indent=1)
    # the run did what it says: traffic, rooms and every kind of drop, on both sides
    assert figures["churn_seconds"] >= 30
    assert figures["sent"] > 2000, summary
    assert figures["acked"] > 2000, summary
    assert figures["room_ops"] > 200 and figures["room_received"] > 200, summary
    for how in ("clean", "reset", "silence"):
        assert figures["drop_" + how] > 5, summary
    assert figures["reconnects"] > 50, summary
    reasons = figures["server_reasons"]
    assert reasons.get("ping timeout", 0) > 0, summary  # the silent ones
    assert reasons.get("client namespace disconnect", 0) > 0, summary  # the clean ones
    assert reasons.get("transport close", 0) > 0, summary  # resets and abandoned polling
    # nothing acknowledged lost or duplicated, order kept
    assert figures["lost"] == 0, summary
    assert figures["server_extra"] == 0, summary
    assert figures["server_out_of_order"] == 0, summary
    assert figures["errors"] == [], summary
    assert figures["stuck_workers"] == 0, summary
    assert figures.get("reconnection_stalled", 0) == 0, summary  # see test_drop_at_connect
    # nothing left behind, memory back near its start, no traceback
    assert figures["warm_up_sessions_left"] == 0, summary
    for key in ("sessions_left", "sockets_left", "rooms_left", "room_members_left"):
        assert figures[key] == 0, summary
    assert figures["fds_end"] == figures["fds_start"], summary
    assert figures["objects_end"] <= figures["objects_start"] + 200, summary
    assert figures["rss_end_kb"] <= figures["rss_start_kb"] * 1.10, summary
    assert figures["server_log_problems"] == 0, summary
    assert "Traceback" not in figures["client_stderr"], figures["client_stderr"][-5000:]
    assert figures["broken"] == [], summary  # bench/soak.py's failures(): all of the above and more

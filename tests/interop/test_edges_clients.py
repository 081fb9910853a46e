"""socket.io-client 2 (EIO 3) and 4 (EIO 4) against examples/conformance_app.py: the
``disconnect-reason-of`` and ``last-error`` events, and a long-polling client the server
drops. tests/interop/edges_scenario.js runs the scenarios.

A long-polling client dropped on a ping timeout gets the close packet on its pending GET,
as from the reference server, so it reports ``transport close``; before, it got a noop and
then ``400 Session ID unknown`` on its next GET, and reported ``transport error``.
"""
from __future__ import annotations

import json
import subprocess
from typing import Iterator

import pytest

from tests.helpers import INTEROP, ServerProcess, node_result, require_node
from tests.test_client import NodeServer

pytestmark = pytest.mark.interop

SCRIPT = "edges_scenario.js"
CLIENTS = [pytest.param(2, id="sio2"), pytest.param(4, id="sio4")]


def run_node(config: dict, timeout: float = 30.0) -> dict:
    """Run edges_scenario.js with ``config``; the result of its one scenario."""
    require_node()
    proc = subprocess.run(["node", str(INTEROP / SCRIPT), "-"], input=json.dumps(config).encode(),
                          cwd=str(INTEROP), capture_output=True, timeout=timeout)
    report = node_result(SCRIPT, proc.returncode, proc.stdout, proc.stderr)
    assert "error" not in report, report
    return report["result"]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """Short heartbeats (0.5 s + 0.5 s), so that a ping timeout comes quickly."""
    proc = ServerProcess("conformance_app.py", "--ping-interval", "0.5", "--ping-timeout", "0.5")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def reference() -> Iterator[NodeServer]:
    """The Node reference server with the same contract, for the events both must answer."""
    proc = NodeServer(ping=(0.5, 0.5))
    yield proc
    proc.stop()


BOTH = [pytest.param("server", id="ours"), pytest.param("reference", id="node")]


@pytest.mark.parametrize("which", BOTH)
@pytest.mark.parametrize("client", CLIENTS)
def test_disconnect_reason_of(request, which: str, client: int) -> None:
    server = request.getfixturevalue(which)
    r = run_node({"url": server.url, "client": client, "transports": ["polling", "websocket"],
                  "scenario": "reason-of", "timeout_ms": 20_000})
    assert r == {"before": [None], "unknown": [None], "b": "client namespace disconnect",
                 "c": "transport close", "a_still": [None]}


@pytest.mark.parametrize("which", BOTH)
@pytest.mark.parametrize("client", CLIENTS)
def test_last_error_is_the_middlewares_refusal_of_this_socket(request, which: str,
                                                              client: int) -> None:
    server = request.getfixturevalue(which)
    r = run_node({"url": server.url, "client": client, "transports": ["polling", "websocket"],
                  "scenario": "last-error", "timeout_ms": 20_000})
    assert r == {"before": [None], "after": ["forbidden event"], "other_socket": [None],
                 "still_usable": ["alive"]}


@pytest.mark.parametrize("client", CLIENTS)
def test_polling_client_dropped_on_ping_timeout_reports_transport_close(server,
                                                                         client: int) -> None:
    r = run_node({"url": server.url, "client": client, "scenario": "dropped",
                  "how": "ping-timeout", "step_timeout_ms": 10_000, "timeout_ms": 20_000})
    assert r == {"engine_close": ["transport close"], "socket_reason": "transport close",
                 "server_reason": "ping timeout"}


@pytest.mark.parametrize("client", CLIENTS)
def test_polling_client_disconnected_by_the_server(server, client: int) -> None:
    r = run_node({"url": server.url, "client": client, "scenario": "dropped",
                  "how": "disconnect-me", "timeout_ms": 20_000})
    assert r == {"engine_close": ["forced close"], "socket_reason": "io server disconnect",
                 "server_reason": "server namespace disconnect"}

"""sio_core.client in programs that do not monkey-patch (issue 15, item 1): the client runs
its own hub thread, its blocking calls work from any thread, connect() names why it failed,
and SimpleClient serves scripts. The client runs in a subprocess (tests/clientside/
unpatched.py), against our server and the reference Node server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sio_core import runtime
from tests.helpers import ROOT, ServerProcess
from tests.test_client import start

SCRIPT = Path(__file__).parent / "clientside" / "unpatched.py"
SLOW_SERVER = Path(__file__).parent / "clientside" / "slow_server.py"
#: pingInterval and pingTimeout of the servers: a client whose hub stopped with the main
#: thread would be dropped within a second
PING = (0.5, 0.5)
#: how long the main thread blocks, well past PING's deadline
BLOCK = 2.5

pytestmark = pytest.mark.interop


def test_a_hub_thread_runs_calls_in_its_greenlets_and_ends() -> None:
    thread = runtime.HubThread("test-hub")
    assert thread.call(lambda a, b: a + b, 1, 2) == 3
    assert thread.call(thread.owns_current) is True and not thread.owns_current()
    assert thread.call(lambda: runtime.getcurrent() is not thread.hub) is True  # a greenlet
    with pytest.raises(KeyError, match="nope"):
        thread.call({}.__getitem__, "nope")
    assert thread.stop(timeout=5) is True
    with pytest.raises(RuntimeError, match="stopped"):
        thread.call(int)


@pytest.fixture(scope="module", params=["ours", "reference"])
def server(request):
    srv = start(request.param, ping=PING)
    yield srv
    srv.stop()


def run(config: dict, timeout: float = 60) -> dict:
    """The one JSON line the script prints for ``config``."""
    proc = subprocess.run([sys.executable, str(SCRIPT), json.dumps(config)], cwd=str(ROOT),
                          capture_output=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    [line] = proc.stdout.decode().splitlines()
    return json.loads(line)


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]], ids="+".join)
def test_an_unpatched_program_gets_a_hub_thread(server, eio, transports) -> None:
    result = run({"scenario": "threads", "url": server.url, "eio": eio,
                  "transports": transports, "block": BLOCK})
    assert result == {
        "patched": False, "connected": True, "welcome_is_mine": True,
        "connected_after_block": True,  # the heartbeat went on while the main thread slept
        "workers_done": True, "answers_right": True,  # call() from four threads at once
        "echo": ["from main", 1], "transport": transports[-1],
        "wait_from_thread": [True], "connected_at_end": False,
        "handler_threads": ["sio-client"], "hub_threads_end": True}


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_a_patched_program_runs_the_same_scenario_in_its_hub(kind) -> None:
    srv = start(kind, ping=PING)
    try:
        result = run({"scenario": "threads", "url": srv.url, "eio": 4,
                      "transports": ["polling", "websocket"], "block": BLOCK,
                      "patched": True})
    finally:
        srv.stop()
    assert result == {
        "patched": True, "connected": True, "welcome_is_mine": True,
        "connected_after_block": True, "workers_done": True, "answers_right": True,
        "echo": ["from main", 1], "transport": "websocket", "wait_from_thread": [True],
        "connected_at_end": False}


@pytest.fixture
def slow_server():
    srv = ServerProcess(SLOW_SERVER)
    yield srv
    srv.stop()


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("patched", [False, True], ids=["unpatched", "patched"])
def test_connect_raises_a_connection_error_naming_the_cause(server, slow_server, eio,
                                                             patched) -> None:
    result = run({"scenario": "errors", "url": server.url, "eio": eio, "patched": patched,
                  "transports": ["websocket"], "slow_url": slow_server.url})
    assert result.pop("hub_threads_end", True) is True
    for case in result.values():
        assert case["connected"] is False  # never returns unconnected
    refused, silent = result["refused"], result["silent"]
    assert refused["cause"] == "refused"
    assert "Connection refused" in refused["message"]
    assert silent["cause"] == "timeout"
    assert silent["message"].endswith(": timed out")
    assert 0.5 <= silent["seconds"] < 3  # request_timeout=0.5
    namespace = result["namespace"]
    assert (namespace["cause"], namespace["namespace"]) == ("namespace", "/chat")
    assert namespace["message"].endswith(" refused: not authorized")
    assert namespace["data"] == ("not authorized" if eio == 3
                                 else {"message": "not authorized"})
    assert (result["http"]["cause"], result["http"]["status"]) == ("http", 404)
    assert "HTTP 404" in result["http"]["message"]
    slow = result["slow"]
    assert (slow["cause"], slow["namespace"]) == ("timeout", "/slow")
    assert slow["message"].startswith("no answer from namespace /slow of " + slow_server.url)
    assert slow["message"].endswith("within 0.5s (wait_timeout)")
    assert 0.5 <= slow["seconds"] < 2.5


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids="+".join)
@pytest.mark.parametrize("patched", [False, True], ids=["unpatched", "patched"])
def test_simple_client(server, eio, transports, patched) -> None:
    result = run({"scenario": "simple", "url": server.url, "eio": eio,
                  "transports": transports, "patched": patched})
    assert 0.3 <= result.pop("quiet_seconds") < 2
    assert result == {
        "welcome_is_mine": True, "transport": transports[-1],
        "echoes": [["echo", "a", 1], ["echo", "b"]], "call": "x", "quiet": "TimeoutError",
        "kicked": "Disconnected", "kicked_again": "Disconnected", "connected": False}


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_simple_client_receive_ends_when_reconnection_gives_up(kind: str) -> None:
    """The server dies; after two failed attempts a receive() with no timeout raises."""
    srv = start(kind, ping=PING)
    try:
        result = run({"scenario": "gives_up", "url": srv.url, "eio": 4,
                      "transports": ["websocket"], "server_pid": srv.proc.pid})
    finally:
        srv.stop()
    assert result["receive"] == "Disconnected"
    assert result["seconds"] < 10


def test_a_program_may_exit_with_its_client_connected(server) -> None:
    """The hub thread is a daemon; at exit the client disconnects first (a hub thread
    still running while the interpreter finalizes could crash it)."""
    result = run({"scenario": "exit_connected", "url": server.url, "eio": 4,
                  "transports": ["polling", "websocket"]})
    assert result == {"connected": True}

"""sio_core.client against our server and the reference Node server socket.io@4."""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sio_core.client import SocketIOClient
from tests.helpers import INTEROP, NODE_MODULES, ROOT, ServerProcess, free_port, wait_for_port
from tests.jsonlines import JsonLines

DRIVER = Path(__file__).parent / "clientside" / "driver.py"
TRANSPORTS = [["websocket"], ["polling"], ["polling", "websocket"]]

pytestmark = pytest.mark.interop


class NodeServer:
    """The reference socket.io@4 server running the conformance contract.

    :param ping: (pingInterval, pingTimeout) in seconds, for heartbeat tests
    """

    def __init__(self, port: int | None = None, ping: tuple = (2.0, 2.0)) -> None:
        if not (NODE_MODULES / "socket.io").is_dir():
            pytest.fail("socket.io is missing: run `npm ci --prefix tests/interop`")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["node", str(INTEROP / "reference_server.js"),
                                      str(self.port), *(str(int(s * 1000)) for s in ping)],
                                     cwd=str(INTEROP),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def start(kind: str, port: int | None = None, ping: tuple = (2.0, 2.0)):
    """The conformance server ``kind`` (ours or reference) with heartbeat ``ping``."""
    if kind == "ours":
        return ServerProcess("conformance_app.py", "--ping-interval", str(ping[0]),
                             "--ping-timeout", str(ping[1]), port=port)
    return NodeServer(port, ping)


@pytest.fixture(params=["ours", "reference"])
def server(request):
    srv = start(request.param)
    yield srv
    srv.stop()


def drive(config: dict, timeout: float = 60) -> list:
    proc = subprocess.run([sys.executable, str(DRIVER), json.dumps(config)], cwd=str(ROOT),
                          capture_output=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
def test_exchange(server, eio, transports) -> None:
    [result] = drive({"scenario": "exchange", "url": server.url, "eio": eio,
                      "transports": transports})
    assert result["welcome_matches"] is True
    assert result["ack"] == ["x", {"bin": {"b64": "AP8="}}, ["ü😀"]]
    assert result["answer"] == 42
    assert result["echo"] == [{"b64": "AQI="}, {"n": [{"b64": "Aw=="}]}]
    assert result["chat_echo"] == ["in chat"]
    assert result["listed"] is True
    assert result["ordered"] is True
    assert result["transport"] == transports[-1]
    if eio == 3:
        assert result["chat_sid"].startswith("/chat#")
    assert result["after_kick"] == "Disconnected"
    assert result["stopped"] is True


@pytest.mark.parametrize("eio", [3, 4])
def test_refused_namespace_raises(server, eio) -> None:
    [result] = drive({"scenario": "refused", "url": server.url, "eio": eio,
                      "transports": ["websocket"]})
    assert "not authorized" in result["error"]


def test_ack_timeout_and_one_shot_helper(server) -> None:
    first, second = drive({"scenario": "timeout", "url": server.url, "eio": 4,
                           "transports": ["polling", "websocket"]})
    assert first == {"error": "AckTimeout"}
    assert second == {"once": ["a", 1]}


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("eio,transports", [(4, ["websocket"]), (3, ["polling", "websocket"]),
                                            (4, ["polling"])])
def test_reconnects_after_server_restart(kind, eio, transports) -> None:
    srv = start(kind)
    proc = subprocess.Popen([sys.executable, str(DRIVER), json.dumps({
        "scenario": "reconnect", "url": srv.url, "eio": eio, "transports": transports})],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True
        srv.stop()
        srv = start(kind, port=srv.port)
        out, err = proc.communicate(timeout=40)
        assert proc.returncode == 0, err.decode()
        result = json.loads(out.decode().splitlines()[-1])
    finally:
        srv.stop()
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert result["answer"] == "again"
    assert result["different"] is True
    assert result["reasons"][0] in ("transport close", "transport error")


@pytest.mark.parametrize("eio", [3, 4])
def test_upgrade_waits_for_the_post_in_flight(eio) -> None:
    [result] = drive({"scenario": "upgrade_behind_post", "eio": eio})
    assert result == {"answers": [0, 1, 2], "transport": "websocket", "reasons": []}


# -- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_from_the_first_delay_up_to_the_maximum_without_jitter() -> None:
    client = SocketIOClient(reconnection_delay=0.5, reconnection_delay_max=5.0,
                            randomization_factor=0)
    assert [client.backoff(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_backoff_jitter_stays_within_the_randomization_factor() -> None:
    client = SocketIOClient(reconnection_delay=1.0, reconnection_delay_max=6.0,
                            randomization_factor=0.5)
    random.seed(1234)
    for attempt, base in enumerate([1.0, 2.0, 4.0]):
        delays = [client.backoff(attempt) for _ in range(500)]
        assert base * 0.5 <= min(delays) < base * 0.6
        assert base * 1.4 < max(delays) <= min(base * 1.5, 6.0)
    capped = [client.backoff(3) for _ in range(500)]  # 8 s ± 4 s, then capped at 6 s
    assert 4.0 <= min(capped) < 4.5 and max(capped) == 6.0


# -- options, handlers and emits against both servers -----------------------------------------


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids="+".join)
def test_handlers_emits_and_options(server, eio, transports) -> None:
    [result] = drive({"scenario": "api", "url": server.url, "eio": eio,
                      "transports": transports})
    assert result == {
        "connected_before": False, "connected_after": True, "welcome_is_mine": True,
        # json=: sets sent as sorted lists, floats parsed as tagged strings
        "callback": ["a", "float:2.5", [1, 2, 3]],
        "message": "echo:hi",
        "caught": ["echo", "x", 1], "caught_more": 0,  # "*" took neither welcome nor message
        "connected_at_end": False, "wrong_path": "ConnectionError"}


@pytest.mark.parametrize("eio", [3, 4])
@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]],
                         ids="+".join)
def test_connect_headers_path_and_wait_timeout(eio, transports) -> None:
    [result] = drive({"scenario": "local_server", "eio": eio, "transports": transports})
    assert result["header"] == "yes"
    assert re.fullmatch(r"no answer from namespace /slow of http://127\.0\.0\.1:\d+ within "
                        r"0\.5s \(wait_timeout\)", result["slow"])
    assert 0.5 <= result["slow_seconds"] < 2.0


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("logger", [True, False])
def test_reconnection_attempts_then_giving_up(kind, logger) -> None:
    srv = start(kind)
    driver = JsonLines(DRIVER, {"scenario": "give_up", "url": srv.url, "eio": 4,
                                "transports": ["websocket"], "logger": logger})
    try:
        assert driver.line() == {"ready": True}
        srv.stop()
        result = driver.line(timeout=30)
    finally:
        srv.stop()
        driver.stop()
    retries = [m for m in result.pop("log") if m.startswith(("reconnection", "giving up"))]
    assert result == {"stopped": True, "disconnects": 1, "connected": False}
    if logger:  # INFO records too
        assert retries == ["reconnection attempt 1 failed", "reconnection attempt 2 failed",
                           "giving up after 2 reconnection attempts"]
    else:
        assert retries == ["giving up after 2 reconnection attempts"]


# -- heartbeats over time, restarts, stalled servers --------------------------------------------

PING = (0.6, 0.8)  # pingInterval, pingTimeout (seconds) for the heartbeat tests


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("eio,transports", [(4, ["websocket"]), (4, ["polling"]),
                                            (3, ["polling", "websocket"]), (3, ["polling"])])
def test_idle_past_the_heartbeat_then_both_namespaces_survive_a_restart(kind, eio,
                                                                         transports) -> None:
    srv = start(kind, ping=PING)
    driver = JsonLines(DRIVER, {"scenario": "idle_then_restart", "url": srv.url, "eio": eio,
                                "transports": transports, "idle": 2 * sum(PING)})
    try:
        ready = driver.line(timeout=20)
        srv.stop()
        srv = start(kind, port=srv.port, ping=PING)
        after = driver.line(timeout=40)["after"]
        assert driver.finish() == 0
    finally:
        srv.stop()
        driver.stop()
    assert ready["idle"] == {"connects": ["/", "/chat"], "disconnects": [], "connected": True,
                             "same_sids": True, "echo": ["root", "chat"]}
    assert after == {"connects": ["/", "/chat"], "disconnects": ["/", "/chat"],
                     "new_sids": True, "echo": ["root", "chat"]}


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("eio,transports", [(4, ["websocket"]), (4, ["polling"]),
                                            (3, ["websocket"]), (3, ["polling"])])
def test_a_stalled_server_is_noticed_within_ping_interval_plus_timeout(kind, eio,
                                                                       transports) -> None:
    srv = start(kind, ping=PING)
    driver = JsonLines(DRIVER, {"scenario": "stalled_server", "url": srv.url, "eio": eio,
                                "transports": transports})
    stopped = False
    try:
        assert driver.line() == {"ready": True}
        os.kill(srv.proc.pid, signal.SIGSTOP)
        stopped, since = True, time.monotonic()
        lost = driver.line(timeout=10)
        retrying = driver.line(timeout=15)
        os.kill(srv.proc.pid, signal.SIGCONT)
        stopped = False
        end = driver.line(timeout=40)
        assert driver.finish() == 0
    finally:
        if stopped:
            os.kill(srv.proc.pid, signal.SIGCONT)
        srv.stop()
        driver.stop()
    assert lost["reason"] == "ping timeout"
    # the last sign of life came at most pingInterval before the stop (0.3 s: scheduling)
    assert PING[1] - 0.1 <= lost["at"] - since <= sum(PING) + 0.3
    assert retrying == {"retrying": True}
    assert end == {"reconnected": True, "answer": "back"}

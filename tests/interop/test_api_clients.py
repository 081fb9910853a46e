"""The server API seen by socket.io-client 2 and 4, over the three transport modes.

tests/interop/api_app.py serves what the conformance app does not: volatile, compress,
local and except_ broadcasts, dynamic namespaces, ``Namespace.clients()``, the handshake
and request, ``disconnecting`` and ``error``, ``call()`` ending early or timing out, ack
timeouts, broadcast acks, and every server-side disconnect reason. api_scenario.js runs
the scenarios; the six (client, transports) runs start together against one server, and
each test asserts on its part of a report.
"""
from __future__ import annotations

import calendar
import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from tests.helpers import INTEROP, ServerProcess, node_result, require_node
from tests.transports.wsclient import OP_CLOSE, ConnectionEnded, WebSocketClient, sio_connect

pytestmark = pytest.mark.interop

API_APP = Path(__file__).resolve().parent / "api_app.py"
SCRIPT = "api_scenario.js"
TRANSPORTS = (("websocket",), ("polling",), ("polling", "websocket"))
Combo = Tuple[int, Tuple[str, ...]]
ALL_COMBOS: List[Combo] = [(client, transports) for client in (2, 4)
                           for transports in TRANSPORTS]
COMBOS = [pytest.param(client, transports, id=f"sio{client}-{'+'.join(transports)}")
          for client, transports in ALL_COMBOS]
SCENARIOS = ["api-volatile", "api-compress", "api-local", "api-except", "api-dynamic",
             "api-clients", "api-handshake", "api-disconnecting", "api-call", "api-ask",
             "api-ack-timeout", "api-broadcast-ack", "api-reasons"]
#: seconds a whole node run may take
RUN_TIMEOUT = 60.0
#: api_app.py's connect timeout here, in seconds
CONNECT_TIMEOUT = 1.0


def start_node(url: str, client: int, transports: Tuple[str, ...],
               scenarios: List[str]) -> subprocess.Popen:
    """Start api_scenario.js on ``scenarios`` (the config is small: it goes in argv)."""
    require_node()
    config = {"url": url, "client": client, "transports": list(transports),
              "scenarios": scenarios, "tag": uuid.uuid4().hex[:8],
              "timeout_ms": int(RUN_TIMEOUT * 1000) - 5000}
    return subprocess.Popen(["node", str(INTEROP / SCRIPT), json.dumps(config)],
                            cwd=str(INTEROP), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def report_of(proc: subprocess.Popen) -> Dict[str, Any]:
    """The JSON report of a node run (its last stdout line), or an AssertionError."""
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
    return node_result(SCRIPT, proc.returncode, out, err)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess(API_APP, "--connect-timeout", str(CONNECT_TIMEOUT))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def reports(server: ServerProcess) -> Callable[[int, Tuple[str, ...]], Dict[str, Any]]:
    """The report of one (client, transports) run; all six runs start on first use."""
    procs: Dict[Combo, Any] = {}

    def get(client: int, transports: Tuple[str, ...]) -> Dict[str, Any]:
        if not procs:
            for combo in ALL_COMBOS:
                procs[combo] = start_node(server.url, *combo, SCENARIOS)
        combo = (client, transports)
        if isinstance(procs[combo], subprocess.Popen):
            try:
                procs[combo] = report_of(procs[combo])
            except AssertionError as exc:  # every test of the run reports it
                procs[combo] = exc
        if isinstance(procs[combo], AssertionError):
            raise procs[combo]
        return procs[combo]

    yield get
    for proc in procs.values():
        if isinstance(proc, subprocess.Popen) and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def scenario(reports: Callable[..., Dict[str, Any]], client: int,
             transports: Tuple[str, ...], name: str) -> Any:
    report = reports(client, transports)
    error = report["errors"].get(name)
    assert error is None, f"scenario {name} failed in node:\n{error}"
    return report["results"][name]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_volatile_is_delivered_when_writable(reports, client, transports):
    r = scenario(reports, client, transports, "api-volatile")
    assert r["events"] == [["vol", "socket", True], ["vol", "room"], ["vol-done"]]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_compress_false_and_true_deliver(reports, client, transports):
    r = scenario(reports, client, transports, "api-compress")
    assert r == {"a": [["socket"], ["room"], ["room-true"]], "b": [["room"], ["room-true"]]}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_local_broadcasts(reports, client, transports):
    r = scenario(reports, client, transports, "api-local")
    a_id = r["ids"][0]
    assert r["a"] == [["io.local", a_id]]  # socket.local leaves the sender out
    assert r["b"] == [["socket.local", a_id], ["io.local", a_id]]
    assert r["c"] == []  # not in the room


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_except_excludes_rooms(reports, client, transports):
    r = scenario(reports, client, transports, "api-except")
    ex = r["ex"]
    assert r["a"] == [["io", ex]]
    assert r["b"] == [["io", ex], ["socket", ex], ["list", ex]]
    assert r["c"] == []  # in the excluded room


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_dynamic_namespaces(reports, client, transports):
    r = scenario(reports, client, transports, "api-dynamic")
    names, out = r["names"], r["out"]
    for key in ("regex", "fn", "next"):
        assert out[key] == {"welcome": [names[key], True], "echo": [key]}
    refusal = ["error", "Invalid namespace"] if client == 2 else \
        ["connect_error", "Invalid namespace", None]
    for key in ("fn_refused", "next_refused", "unknown"):
        assert out[key] == {"errors": [refusal], "connected": False}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_namespace_clients(reports, client, transports):
    r = scenario(reports, client, transports, "api-clients")
    a_id, b_id = r["ids"]
    both = sorted([a_id, b_id])
    if client == 2:
        assert a_id.startswith(r["nsp"] + "#")
    assert r["answer"] == {"name": r["nsp"], "plain": both, "callback": [[None, both]],
                           "room": [a_id]}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_handshake_and_request(reports, client, transports):
    r = scenario(reports, client, transports, "api-handshake")
    hs = r["hs"]
    eio = "3" if client == 2 else "4"
    assert hs["query"]["q"] == "1"
    assert (hs["query"]["EIO"], hs["query"]["transport"]) == (eio, transports[0])
    assert hs["auth"] == ({} if client == 2 else {"token": "t0k"})
    assert hs["address"] == "127.0.0.1"
    assert hs["url"].startswith("/socket.io/?q=1&EIO=%s&transport=%s" % (eio, transports[0]))
    assert hs["header"] == "yes"
    assert hs["host"] == "127.0.0.1:%d" % r["port"]
    assert (hs["xdomain"], hs["secure"], hs["item"]) == (False, False, True)
    assert r["before"] - 1000 <= hs["issued"] <= r["after"] + 1000
    stamped = calendar.timegm(time.strptime(hs["time"], "%a %b %d %Y %H:%M:%S GMT"))
    assert abs(stamped - hs["issued"] / 1000) <= 2
    assert hs["request"] == {"path": "/socket.io/", "method": "GET", "q": "1",
                             "remote_addr": "127.0.0.1", "header": "yes"}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_error_and_disconnecting_with_rooms(reports, client, transports):
    r = scenario(reports, client, transports, "api-disconnecting")
    assert r["error"] == [["ValueError", "kaboom"]]
    assert r["disconnecting"] == [["client namespace disconnect", sorted([r["id"], r["room"]])]]
    assert r["reason"] == ["client namespace disconnect"]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_call_fails_at_once_when_the_client_leaves_and_times_out_when_mute(
        reports, client, transports):
    r = scenario(reports, client, transports, "api-call")
    a_id, mute_id = r["ids"]
    [(kind, message, elapsed)] = r["left"]
    assert (kind, message) == (
        "Disconnected", "socket %s disconnected: client namespace disconnect" % a_id)
    assert elapsed < 5.0  # its timeout was 30 s
    [(kind, message, elapsed)] = r["mute"]
    assert (kind, message) == ("AckTimeout", "no ack for 'question' from %s within 0.5s" % mute_id)
    assert 0.5 <= elapsed < 3.0
    assert r["a_questions"] == 1


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_call_returns_the_clients_answer(reports, client, transports):
    r = scenario(reports, client, transports, "api-ask")
    assert r["answer"] == [["how much? forty", 2]]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_an_unanswered_ack_times_out(reports, client, transports):
    r = scenario(reports, client, transports, "api-ack-timeout")
    kind, message, values, elapsed = r["result"]
    assert (kind, message, values) == ("AckTimeout", "operation has timed out", [])
    assert 0.5 <= elapsed < 3.0
    assert r["asked"] == [["please"]]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_broadcast_acks(reports, client, transports):
    r = scenario(reports, client, transports, "api-broadcast-ack")
    ids = sorted(r["ids"])
    err, responses, elapsed = r["all"]
    assert (err, responses) == (None, ids)
    assert elapsed < 3.0  # the deadline was 3 s: all answered before it
    err, responses, elapsed = r["partial"]
    assert (err, responses) == (["AckTimeout", "operation has timed out"], ids)
    assert 0.5 <= elapsed < 3.0


#: trigger → (reason given to the server's disconnect handler, reasons the client may report)
REASONS = {
    "client namespace disconnect": ("client namespace disconnect", {"io client disconnect"}),
    "server namespace disconnect": ("server namespace disconnect", {"io server disconnect"}),
    "server namespace disconnect (close)": ("server namespace disconnect",
                                            {"io server disconnect"}),
    "forced close": ("forced close", {"transport close"}),
    "transport close": ("transport close", {"forced close"}),
    # the server drops the session: over polling the client's next request fails
    "parse error": ("parse error", {"transport close", "transport error"}),
    "transport error": ("transport error", {"transport close", "transport error"}),
}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_disconnect_reasons(reports, client, transports):
    r = scenario(reports, client, transports, "api-reasons")
    assert {name: got["server"] for name, got in r.items()} == {
        name: [server] for name, (server, _) in REASONS.items()}
    for name, (_, seen) in REASONS.items():
        assert r[name]["client"] in seen, name


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_server_shutting_down(client, transports):
    server = ServerProcess(API_APP)
    try:
        r = report_of(start_node(server.url, client, transports, ["api-shutdown"]))
    finally:
        output = server.stop()
    assert r["errors"] == {}
    result = r["results"]["api-shutdown"]
    assert result["client"] == "transport close"
    assert output.count("disconnect %s: " % result["id"]) == 1
    assert "disconnect %s: server shutting down\n" % result["id"] in output


def test_connect_timeout_closes_an_engine_that_joins_no_namespace(server, node):
    """engine.io-client 6 opens a session and joins nothing: closed after the timeout.

    engine.io-client 3 speaks protocol 4, where ``/`` is joined implicitly: it stays.
    """
    started = time.monotonic()
    v4 = node("eio_client.js", {"url": server.url, "eio": 4, "path": "/socket.io/",
                                "transports": ["websocket"], "wait_close_ms": 10_000})
    elapsed = time.monotonic() - started
    assert v4["close_reason"] == "transport close"
    assert v4["received"] == []
    assert CONNECT_TIMEOUT <= elapsed < CONNECT_TIMEOUT + 5
    v3 = node("eio_client.js", {"url": server.url, "eio": 3, "path": "/socket.io/",
                                "transports": ["websocket"],
                                "wait_close_ms": int(CONNECT_TIMEOUT * 1000) + 1500})
    assert v3["close_reason"] is None
    assert v3["received"] == [{"text": "0"}]  # the implicit CONNECT of "/"


# -- raw clients: a client that stops answering pings, one that drops its TCP connection ----


def ask_raw(ws: WebSocketClient, *args: Any) -> Any:
    """Emit ``args`` with ack id 7 on ``/`` (protocol 5) and return the ack's values.

    Pings met on the way are answered.
    """
    ws.send("427" + json.dumps(list(args)))
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
        elif isinstance(message, str) and message.startswith("437"):
            return json.loads(message[3:])


def ended(ws: WebSocketClient) -> bool:
    """Read until the server ends the connection (a close frame or EOF)."""
    try:
        while ws.recv_frame().opcode != OP_CLOSE:
            pass
    except ConnectionEnded:
        pass
    return True


@pytest.fixture(scope="module")
def fast_pings() -> Iterator[ServerProcess]:
    """api_app.py with a 0.5 s ping interval and timeout."""
    proc = ServerProcess(API_APP, "--ping-interval", "0.5", "--ping-timeout", "0.5")
    yield proc
    proc.stop()


@pytest.mark.parametrize("version", [3, 4])
def test_ping_timeout_of_a_client_that_stops_answering(fast_pings, version):
    ws, sid = sio_connect(fast_pings.port, version)  # never pings (3) nor pongs (4)
    with ws:
        ws.settimeout(5.0)
        started = time.monotonic()
        assert ended(ws)
        assert 0.5 <= time.monotonic() - started < 4.0
    reader, _ = sio_connect(fast_pings.port, 4)
    with reader:
        reader.settimeout(5.0)
        assert ask_raw(reader, "observed", "reason", sid) == [["ping timeout"]]


@pytest.mark.parametrize("version", [3, 4])
def test_transport_close_of_a_dropped_tcp_connection(fast_pings, version):
    ws, sid = sio_connect(fast_pings.port, version)
    ws.close(None)  # no DISCONNECT, no close frame
    reader, _ = sio_connect(fast_pings.port, 4)
    with reader:
        reader.settimeout(5.0)
        assert ask_raw(reader, "observed", "reason", sid) == [["transport close"]]

"""flask_sio over real sockets: sio.run() and gunicorn, with the official npm clients."""
from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, ServerProcess, free_port, wait_for_port

NETAPP = Path(__file__).with_name("netapp.py")
TRANSPORTS = [["websocket"], ["polling"], ["polling", "websocket"]]


@pytest.fixture
def netapp():
    server = ServerProcess(NETAPP)
    yield server
    server.stop()


def login_cookie(port: int, name: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/login/" + name)
    response = conn.getresponse()
    assert response.status == 200
    cookie = response.getheader("Set-Cookie")
    conn.close()
    return cookie.split(";")[0]


@pytest.mark.interop
@pytest.mark.parametrize("client", [2, 4])
@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
def test_session_identity_acks_and_emit_from_view(netapp, node, client, transports) -> None:
    cookie = login_cookie(netapp.port, "zoe")
    result = node("flask_scenario.js", {
        "url": netapp.url, "client": client, "transports": transports, "cookie": cookie,
        "notify_url": netapp.url + "/notify/hi",
    })
    assert result["welcome"] == "zoe"
    assert result["whoami"] == "zoe"
    assert result["echo"] == ["a", {"b": [1, 2]}]
    assert result["answered"] == 42
    assert result["events"] == [["notice", "hi"]]


#: what each client reports of a refusal: 4 its connect_error (message and data), 2 its
#: error event (the data when there is some, as socket.io 2's server sends, else the message)
REFUSALS = [
    (4, "refuse", {"connect_error": "go away", "data": {"code": 42}}),
    (4, "refuse-plain", {"connect_error": "go away", "data": None}),
    (2, "refuse", {"error": {"code": 42}}),
    (2, "refuse-plain", {"error": "go away"}),
]


@pytest.mark.interop
@pytest.mark.parametrize("client, token, reported", REFUSALS)
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids="+".join)
def test_refusal_on_connect_reaches_the_client(netapp, node, client, token, reported,
                                               transports) -> None:
    result = node("flask_scenario.js", {"url": netapp.url, "client": client,
                                        "transports": transports, "token": token})
    assert result == {"events": [], **reported}


@pytest.mark.interop
@pytest.mark.parametrize("worker", ["geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
                                    "sio_core.gunicorn.GeventWebSocketWorker"])
def test_under_gunicorn_gevent_websocket_worker(node, worker) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1",
         "-b", "127.0.0.1:%d" % port, "tests.flask_sio.netapp:app"],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=20, proc=proc)
        url = "http://127.0.0.1:%d" % port
        cookie = login_cookie(port, "gus")
        for transports in TRANSPORTS:
            result = node("flask_scenario.js", {"url": url, "client": 4,
                                                "transports": transports, "cookie": cookie,
                                                "notify_url": url + "/notify/g"})
            assert result["welcome"] == "gus"
            assert result["answered"] == 42
            assert result["events"] == [["notice", "g"]]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.interop
def test_the_redis_streams_adapter_joins_processes(redis_server, node) -> None:
    env = {"REDIS_STREAMS_URL": redis_server.url}
    a = ServerProcess(NETAPP, env=env)
    b = ServerProcess(NETAPP, env=env)
    try:
        for transports in (["websocket"], ["polling"]):
            result = node("flask_scenario.js", {
                "url": b.url, "client": 4, "transports": transports,
                "notify_url": a.url + "/notify/streams"})
            assert result["events"] == [["notice", "streams"]]
    finally:
        a.stop()
        b.stop()


@pytest.mark.interop
def test_message_queue_joins_processes_and_write_only_emitter(redis_server, node, tmp_path):
    env = {"REDIS_URL": redis_server.url}
    a = ServerProcess(NETAPP, env=env)
    b = ServerProcess(NETAPP, env=env)
    try:
        result = node("flask_scenario.js", {
            "url": b.url, "client": 4, "transports": ["websocket"],
            "notify_url": a.url + "/notify/across"})
        assert result["events"] == [["notice", "across"]]
        script = tmp_path / "write_only.py"
        script.write_text(
            "import sys\n"
            "from flask_sio import SocketIO\n"
            "SocketIO(message_queue=sys.argv[1]).emit('notice', 'from a script')\n")
        result = node("flask_scenario.js", {
            "url": b.url, "client": 4, "transports": ["polling"],
            "notify_cmd": [sys.executable, str(script), redis_server.url]})
        assert result["events"] == [["notice", "from a script"]]
    finally:
        a.stop()
        b.stop()

"""Deadlines of the HTTP edge, over raw sockets against ``timeouts_app.py``.

Slow and silent clients are cut at ``headers_timeout`` (the request head),
``request_timeout`` (the body) and ``keepalive_timeout`` (idle between requests), as
Node's http server does; a websocket that joins a session and never finishes the
upgrade is closed at ``upgrade_timeout``. Waiting for a response (a long poll) and an
upgraded websocket are not cut. Each test keeps a well-behaved client going beside.
"""
from __future__ import annotations

import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from flask import Flask

from flask_sio import SocketIO
from sio_core import Server
from sio_core.engineio import EngineOptions
from sio_core.serving import KEEPALIVE_GRACE, HttpTimeouts, make_server
from tests.helpers import ROOT, ServerProcess, free_port, wait_for_port
from tests.transports.wsclient import (
    assert_sid_gone,
    in_thread,
    joined,
    polling_sid,
    read_response,
    request,
    sio_connect,
    ws_connect,
)

APP = Path(__file__).resolve().parent / "timeouts_app.py"
RUNAPP = ROOT / "tests" / "flask_sio" / "runapp.py"

HEADERS, REQUEST, KEEPALIVE, UPGRADE, PING = 1.0, 2.0, 1.0, 1.0, 3.0
#: how much later than its deadline a close may come on a loaded machine
SLACK = 1.5
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
HALF_HEAD = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def edge() -> Iterator[ServerProcess]:
    server = ServerProcess(APP, "--headers-timeout", str(HEADERS), "--request-timeout",
                           str(REQUEST), "--keepalive-timeout", str(KEEPALIVE),
                           "--upgrade-timeout", str(UPGRADE), "--ping-interval", str(PING))
    yield server
    server.stop()


def raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def until_closed(sock: socket.socket, since: float, trickle: bytes = b"",
                 limit: float = 10.0) -> Tuple[float, bytes, int]:
    """Read until the server closes ``sock``, sending ``trickle`` every 0.2 s meanwhile.

    :returns: seconds from ``since`` to the close, what was read, bytes trickled
    """
    data, sent = b"", 0
    sock.settimeout(0.2 if trickle else limit)
    while True:
        if time.monotonic() - since > limit:
            raise AssertionError("still open after %ss" % limit)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            try:
                sock.sendall(trickle)
                sent += len(trickle)
            except OSError:  # closed by the server between two reads
                pass
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return time.monotonic() - since, data, sent


def assert_served(port: int) -> None:
    """A well-behaved client gets a session and an ack over its own websocket."""
    ws, _ = sio_connect(port)
    with ws:
        ws.send('421["echo","still served"]')
        assert ws.recv() == '431["still served"]'


# -- the request head ---------------------------------------------------------------------

def test_a_silent_connection_gets_408_at_the_headers_timeout(edge) -> None:
    with raw(edge.port) as silent:
        since = time.monotonic()
        assert_served(edge.port)
        elapsed, data, _ = until_closed(silent, since)
    assert data == REQUEST_TIMEOUT
    assert HEADERS - 0.1 <= elapsed <= HEADERS + SLACK


def test_a_head_trickled_byte_by_byte_is_cut_at_the_headers_timeout(edge) -> None:
    """Each byte does not restart the clock: the head as a whole has the deadline."""
    with raw(edge.port) as slow:
        since = time.monotonic()
        slow.sendall(HALF_HEAD)
        assert_served(edge.port)
        elapsed, data, sent = until_closed(slow, since, trickle=b"X")
    assert data == REQUEST_TIMEOUT
    assert sent >= 3  # it kept sending until it was cut
    assert HEADERS - 0.1 <= elapsed <= HEADERS + SLACK


def test_a_later_request_head_is_timed_from_its_first_byte(edge) -> None:
    with raw(edge.port) as conn:
        conn.sendall(HALF_HEAD + b"\r\n")
        assert read_response(conn).status == 200
        time.sleep(KEEPALIVE / 2)  # idle, within the keep-alive timeout
        since = time.monotonic()
        conn.sendall(HALF_HEAD)
        elapsed, data, _ = until_closed(conn, since)
    assert data == REQUEST_TIMEOUT
    assert HEADERS - 0.1 <= elapsed <= HEADERS + SLACK


# -- the request body ---------------------------------------------------------------------

def test_a_stalled_body_gets_408_at_the_request_timeout_and_closes_its_session(edge) -> None:
    sid = polling_sid(edge.port, 4)
    with raw(edge.port) as slow:
        since = time.monotonic()
        slow.sendall(b"POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\n"
                     b"Host: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789" % sid.encode())
        assert_served(edge.port)
        elapsed, data, sent = until_closed(slow, since, trickle=b"x")
    assert data == REQUEST_TIMEOUT
    assert sent >= 3
    assert REQUEST - 0.1 <= elapsed <= REQUEST + SLACK
    assert_sid_gone(edge.port, 4, sid)  # the packets of that POST are lost: it ends


# -- keep-alive ---------------------------------------------------------------------------

def test_an_idle_keepalive_connection_is_closed_after_the_announced_timeout(edge) -> None:
    with raw(edge.port) as conn:
        conn.sendall(HALF_HEAD + b"\r\n")
        reply = read_response(conn)
        since = time.monotonic()
        elapsed, data, _ = until_closed(conn, since)
    assert reply.status == 200
    assert reply.headers["keep-alive"] == "timeout=%d" % KEEPALIVE
    assert data == b""  # no 408 for a connection between requests
    assert KEEPALIVE + KEEPALIVE_GRACE - 0.1 <= elapsed <= KEEPALIVE + KEEPALIVE_GRACE + SLACK


# -- under gunicorn: the application's deadlines, gunicorn's --keep-alive ---------------------

GUNICORN_KEEPALIVE = 1


@pytest.fixture(scope="module")
def gunicorn_port() -> Iterator[int]:
    """gunicorn with sio_core's worker serving ``gunicorn_app.py`` (headers_timeout=1,
    keepalive_timeout=30 of its own) with ``--keep-alive 1``."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "sio_core.gunicorn.GeventWebSocketWorker",
         "-w", "1", "--keep-alive", str(GUNICORN_KEEPALIVE), "-b", "127.0.0.1:%d" % port,
         "tests.transports.gunicorn_app:app"],
        cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=20, proc=proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_under_gunicorn_a_silent_connection_gets_408_at_the_apps_headers_timeout(
        gunicorn_port) -> None:
    with raw(gunicorn_port) as silent:
        since = time.monotonic()
        assert_served(gunicorn_port)
        elapsed, data, _ = until_closed(silent, since)
    assert data == REQUEST_TIMEOUT
    assert HEADERS - 0.1 <= elapsed <= HEADERS + SLACK  # not Node's 60 s


def test_under_gunicorn_the_keepalive_timeout_is_gunicorns(gunicorn_port) -> None:
    with raw(gunicorn_port) as conn:
        conn.sendall(HALF_HEAD + b"\r\n")
        reply = read_response(conn)
        since = time.monotonic()
        elapsed, data, _ = until_closed(conn, since)
    assert reply.status == 200
    assert reply.headers["keep-alive"] == "timeout=%d" % GUNICORN_KEEPALIVE  # not the app's 30
    assert data == b""
    limit = GUNICORN_KEEPALIVE + KEEPALIVE_GRACE
    assert limit - 0.1 <= elapsed <= limit + SLACK


def test_a_keepalive_connection_in_use_outlives_every_timeout(edge) -> None:
    with raw(edge.port) as conn:
        since = time.monotonic()
        while time.monotonic() - since < REQUEST + 0.5:
            conn.sendall(HALF_HEAD + b"\r\n")
            assert read_response(conn).status == 200
            time.sleep(KEEPALIVE / 2)  # a client's pace, within the keep-alive timeout


def test_the_python_client_over_polling_survives_the_keepalive_close(edge) -> None:
    """Our own client reconnects when the server has closed its idle POST connection."""
    pause = KEEPALIVE + KEEPALIVE_GRACE + 0.5
    assert run_client(edge.url, "polling", pause) == ["one", "two"]


@pytest.mark.interop
@pytest.mark.parametrize("client", [2, 4])
def test_the_official_clients_over_polling_survive_the_keepalive_close(edge, node,
                                                                       client: int) -> None:
    result = node("pause_between_acks.js", {
        "url": edge.url, "client": client,
        "pause_ms": int((KEEPALIVE + KEEPALIVE_GRACE + 0.5) * 1000)})
    assert result == {"acks": ["one", "two"]}


CLIENT = """
from gevent import monkey; monkey.patch_all()
import json, sys, time
from sio_core.client import SocketIOClient
url, transports, pause = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
client = SocketIOClient(reconnection=False)
client.connect(url, transports=transports, wait_timeout=10)
first = client.call("echo", "one", timeout=10)
time.sleep(pause)
second = client.call("echo", "two", timeout=10)
client.disconnect()
print(json.dumps([first, second]))
"""


def run_client(url: str, transports: str, pause: float = 0.0) -> list:
    """sio_core.client.SocketIOClient in its own process: two acked echoes ``pause`` s apart."""
    proc = subprocess.run([sys.executable, "-c", CLIENT, url, transports, str(pause)],
                          cwd=str(ROOT), capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode().splitlines()[-1])


# -- what no deadline applies to ------------------------------------------------------------

def test_a_long_poll_and_an_upgraded_websocket_are_not_cut(edge) -> None:
    sid = polling_sid(edge.port, 4)
    ws, _ = sio_connect(edge.port)
    with ws:
        since = time.monotonic()
        thread, pending = in_thread(request, edge.port, "GET",
                                    "EIO=4&transport=polling&sid=" + sid)
        reply = joined(thread, pending)  # held until the server's ping
        waited = time.monotonic() - since
        ws.send('421["echo","after the wait"]')
        answer = ws.recv()
        if answer == "2":  # the server's ping came first
            ws.send("3")
            answer = ws.recv()
    assert (reply.status, reply.body) == (200, b"2")
    assert waited > REQUEST + 0.5  # longer than any HTTP deadline
    assert answer == '431["after the wait"]'


# -- websocket upgrades -----------------------------------------------------------------------

@pytest.mark.parametrize("probe", [True, False], ids=["probed-never-upgraded", "silent"])
def test_a_websocket_that_never_completes_the_upgrade_is_closed(edge, probe: bool) -> None:
    """engine.io's upgradeTimeout: the joining websocket is closed, polling goes on."""
    sid = polling_sid(edge.port, 4)
    query = "EIO=4&transport=polling&sid=" + sid
    thread, pending = in_thread(request, edge.port, "GET", query)
    ws = ws_connect(edge.port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        since = time.monotonic()
        if probe:
            ws.send("2probe")
            assert ws.recv() == "3probe"
            assert joined(thread, pending).body == b"6"  # the GET let go with a noop
        ws.settimeout(UPGRADE + SLACK + 1)
        ws.recv_close()
        elapsed = time.monotonic() - since
        assert ws.at_eof()
    assert UPGRADE - 0.1 <= elapsed <= UPGRADE + SLACK
    post = request(edge.port, "POST", query, b"40")
    assert (post.status, post.body) == (200, b"ok")
    if not probe:
        assert joined(thread, pending).body.startswith(b"40{")
    else:
        assert request(edge.port, "GET", query).body.startswith(b"40{")


# -- many at once, under a descriptor limit -----------------------------------------------------

def _open_wave(port: int, pid: int, count: int) -> List[socket.socket]:
    """``count`` connections: half send half a request head, half nothing at all.

    They go in batches that the server (process ``pid``) accepts before the next: its
    listen backlog is 128, and a connection beyond it waits a second for a SYN resend.
    """
    socks: List[socket.socket] = []
    held = _descriptors(pid)
    while len(socks) < count:
        for _ in range(min(100, count - len(socks))):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if len(socks) % 2:
                sock.sendall(HALF_HEAD)
            socks.append(sock)
        _wait_descriptors(pid, held + len(socks) - 5, 1 << 20)
    return socks


def _wait_all_closed(socks: List[socket.socket], limit: float) -> int:
    """Wait until the server has closed every socket; how many got the 408."""
    selector = selectors.DefaultSelector()
    received = {}
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    deadline = time.monotonic() + limit
    open_count = len(socks)
    while open_count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "%d of %d connections still open" % (open_count, len(socks))
        for key, _ in selector.select(timeout=remaining):
            sock = key.fileobj
            try:
                chunk = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk:
                received[sock] += chunk
                continue
            selector.unregister(sock)
            open_count -= 1
    selector.close()
    for sock in socks:
        sock.close()
    return sum(data == REQUEST_TIMEOUT for data in received.values())


def _descriptors(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def _wait_descriptors(pid: int, low: int, high: int, limit: float = 5.0) -> None:
    """Wait until the server process holds between ``low`` and ``high`` descriptors."""
    deadline = time.monotonic() + limit
    while not low <= _descriptors(pid) <= high:
        assert time.monotonic() < deadline, "the server holds %d descriptors, not %d-%d" % (
            _descriptors(pid), low, high)
        time.sleep(0.05)  # another process's descriptor table: nothing to await


def test_thousands_of_slow_connections_do_not_lock_out_a_real_client() -> None:
    """Three waves of 2,000 silent or half-sent requests against a server limited to 4,096
    descriptors: 6,000 in all, more than it could hold at once. Each wave is closed at the
    headers timeout, its descriptors come back, and a real client connects and gets its
    acks while the last wave is held."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 3000:
        if hard != resource.RLIM_INFINITY and hard < 3000:
            pytest.skip("needs 3,000 descriptors in the test process")
        resource.setrlimit(resource.RLIMIT_NOFILE, (3000, hard))
    head_timeout = 3.0
    server = ServerProcess(APP, "--headers-timeout", str(head_timeout), "--request-timeout",
                           str(head_timeout), "--nofile", "4096")
    try:
        pid = server.proc.pid
        with open("/proc/%d/limits" % pid) as limits:
            assert any(line.startswith("Max open files") and line.split()[3] == "4096"
                       for line in limits)
        baseline = _descriptors(pid)
        for wave in range(3):
            since = time.monotonic()
            socks = _open_wave(server.port, pid, 2000)
            assert time.monotonic() - since < head_timeout  # so all were held at once
            if wave == 2:
                assert run_client(server.url, "websocket") == ["one", "two"]
            answered = _wait_all_closed(socks, limit=head_timeout + SLACK + 5)
            assert answered >= 1900  # each got its 408 (a few may be reset instead)
            _wait_descriptors(pid, 0, baseline + 20)
        assert run_client(server.url, "polling") == ["one", "two"]
    finally:
        server.stop()


# -- request heads past the parser's limits -------------------------------------------------

def test_a_head_past_the_header_limits_gets_400_without_a_traceback() -> None:
    server = ServerProcess(APP)
    try:
        too_many = request(server.port, "GET", "EIO=4&transport=polling",
                           headers={"X-Header-%d" % i: "v" for i in range(150)})
        too_long = request(server.port, "GET", "EIO=4&transport=polling",
                           headers={"X-Padding": "p" * 100_000})
        assert_served(server.port)
    finally:
        log = server.stop()
    assert (too_many.status, too_long.status) == (400, 400)
    assert "Traceback" not in log


# -- options ----------------------------------------------------------------------------------

def test_timeouts_default_to_nodes_and_zero_turns_one_off() -> None:
    assert HttpTimeouts() == HttpTimeouts(60.0, 300.0, 5.0)
    assert HttpTimeouts(headers_timeout=0, request_timeout=0).headers_timeout == 0.0
    assert EngineOptions().upgrade_timeout == 10.0


@pytest.mark.parametrize("kwargs", [{"headers_timeout": -1}, {"keepalive_timeout": "5"},
                                    {"request_timeout": float("inf")},
                                    {"headers_timeout": 10, "request_timeout": 5}])
def test_invalid_timeouts_are_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        HttpTimeouts(**kwargs)


def test_invalid_upgrade_timeout_is_refused() -> None:
    with pytest.raises(ValueError):
        EngineOptions(upgrade_timeout=0)


def test_make_server_takes_a_servers_timeouts_unless_given() -> None:
    io = Server(headers_timeout=7, keepalive_timeout=2)
    http = make_server(io, "127.0.0.1", 0)
    assert http.http_timeouts == HttpTimeouts(7.0, 300.0, 2.0)
    http = make_server(io, "127.0.0.1", 0, keepalive_timeout=0, request_timeout=30)
    assert http.http_timeouts == HttpTimeouts(7.0, 30.0, 0.0)
    assert make_server(object(), "127.0.0.1", 0).http_timeouts == HttpTimeouts()


def test_socketio_run_passes_the_timeouts_to_the_server() -> None:
    server = ServerProcess(RUNAPP, "--kwargs", json.dumps(
        {"headers_timeout": HEADERS, "request_timeout": REQUEST,
         "keepalive_timeout": KEEPALIVE}))
    try:
        with raw(server.port) as silent:
            since = time.monotonic()
            page = request(server.port, "GET", path="/page/x")
            elapsed, data, _ = until_closed(silent, since)
    finally:
        server.stop()
    assert (page.status, page.body) == (200, b"page x")
    assert page.headers["Keep-Alive"] == "timeout=%d" % KEEPALIVE
    assert data == REQUEST_TIMEOUT
    assert HEADERS - 0.1 <= elapsed <= HEADERS + SLACK


def test_flask_sio_takes_the_upgrade_timeout() -> None:
    app = Flask(__name__)
    SocketIO(app, upgrade_timeout=3)
    assert app.extensions["socketio"].server.engine.options.upgrade_timeout == 3

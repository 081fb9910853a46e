"""Client behaviour that needs no real server, or a server that misbehaves on purpose.

A scripted Engine.IO peer answers the page's polling requests through Playwright's request
router (``http://mock.test/socket.io/``): it can stop pinging, never answer the
handshake, or refuse every request, which a real server would not do on cue.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import pytest

from tests.helpers import ServerProcess

pytestmark = pytest.mark.interop

MOCK = "http://mock.test"
BUNDLE_SERVER = Path(__file__).resolve().parent / "bundle_server.py"


class ScriptedEngine:
    """Answers a page's Engine.IO polling requests from a script.

    The handshake GET gets the open packet (unless ``hold_handshake``); later GETs get the
    ``script`` entries in turn (``"!500"``: that HTTP status), then are held unanswered;
    POSTs get ``ok`` and are recorded. With ``refuse``, every request fails at the network level.
    """

    def __init__(self, page: Any, script: List[str], ping_interval: int = 300,
                 ping_timeout: int = 200, hold_handshake: bool = False,
                 refuse: bool = False) -> None:
        self.script = list(script)
        self.open_packet = "0" + json.dumps({
            "sid": "mock-sid", "upgrades": [], "pingInterval": ping_interval,
            "pingTimeout": ping_timeout, "maxPayload": 1000000})
        self.hold_handshake = hold_handshake
        self.refuse = refuse
        #: bodies of the POSTs received
        self.posts: List[Optional[str]] = []
        #: requests left unanswered (answered with nothing when the page closes)
        self.held: List[Any] = []
        page.route(MOCK + "/**", self.handle)

    def handle(self, route: Any) -> None:
        request = route.request
        if not request.url.startswith(MOCK + "/socket.io/"):
            route.fulfill(status=200, content_type="text/html", body="<!doctype html>")
        elif self.refuse:
            route.abort("connectionrefused")
        elif request.method == "POST":
            self.posts.append(request.post_data)
            route.fulfill(status=200, content_type="text/plain", body="ok")
        elif "sid=" not in request.url:
            if self.hold_handshake:
                self.held.append(route)
            else:
                route.fulfill(status=200, content_type="text/plain", body=self.open_packet)
        elif self.script:
            body = self.script.pop(0)
            if body.startswith("!"):  # "!500": that HTTP status instead of packets
                route.fulfill(status=int(body[1:]), content_type="text/plain", body="")
            else:
                route.fulfill(status=200, content_type="text/plain", body=body)
        else:
            self.held.append(route)


def mock_page(new_page: Any, **engine: Any) -> Any:
    page = new_page()
    mock = ScriptedEngine(page.page, **engine)
    page.page.goto(MOCK + "/")
    page.blank()
    return page, mock


def test_global_api(new_page: Any) -> None:
    page = new_page().blank()
    result = page.run("api")
    assert result == {
        "connectIsIo": True, "protocol": 5, "manager": "function", "socket": "function",
        "newManager": True, "chained": True,
        "values": [False, 3, 200, 800, 0.25, 1234],
        "defaults": [True, float("inf"), 1000, 5000, 0.5, 20000],
        "engine": False,  # autoConnect: false opens nothing
    }
    page.check_clean()


def test_backoff_doubles_with_jitter_and_cap(new_page: Any) -> None:
    page = new_page().blank()
    assert page.run("backoff", 100, 10_000, 0, 0, 3) == [100, 100, 100]
    assert page.run("backoff", 100, 10_000, 0, 3, 1) == [800]
    assert page.run("backoff", 100, 500, 0, 3, 1) == [500]  # capped
    jittered = page.run("backoff", 1000, 5000, 0.5, 0, 400)
    assert min(jittered) >= 500
    assert max(jittered) <= 1500
    assert min(jittered) < 800 < 1200 < max(jittered)  # both directions, widely spread
    capped = page.run("backoff", 1000, 5000, 0.5, 3, 200)  # 8000 ± 4000, capped at 5000
    assert min(capped) >= 4000
    assert max(capped) == 5000


def test_waits_between_attempts_follow_the_backoff(new_page: Any) -> None:
    page, _ = mock_page(new_page, script=[], refuse=True)
    result = page.run("backoffTimes", MOCK, 100, 400, 4)
    assert result["attempts"] == [1, 2, 3, 4]
    for waited, expected in zip(result["waits"], [100, 200, 400, 400]):
        assert expected - 5 <= waited <= expected + 250


def test_ping_timeout_closes_the_connection(new_page: Any) -> None:
    page, mock = mock_page(new_page, script=['40{"sid":"socket-1"}', "2"])
    result = page.run("pingTimeout", MOCK)
    assert result["reason"] == "ping timeout"
    assert 450 <= result["afterPing"] <= 2000  # pingInterval 300 + pingTimeout 200
    assert result["state"] == "closed"
    assert mock.posts[:2] == ["40", "3"]  # CONNECT to "/", then the pong


def test_connect_timeout(new_page: Any) -> None:
    page, _ = mock_page(new_page, script=[], hold_handshake=True)
    result = page.run("connectTimeout", MOCK, 300)
    assert result["events"] == [["connect_error", "timeout"], ["connect_timeout", 300]]
    assert 280 <= result["elapsed"] <= 2000
    assert result["state"] == "closed"


@pytest.mark.parametrize("path", ["/socket.io", "/custom"])
def test_options_query_upgrade_path(new_page: Any, path: str) -> None:
    server = ServerProcess(BUNDLE_SERVER, "--path", path)
    try:
        page = new_page()
        page.page.goto(server.url + path + "/socket.io.js")
        page.page.add_script_tag(url=path + "/socket.io.js")
        page.page.add_script_tag(content=(Path(__file__).parent / "scenarios.js").read_text())
        result = page.run("options", path)
    finally:
        server.stop()
    assert result == {"echo": ["options"], "transport": "polling"}
    assert page.websockets == []  # upgrade: false
    engine_requests = [url for url in page.requests if "EIO=4" in url]
    assert engine_requests != []
    assert all(url.startswith(server.url + path + "/?") for url in engine_requests)
    assert all("hello=w%C3%B6rld" in url for url in engine_requests)
    page.check_clean()


def test_a_failed_poll_emits_error_then_disconnect(new_page: Any) -> None:
    page, _ = mock_page(new_page, script=['40{"sid":"socket-1"}', "!500"], ping_interval=5000)
    assert page.run("transportError", MOCK) == [
        ["connect"], ["error", "Error"], ["disconnect", "transport error"]]


def test_socket_and_manager_api_against_a_server(new_page: Any) -> None:
    server = ServerProcess(BUNDLE_SERVER)
    try:
        page = new_page()
        page.page.goto(server.url + "/socket.io/socket.io.js")
        page.page.add_script_tag(url="/socket.io/socket.io.js")
        page.page.add_script_tag(content=(Path(__file__).parent / "scenarios.js").read_text())
        result = page.run("socketApi", server.url)
    finally:
        server.stop()
    assert result == {
        "opened": "ok", "listenersOn": 1, "volatile": "echo:volatile while connected",
        "listenersOff": 0, "afterOff": "echo:after off", "seen": ["echo:volatile while connected"],
        "sendAck": "echo:with ack", "listenersAllOff": 0, "closeReason": "io client disconnect",
        "closed": True, "failed": "Connection error",
    }

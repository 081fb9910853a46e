"""Our client bundle in headless Chromium, against our server and the reference socket.io@4.

Each scenario of tests/js/scenarios.js runs in a page loaded from the server's origin, so
``io()`` and ``io("/chat")`` find the server by auto-discovery. With our server the page
loads the bundle from ``/socket.io/socket.io.js``; with the reference server (which would
serve its own client there) our bundle is injected.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from .conftest import start_server

pytestmark = pytest.mark.interop

UPGRADE = ["polling", "websocket"]
TRANSPORTS = [UPGRADE, ["websocket"], ["polling"]]
TRANSPORT_IDS = ["upgrade", "websocket-only", "polling-only"]


@pytest.fixture(scope="module", params=["ours", "reference"])
def server(request: Any) -> Iterator[Any]:
    """The conformance server, one per kind for the module."""
    srv = start_server(request.param)
    yield srv
    srv.stop()


def check_transports(page: Any, transports: list) -> None:
    """Only the transports asked for went over the wire."""
    polled = [url for url in page.requests if "transport=polling" in url]
    if "polling" in transports:
        assert polled != []
    else:
        assert polled == []
    if "websocket" in transports:
        assert page.websockets != []
    else:
        assert page.websockets == []


@pytest.mark.parametrize("transports", TRANSPORTS, ids=TRANSPORT_IDS)
def test_connect_emit_receive_acks(server: Any, new_page: Any, transports: list) -> None:
    page = new_page().open(server)
    result = page.run("basics", transports)
    assert result["connected"] is True
    assert result["disconnected"] is False
    assert result["welcome"] == {"id": result["id"]}
    assert result["echo"] == ["a", 1, {"b": [True, None]}, ["x", 2.5], "ünïcødé ✓ 😀"]
    assert result["ackEcho"] == [1, "two", {"three": 3}]
    assert result["message"] == ["echo:hi"]
    assert result["question"] == "how many?"
    assert result["answer"] == [42]
    assert result["id"] in result["clients"]
    assert result["transports"] == transports
    assert result["reason"] == "io client disconnect"
    assert result["after"] == {"connected": False, "disconnected": True, "id": None}
    check_transports(page, transports)
    page.check_clean()


@pytest.mark.parametrize("transports", TRANSPORTS, ids=TRANSPORT_IDS)
def test_emits_keep_their_order_across_connect_and_upgrade(server: Any, new_page: Any,
                                                         transports: list) -> None:
    page = new_page().open(server)
    result = page.run("burst", transports, 40)
    assert result["got"] == list(range(80))
    assert result["transports"] == transports
    page.check_clean()


def test_polling_posts_respect_max_payload(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("bigBurst", 30, 50_000)  # 1.5 MB at once; the server takes 1 MB a POST
    assert result == {"got": [[n, True] for n in range(30)], "connectedAfter": True}
    assert max(page.post_sizes) <= 1_000_000
    assert sum(page.post_sizes) > 1_500_000  # so it took more than one POST
    page.check_clean()


@pytest.mark.parametrize("transports", TRANSPORTS, ids=TRANSPORT_IDS)
def test_binary_round_trip(server: Any, new_page: Any, transports: list) -> None:
    page = new_page().open(server)
    result = page.run("binary", transports)

    def buf(*values: int) -> dict:
        return {"type": "ArrayBuffer", "bytes": list(values)}

    assert result["echoed"] == [
        buf(0, 1, 2, 253, 254, 255),
        buf(1, 2, 3),  # only the bytes of the view, not of its whole buffer
        {"nested": {"blob": buf(7, 8), "list": [buf(1, 0, 255, 255)]}},
        "text",
        {"type": "ArrayBuffer", "length": 70000, "all5": True},
    ]
    assert result["acked"] == [buf(4, 5, 6), "x"]
    assert result["answered"] == [buf(1, 0, 1)]
    assert result["transport"] == transports[-1]
    page.check_clean()


def test_namespaces_share_one_connection(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("namespaces")
    assert result["shared"] is True
    assert result["ids"][0] != result["ids"][1]
    assert result["chatEcho"] == "to chat"
    assert result["rootEcho"] == "to root"
    assert result["markers"] == ["chat marker", "root marker"]
    assert result["againShared"] is False  # "/" is open on it already: a new connection
    assert result["forceNewShared"] is False
    assert result["noMultiplexShared"] is False
    assert result["byQuery"] is True
    assert result["byFunction"] is True
    assert result["closed"] == "closed"
    handshakes = [url for url in page.requests if "EIO=4" in url and "sid=" not in url]
    assert len(handshakes) == 6  # one per connection, not one per socket
    page.check_clean()


def test_refused_namespace_gives_connect_error(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("refused")
    assert result == {"message": "not authorized", "isError": True, "connected": False,
                      "managerState": "closed", "retried": True}
    page.check_clean()


def test_rooms(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("rooms")
    assert result["joinA"] == sorted([result["idA"], "r1"])
    assert result["hello"] == ["hello", "hello"]
    assert result["others"] == "others"
    assert result["markerA"] == "marker"
    assert result["firstOfC"] == "for c"
    assert result["bcast"] == ["everyone", "everyone"]
    assert result["bcastToA"] == 0
    assert result["private"] == {"from": result["fromA"], "payload": "psst"}
    assert result["leaveB"] == [result["idB"]]
    page.check_clean()


@pytest.mark.parametrize("transports", [UPGRADE, ["websocket"]], ids=TRANSPORT_IDS[:2])
def test_server_forced_disconnect(server: Any, new_page: Any, transports: list) -> None:
    page = new_page().open(server)
    result = page.run("serverDisconnect", transports)
    assert result == {"acked": 0, "reason": "io server disconnect", "connected": False,
                      "managerState": "closed", "reconnected": True, "newId": True,
                      "attempts": [], "clientReason": "io client disconnect",
                      "serverSaw": "client namespace disconnect"}
    # the Manager closes its engine on "io server disconnect": over polling, that close
    # packet may reach the server after it dropped the session (socket.io@4 answers 400)
    page.check_clean(closing_posts=1 if "polling" in transports else 0)


def test_buffered_and_volatile_emits(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("buffering")
    assert result == {"before": {"connected": False, "engine": False},
                      "got": ["buffered 1", "buffered 2", "after"]}
    page.check_clean()


def test_heartbeat_keeps_the_connection(server: Any, new_page: Any) -> None:
    page = new_page().open(server)
    result = page.run("heartbeat", 2)
    # two pings 2 s apart: past pingInterval + pingTimeout (4 s) since the connection
    assert result["connected"] is True
    assert result["elapsed"] >= 1500
    assert isinstance(result["latency"], int)
    page.check_clean()


@pytest.mark.parametrize("kind", ["ours", "reference"])
@pytest.mark.parametrize("transports", [UPGRADE, ["websocket"]], ids=TRANSPORT_IDS[:2])
def test_reconnection_after_server_restart(new_page: Any, kind: str, transports: list) -> None:
    srv = start_server(kind)
    try:
        page = new_page().open(srv)
        assert page.run("startRestart", transports) is True
        page.page.wait_for_function("window.restartPhase === 'connected'")
        srv.stop()
        page.page.wait_for_function(
            "window.restartEvents.some(([name]) => name === 'reconnect_error')")
        srv = start_server(kind, port=srv.port)
        result = page.page.evaluate("() => window.restartDone")
    finally:
        srv.stop()
    events = result["events"]
    assert events[0][0] == "connect"
    if events[1][0] == "error":  # the transport failed (rather than closed): said first
        assert events[2] == ["disconnect", ["transport error"]]
        events = events[:1] + events[2:]
    else:
        assert events[1] == ["disconnect", ["transport close"]]
    names = [name for name, _ in events]
    # each attempt: reconnect_attempt(n), reconnecting(n), then an error until the restart
    attempts = [args[0] for name, args in events if name == "reconnect_attempt"]
    assert attempts == list(range(1, len(attempts) + 1))
    assert [args[0] for name, args in events if name == "reconnecting"] == attempts
    assert names.count("reconnect_error") == len(attempts) - 1
    assert names.count("connect_error") == len(attempts) - 1  # forwarded from the Manager
    assert names[-2:] == ["reconnect", "connect"]
    assert events[-2][1] == [attempts[-1]]
    assert result["managerEvents"][-1] == ["reconnect", attempts[-1]]
    assert len(result["ids"]) == 2
    assert result["ids"][0] != result["ids"][1]
    assert result["buffered"] is True
    assert result["echo"] == ["sent while down"]
    assert page.errors == []


def test_min_bundle(server: Any, new_page: Any) -> None:
    page = new_page().open(server, bundle="socket.io.min.js")
    result = page.run("basics", UPGRADE)
    assert result["answer"] == [42]
    assert result["transports"] == UPGRADE
    assert page.run("binary", ["polling"])["answered"] == [{"type": "ArrayBuffer",
                                                           "bytes": [1, 0, 1]}]
    page.check_clean()


def test_cross_origin_page(server: Any, new_page: Any) -> None:
    page = new_page().blank()
    assert page.run("crossOrigin", server.url) == {"echo": ["cors"], "transport": "websocket"}
    page.check_clean()


def test_with_credentials(server: Any, new_page: Any) -> None:
    page = new_page()
    # a page on another origin (localhost, not 127.0.0.1) of the same server
    page.page.goto(server.url.replace("127.0.0.1", "localhost") + "/socket.io/socket.io.js")
    page.blank()
    assert page.run("credentials", server.url, False) == "connect"
    # ours echoes the origin with Allow-Credentials; the reference answers "*", which a
    # browser refuses for a request with credentials
    expected = "connect" if server.kind == "ours" else "connect_error"
    assert page.run("credentials", server.url, True) == expected
    assert page.errors == []

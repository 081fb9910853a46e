"""The official Admin UI (``@socket.io/admin-ui``'s ``ui/dist``, installed from
tests/interop's lockfile and served as static files) in headless Chromium against our
server: it logs in with basic auth, lists our sockets, rooms and namespaces with the right
counts, shows the events sent to a socket and the counts of its charts, and its disconnect
button disconnects the socket on the server."""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from sio_core.client import SocketIOClient
from tests.helpers import NODE_MODULES, ServerProcess
from tests.js.conftest import OP_TIMEOUT

ADMIN_APP = Path(__file__).resolve().parent.parent / "admin_app.py"
UI_DIST = NODE_MODULES / "@socket.io" / "admin-ui" / "ui" / "dist"
#: bcryptjs's hash of "changeit"
HASH = "$2a$04$UT18.vnLVNsIIttQ47Co6.A1.YJ6hapye9ddzQY6WKyJpGqrLOSUu"

pytestmark = [pytest.mark.interop,
              # clients the server disconnects leave their sockets to the garbage collector
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def ui() -> Iterator[str]:
    """The dashboard's files on a loopback port."""
    if not (UI_DIST / "index.html").is_file():
        pytest.fail("@socket.io/admin-ui is missing: run `npm ci --prefix tests/interop`")
    handler = functools.partial(_Quiet, directory=str(UI_DIST))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    srv = ServerProcess(ADMIN_APP, "--auth", "admin:" + HASH, "--stats-interval", "0.5")
    yield srv
    srv.stop()


def test_dashboard_lists_and_disconnects_our_sockets(chromium, ui, server) -> None:
    users = [SocketIOClient(reconnection=False) for _ in range(3)]
    gone = threading.Event()
    users[1].on("disconnect", lambda *args: gone.set())
    page = chromium.new_page()
    page.set_default_timeout(OP_TIMEOUT)
    try:
        users[0].connect(server.url, transports=["websocket"])
        users[1].connect(server.url, transports=["websocket"])
        users[2].connect(server.url, namespaces=["/chat"], auth={"token": "secret"},
                         transports=["websocket"])
        users[0].call("join", "lobby", timeout=10)
        users[1].call("join", "lobby", timeout=10)
        users[1].call("join", "games", timeout=10)
        ids = [u.get_sid("/") for u in users[:2]]

        page.goto(ui + "/")
        page.get_by_label("Server URL").fill(server.url)
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill("changeit")
        page.get_by_role("button", name="Connect").click()

        # namespaces with their socket counts, from the server_stats
        page.goto(ui + "/#/")
        overview = page.locator(".v-card", has_text="Namespaces")
        for name, count in (("/", 2), ("/chat", 1), ("/admin", 1)):
            row = overview.locator("tr").filter(has=page.get_by_text(name, exact=True))
            row.filter(has=page.get_by_text(str(count), exact=True)).wait_for()

        # the sockets of "/"
        page.goto(ui + "/#/sockets/")
        for sid in ids:
            page.locator("tr", has_text=sid).wait_for()

        # what the sockets are sent (event_sent) on the events page, and the counts of the
        # charts (server_stats' aggregatedEvents) in the dashboard's store
        users[0].emit("echo", "seen-by-the-dashboard")
        extra = SocketIOClient(reconnection=False)  # a connection the charts count
        extra.connect(server.url, transports=["websocket"])
        extra.disconnect()
        page.goto(ui + "/#/events/")
        page.locator("tr", has_text="Event sent").filter(has_text="echo").first.wait_for()
        page.goto(ui + "/#/")
        page.get_by_text("Bytes received and sent").wait_for()
        page.wait_for_function(
            "() => ['rawConnection', 'rawDisconnection', 'bytesIn', 'bytesOut']"
            ".every(type => document"
            ".getElementById('app').__vue__.$store.state.main.aggregatedEvents"
            ".some(e => e.type === type && e.count > 0))")

        # the rooms of "/", with their member counts (private rooms hidden)
        page.goto(ui + "/#/rooms/")
        for room, count in (("lobby", 2), ("games", 1)):
            row = page.locator("tr").filter(has=page.get_by_text(room, exact=True))
            row.filter(has=page.get_by_text(str(count), exact=True)).wait_for()

        # disconnect users[1] from the dashboard
        page.goto(ui + "/#/sockets/")
        page.locator("tr", has_text=ids[1]).locator("button").click()
        assert gone.wait(10), "the socket was not disconnected"
        assert users[0].call("list-clients", timeout=10) == [ids[0]]  # only that one left
    finally:
        page.close()
        for u in users:
            u.disconnect()

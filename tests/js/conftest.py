"""Headless Chromium (Debian's ``chromium``, driven by Playwright's Python package) and the
servers the browser tests load pages from: ours (examples/conformance_app.py) and the
reference socket.io@4 (tests/interop/reference_server.js)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Iterator, List, Optional

import pytest

from tests.helpers import INTEROP, NODE_MODULES, ROOT, ServerProcess, free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
STATIC = ROOT / "sio_core" / "static"
SCENARIOS = Path(__file__).resolve().parent / "scenarios.js"

#: milliseconds any single browser operation may take
OP_TIMEOUT = 15_000


class NodeServer:
    """The reference socket.io@4 server running the conformance contract."""

    kind = "reference"

    def __init__(self, port: Optional[int] = None) -> None:
        if not (NODE_MODULES / "socket.io").is_dir():
            pytest.fail("socket.io is missing: run `npm ci --prefix tests/interop`")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["node", str(INTEROP / "reference_server.js"),
                                      str(self.port)], cwd=str(INTEROP),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


class OurServer(ServerProcess):
    """examples/conformance_app.py in a subprocess."""

    kind = "ours"

    def __init__(self, port: Optional[int] = None) -> None:
        super().__init__("conformance_app.py", port=port)


def start_server(kind: str, port: Optional[int] = None) -> Any:
    """Start the conformance server of ``kind`` ("ours" or "reference")."""
    return OurServer(port) if kind == "ours" else NodeServer(port)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("chromium is not installed (the test command installs Debian's chromium "
                    "unless SIO_TEST_NO_BOOTSTRAP=1; see tests/bootstrap.py)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install playwright")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             timeout=OP_TIMEOUT)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


class Page:
    """A fresh page with the bundle and the scenarios loaded, and what went wrong on it.

    :param page: the Playwright page
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        page.set_default_timeout(OP_TIMEOUT)
        #: uncaught exceptions in the page
        self.errors: List[str] = []
        #: (status, method, url) of every Socket.IO HTTP answer of 400 or more
        self.http_errors: List[tuple] = []
        #: the URL of every HTTP request the page made
        self.requests: List[str] = []
        #: the body size of every polling POST
        self.post_sizes: List[int] = []
        #: the URL of every websocket opened
        self.websockets: List[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("websocket", lambda ws: self.websockets.append(ws.url))

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method == "POST" and "EIO=" in request.url:
            self.post_sizes.append(len(request.post_data_buffer or b""))

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and "EIO=" in response.url:
            self.http_errors.append((response.status, response.request.method, response.url))

    def open(self, server: Any, bundle: str = "socket.io.js") -> "Page":
        """Load a page from ``server``'s origin, then the bundle and the scenarios.

        Our server serves the bundle itself (that is what is tested); the reference server
        would serve its own client there, so ours is injected instead.
        """
        # any document from the server's origin will do: both servers serve a client there
        # (a route-fulfilled page would do too, but with request interception on,
        # Chromium's websockets stall)
        self.page.goto(server.url + "/socket.io/socket.io.js")
        if getattr(server, "kind", "ours") == "ours":
            self.page.add_script_tag(url="/socket.io/" + bundle)
        else:
            self.page.add_script_tag(content=(STATIC / bundle).read_text(encoding="utf-8"))
        self.page.add_script_tag(content=SCENARIOS.read_text(encoding="utf-8"))
        return self

    def blank(self, bundle: str = "socket.io.js") -> "Page":
        """An opaque-origin page (about:blank) with the bundle and scenarios inline."""
        self.page.add_script_tag(content=(STATIC / bundle).read_text(encoding="utf-8"))
        self.page.add_script_tag(content=SCENARIOS.read_text(encoding="utf-8"))
        return self

    def run(self, scenario: str, *args: Any) -> Any:
        """Run ``scenarios[scenario](...args)`` in the page (its waits time out on their own)."""
        return self.page.evaluate("([name, args]) => scenarios[name](...args)",
                                  [scenario, list(args)])

    def check_clean(self, closing_posts: int = 0) -> None:
        """Nothing threw in the page and no Socket.IO request was refused.

        :param closing_posts: how many polling POSTs may be refused with 400: a client
            closing its engine sends a close packet, which may cross the server's own close
            and find the session gone
        """
        assert self.errors == []
        refused_posts = [e for e in self.http_errors if e[:2] == (400, "POST")]
        assert len(refused_posts) <= closing_posts
        assert [e for e in self.http_errors if e not in refused_posts] == []


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """Factory: ``new_page()`` → a ``Page`` in a context of its own (closed afterwards)."""
    contexts: List[Any] = []

    def make() -> Page:
        context = chromium.new_context()
        contexts.append(context)
        return Page(context.new_page())

    yield make
    for context in contexts:
        context.close()

"""JSONP polling with the official engine.io-client 3 browser build, in Chromium.

The page comes from our server (examples/engineio_echo.py), the client is
``tests/interop/node_modules/eio3/engine.io.js`` with ``forceJSONP: true`` over polling
only: GETs are ``<script>`` loads answered ``___eio[n]("...")``, POSTs are form
submissions (``d=...``) into a hidden iframe, and every request carries ``j=<n>``.
"""
from __future__ import annotations

from typing import Any, List
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import NODE_MODULES, ServerProcess
from tests.js.conftest import OP_TIMEOUT

pytestmark = pytest.mark.interop

BUNDLE = NODE_MODULES / "eio3" / "engine.io.js"
MESSAGES = ["hello", "héllo wörld 🎉", "quote\" back\\slash </script> \u2028", "12:34"]

EXCHANGE = """async ([messages, timeout]) => {
  const socket = eio(location.origin, {
    path: "/socket.io", transports: ["polling"], forceJSONP: true, upgrade: false,
  });
  const received = [];
  const events = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `timeout: ${JSON.stringify({ received, events })}`)), timeout);
    socket.on("open", () => {
      events.push(["open", socket.transport.name]);
      for (const m of messages) socket.send(m);
    });
    socket.on("message", (data) => {
      received.push(data);
      if (received.length === messages.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.on("error", (err) => events.push(["error", String(err)]));
    socket.on("close", (reason) => events.push(["close", reason]));
  });
  await done;
  // left open: a poll the client starts while closing would meet a forgotten sid (400)
  return { received, events, transport: socket.transport.name, sid: socket.id };
}"""


def test_jsonp_polling_with_engine_io_client_3(new_page):
    if not BUNDLE.is_file():
        pytest.fail("engine.io-client@3 is missing: run `npm ci --prefix tests/interop`")
    server = ServerProcess("engineio_echo.py", "--origins", "*")
    try:
        page = new_page()
        answers: List[Any] = []
        page.page.on("response", lambda r: answers.append(r) if "EIO=" in r.url else None)
        page.page.goto(server.url + "/")  # a 404 page, but of the server's origin
        page.page.add_script_tag(content=BUNDLE.read_text(encoding="utf-8"))
        result = page.page.evaluate(EXCHANGE, [MESSAGES, OP_TIMEOUT])
        bodies = [(a.request.method, a.url, a.status,
                   a.text() if a.request.method == "GET" else a.request.post_data)
                  for a in answers]
        page.check_clean()
    finally:
        server.stop()
    assert result["received"] == MESSAGES
    assert result["transport"] == "polling"
    assert result["events"] == [["open", "polling"]]
    eio_requests = [url for url in page.requests if "EIO=" in url]
    assert eio_requests != []
    assert page.websockets == []
    for url in eio_requests:
        query = parse_qs(urlsplit(url).query)
        assert query["EIO"] == ["3"] and query["transport"] == ["polling"]
        assert query["j"][0].isdigit(), url
    gets = [b for b in bodies if b[0] == "GET"]
    posts = [b for b in bodies if b[0] == "POST"]
    assert gets != [] and posts != []
    for _, url, status, text in gets:
        index = parse_qs(urlsplit(url).query)["j"][0]
        assert status == 200
        assert text.startswith('___eio[%s]("' % index) and text.endswith('");'), text[:200]
    for _, _, status, form in posts:  # a form's urlencoded d=<payload>
        assert status == 200
        assert form.startswith("d="), form
    # the first GET is the handshake: the open packet of the session the page saw
    assert result["sid"] in gets[0][3]

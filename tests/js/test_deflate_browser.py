"""permessage-deflate with Chromium (which offers it on every websocket) and our browser
bundle, against tests/interop/deflate_app.py: the server's answer is acked back, and
messages above and below the 1024-byte threshold go both ways, direct and upgraded."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from tests.helpers import INTEROP, ServerProcess

pytestmark = pytest.mark.interop

#: the page's side: connect, ask what was agreed, echo big and small messages, get a big one
SCENARIO = """([url, transports]) => new Promise((resolve, reject) => {
  const s = io(url, {transports, forceNew: true, reconnection: false});
  const fail = (what) => setTimeout(() => reject(new Error("timeout: " + what)), 10000);
  const ask = (...args) => new Promise((res) => s.emit(...args, (...r) => res(r)));
  const upgraded = () => new Promise((res) => {
    if (s.io.engine.transport.name === "websocket") res();
    else s.io.engine.once("upgrade", () => res());
  });
  fail("the scenario");
  s.on("connect_error", (err) => reject(err));
  s.on("connect", async () => {
    await upgraded();
    const big = "x".repeat(5000) + "\\u00e9".repeat(1000);
    const [extensions] = await ask("extensions");
    const [echoedBig] = await ask("ack-echo", big);
    const [echoedSmall] = await ask("ack-echo", "small");
    const bytes = new Uint8Array(4096).fill(7);
    const [echoedBin] = await ask("ack-echo", bytes);
    const gotBig = new Promise((res) => s.once("big", res));
    s.emit("ask-big", 20000);
    const bigObject = await gotBig;
    const bin = new Uint8Array(echoedBin);
    resolve({extensions, transport: s.io.engine.transport.name,
             echoedBig: echoedBig === big, echoedSmall: echoedSmall === "small",
             binary: bin.length === 4096 && bin.every((b) => b === 7),
             items: bigObject.items.length});
    s.close();
  });
})"""


@pytest.fixture(scope="module", params=["no-takeover", "takeover"])
def server(request) -> Iterator[Any]:
    options = {} if request.param == "no-takeover" else {"server_no_context_takeover": False}
    proc = ServerProcess(str(INTEROP / "deflate_app.py"), "--options", json.dumps(options))
    proc.answer = ("permessage-deflate; server_no_context_takeover"
                   if request.param == "no-takeover" else "permessage-deflate")
    yield proc
    proc.stop()


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]],
                         ids=["websocket", "upgrade"])
def test_chromium_negotiates_and_exchanges(server: Any, new_page: Any, transports: list) -> None:
    page = new_page().open(server)
    result = page.page.evaluate(SCENARIO, [server.url, transports])
    assert result == {"extensions": server.answer, "transport": "websocket",
                      "echoedBig": True, "echoedSmall": True, "binary": True, "items": 1428}
    page.check_clean()

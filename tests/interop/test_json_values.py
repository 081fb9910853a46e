"""JSON values only JavaScript's edges produce (lone surrogates, a number beyond a double,
NaN), broadcast from one official client to a socket.io-client 4 and a 2: our server with
both JSON back ends, side by side with the Node reference server."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from tests.helpers import ServerProcess
from tests.test_client import NodeServer

pytestmark = pytest.mark.interop

JSON_APP = Path(__file__).resolve().parents[1] / "transports" / "json_app.py"

EXPECTED_BROADCASTS = ["\ud83d", ["a\udc00b", {"\udfff": "😀x\ud800"}], None, "last"]


def start(kind: str) -> Any:
    if kind == "reference":
        return NodeServer()
    if kind == "ours-stdlib":  # the conformance app's events, on the standard library
        return ServerProcess(JSON_APP, "--json", "stdlib")
    return ServerProcess("conformance_app.py")


@pytest.fixture(scope="module")
def reference() -> Iterator[NodeServer]:
    server = NodeServer()
    yield server
    server.stop()


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["ws", "polling"])
@pytest.mark.parametrize("kind", ["ours-default", "ours-stdlib"])
def test_edge_values_reach_both_client_generations_as_from_node(
        node, reference, kind: str, transports: list) -> None:
    config: Dict[str, Any] = {"transports": transports, "timeout_ms": 20000}
    expected = node("json_values.js", dict(config, url=reference.url))
    server = start(kind)
    try:
        seen = node("json_values.js", dict(config, url=server.url))
    finally:
        logs = server.stop()
    assert expected["r4"] == expected["r2"] == EXPECTED_BROADCASTS  # the reference itself
    assert seen["r4"] == EXPECTED_BROADCASTS
    assert seen["r2"] == EXPECTED_BROADCASTS
    assert seen["acks"] == {"r4": ["\udc00", 5], "r2": ["\udc00", 5]}
    assert seen["connected"] == {"sender": True, "r4": True, "r2": True, "bad": False}
    assert seen == expected  # the NaN sender's disconnect reason too
    assert "Traceback" not in logs

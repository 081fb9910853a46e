"""JSON edge values across nodes through a real redis-server: a room named with a lone
surrogate (a client may choose any string), lone surrogates in the payload, and a
non-finite number from the write-only emitter."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.adapter.test_redis import Cluster, names

pytestmark = pytest.mark.interop

ROOM = "\ud83d-room"


def test_lone_surrogates_and_infinity_cross_nodes(redis_server, node, tmp_path) -> None:
    cluster = Cluster(redis_server)
    script = tmp_path / "emit.py"
    script.write_text(
        "import sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from sio_core.adapter.redis import Emitter\n"
        "Emitter(sys.argv[1]).to('\\ud83d-room').emit('headline', '\\ud800', float('inf'))\n")
    root = str(Path(__file__).resolve().parents[2])
    try:
        out = node("cluster_client.js", {
            "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2)},
            "steps": [
                {"do": "emit", "client": "a", "event": "join", "args": [ROOM], "ack": True},
                {"do": "emit", "client": "c", "event": "join", "args": [ROOM], "ack": True},
                {"do": "emit", "client": "b", "event": "to-room",
                 "args": [ROOM, ["\udc00", {"k": "\ud800x"}]]},
                {"do": "wait", "client": "a", "event": "room-msg"},
                {"do": "wait", "client": "c", "event": "room-msg"},
                {"do": "exec", "cmd": [sys.executable, str(script), redis_server.url, root]},
                {"do": "wait", "client": "a", "event": "headline"},
                {"do": "wait", "client": "c", "event": "headline"},
            ]})
    finally:
        cluster.stop()
        logs = "".join(n.output for n in cluster.nodes)
    received = out["received"]
    for client in ("a", "c"):
        assert names(received[client], "room-msg") == [[["\udc00", {"k": "\ud800x"}]]]
        assert names(received[client], "headline") == [["\ud800", None]]
    assert names(received["b"], "headline") == []
    assert "Traceback" not in logs

"""examples/cluster/nginx.conf in front of three nodes: long-polling sessions stay on the
node that created them, new sessions are spread, and Redis joins the nodes.

Needs Debian's ``nginx`` (not pip-installable); the test fails, not skips, without it.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.adapter.test_redis import Cluster, names
from tests.helpers import ROOT, free_port, wait_for_port

TEMPLATE = ROOT / "examples" / "cluster" / "nginx.conf"

pytestmark = pytest.mark.interop


def start_nginx(run: Path, ports: list, listen: int) -> subprocess.Popen:
    """nginx with the example's config, the placeholders replaced as start.sh does."""
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if binary is None:
        pytest.fail("nginx is not installed: `apt-get install nginx` (Debian) for this test")
    conf = TEMPLATE.read_text()
    for i, port in enumerate(ports, 1):
        conf = conf.replace(f"__PORT{i}__", str(port))
    conf = conf.replace("__LISTEN__", str(listen))
    assert "__" not in conf
    (run / "tmp").mkdir()
    (run / "tmp").chmod(0o777)
    (run / "nginx.conf").write_text(conf)
    proc = subprocess.Popen([binary, "-p", str(run), "-c", str(run / "nginx.conf"),
                             "-e", str(run / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(listen, proc=proc)
    return proc


def test_polling_clients_through_nginx_stick_to_their_node(redis_server, node,
                                                           tmp_path) -> None:
    cluster = Cluster(redis_server, tag_sids=True)
    listen = free_port()
    proxy = None
    try:
        proxy = start_nginx(tmp_path, [n.port for n in cluster.nodes], listen)
        url = f"http://127.0.0.1:{listen}"
        clients = [f"c{i}" for i in range(6)]
        out = node("cluster_client.js", {
            "transports": ["polling"], "timeout_ms": 25000,
            "clients": {name: url for name in clients},
            "steps": [*({"do": "emit", "client": n, "event": "node", "ack": True, "as": n}
                        for n in clients),
                      {"do": "emit", "client": "c0", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "c1", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "c5", "event": "to-room", "args": ["r", 7]},
                      *({"do": "wait", "client": n, "event": "room-msg"} for n in ("c0", "c1")),
                      {"do": "emit", "client": "c2", "event": "burst", "args": [100]},
                      *({"do": "wait", "client": n, "event": "seq", "count": 100}
                        for n in clients),
                      {"do": "emit", "client": "c3", "event": "list-clients", "ack": True,
                       "as": "all"}]})
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        cluster.stop()
    res, received = out["results"], out["received"]
    # six handshakes, round-robin (no sid yet): two sessions per node
    assert sorted(res[n] for n in clients) == sorted([n.port for n in cluster.nodes] * 2)
    assert res["all"] == sorted(res["ids"].values())
    assert [names(received[n], "room-msg") for n in clients] == [[[7]], [[7]], [], [], [], []]
    # every poll of a session reached its node: nothing lost, nothing out of order
    assert all(names(received[n], "seq") == [[i] for i in range(100)] for n in clients)

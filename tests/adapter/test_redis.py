"""Several server processes sharing rooms through a real redis-server, driven by
socket.io-client@4 clients spread over them."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
import redis

from tests.helpers import RedisServer, ServerProcess
from tests.jsonlines import JsonLines

CLUSTER_APP = Path(__file__).with_name("cluster_app.py")

pytestmark = pytest.mark.interop


class Cluster:
    """``nodes`` cluster_app.py processes; ``forms[i]`` is how node i builds its adapter;
    with ``tag_sids`` node i's session ids start with ``n<i>-`` (as nginx.conf expects)."""

    def __init__(self, redis: RedisServer, nodes: int = 3, channel: str = "socket.io",
                 forms: tuple = (), tag_sids: bool = False) -> None:
        self.redis = redis
        forms = forms or ("factory",) * nodes
        self.nodes = [ServerProcess(CLUSTER_APP, "--redis", redis.url, "--channel", channel,
                                    "--adapter-form", form,
                                    *(("--sid-prefix", f"n{i}") if tag_sids else ()))
                      for i, form in enumerate(forms, 1)]

    def url(self, i: int) -> str:
        return self.nodes[i].url

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture
def cluster(redis_server):
    c = Cluster(redis_server)
    yield c
    c.stop()


def names(events, event):
    return [e[1:] for e in events if e[0] == event]


def test_broadcast_reaches_every_other_client_on_every_node_once(cluster, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2),
                    "a2": cluster.url(0)},
        "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["x"]},
                  {"do": "wait", "client": "b", "event": "bcast"},
                  {"do": "wait", "client": "c", "event": "bcast"},
                  {"do": "wait", "client": "a2", "event": "bcast"},
                  {"do": "quiet", "ms": 300}]})
    received = out["received"]
    assert names(received["b"], "bcast") == [["x"]]
    assert names(received["c"], "bcast") == [["x"]]
    assert names(received["a2"], "bcast") == [["x"]]
    assert names(received["a"], "bcast") == []


def test_a_burst_of_broadcasts_arrives_complete_and_in_order_on_other_nodes(cluster,
                                                                           node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2)},
        "steps": [{"do": "emit", "client": "a", "event": "burst", "args": [500]},
                  {"do": "wait", "client": "b", "event": "seq", "count": 500},
                  {"do": "wait", "client": "c", "event": "seq", "count": 500},
                  {"do": "quiet", "ms": 200}]})
    for name in "abc":
        assert names(out["received"][name], "seq") == [[n] for n in range(500)]


def test_rooms_union_except_and_local(cluster, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2),
                    "a2": cluster.url(0)},
        "steps": [{"do": "emit", "client": "a", "event": "join", "args": ["r1"], "ack": True},
                  {"do": "emit", "client": "b", "event": "join", "args": ["r2"], "ack": True},
                  {"do": "emit", "client": "c", "event": "to-rooms", "args": [["r1", "r2"], 1]},
                  {"do": "wait", "client": "a", "event": "multi"},
                  {"do": "wait", "client": "b", "event": "multi"},
                  {"do": "emit", "client": "c", "event": "bcast-except", "args": ["r1", 2]},
                  {"do": "wait", "client": "b", "event": "exc"},
                  {"do": "wait", "client": "c", "event": "exc"},
                  {"do": "wait", "client": "a2", "event": "exc"},
                  {"do": "emit", "client": "a", "event": "local-bcast", "args": [3]},
                  {"do": "wait", "client": "a2", "event": "lbcast"},
                  {"do": "emit", "client": "b", "event": "to-room", "args": ["r1", 4]},
                  {"do": "wait", "client": "a", "event": "room-msg"},
                  {"do": "quiet", "ms": 300}]})
    r = out["received"]
    assert names(r["a"], "multi") == [[1]] and names(r["b"], "multi") == [[1]]
    assert names(r["c"], "multi") == [] and names(r["a2"], "multi") == []
    assert names(r["a"], "exc") == []
    assert [names(r[n], "exc") for n in ("b", "c", "a2")] == [[[2]]] * 3
    assert names(r["a"], "lbcast") == [[3]] and names(r["a2"], "lbcast") == [[3]]
    assert names(r["b"], "lbcast") == [] and names(r["c"], "lbcast") == []
    assert names(r["a"], "room-msg") == [[4]]


def test_queries_and_remote_room_operations_across_nodes(cluster, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2)},
        "steps": [{"do": "emit", "client": "b", "event": "join", "args": ["r"], "ack": True},
                  {"do": "emit", "client": "c", "event": "join", "args": ["r"], "ack": True},
                  {"do": "emit", "client": "a", "event": "list-clients", "ack": True,
                   "as": "all"},
                  {"do": "emit", "client": "a", "event": "list-room", "args": ["r"],
                   "ack": True, "as": "room"},
                  {"do": "emit", "client": "a", "event": "fetch", "args": ["r"], "ack": True,
                   "as": "fetched"},
                  {"do": "emit", "client": "a", "event": "sockets-join", "args": ["r", "r9"],
                   "ack": True, "as": "joined"},
                  {"do": "emit", "client": "b", "event": "my-rooms", "ack": True,
                   "as": "b_rooms", "until": {"contains": ["r9"]}},
                  {"do": "emit", "client": "a", "event": "sockets-leave", "args": ["r", "r"],
                   "ack": True, "as": "left"},
                  {"do": "emit", "client": "c", "event": "my-rooms", "ack": True,
                   "as": "c_rooms", "until": {"contains": ["r9"], "lacks": ["r"]}},
                  {"do": "emit", "client": "a", "event": "disconnect-room", "args": ["r9"],
                   "ack": True, "as": "kicked"},
                  {"do": "wait-disconnect", "client": "b"},
                  {"do": "wait-disconnect", "client": "c"},
                  {"do": "emit", "client": "a", "event": "list-clients", "ack": True,
                   "as": "after", "until": {"lacks": ["$id:b", "$id:c"]}}]})
    res = out["results"]
    ids = res["ids"]
    assert res["all"] == sorted(ids.values())
    assert res["room"] == sorted([ids["b"], ids["c"]])
    assert res["fetched"] == sorted([ids["b"], ids["c"]])
    assert res["b_rooms"] == sorted([ids["b"], "r", "r9"])
    assert res["c_rooms"] == sorted([ids["c"], "r9"])
    assert res["after"] == [ids["a"]]


@pytest.mark.parametrize("forms", [("instance",) * 3, ("instance", "factory", "instance")],
                         ids=["instance", "mixed"])
def test_template_adapter_instance_serves_every_namespace_across_nodes(redis_server, node,
                                                                        forms) -> None:
    """``Server(adapter=RedisAdapter(url=...))``: one adapter per namespace, each crossing
    nodes, alone or next to nodes built with ``RedisAdapter.factory(url=...)``."""
    cluster = Cluster(redis_server, forms=forms)
    chat = {"auth": {"token": "secret"}}
    try:
        out = node("cluster_client.js", {
            "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2),
                        "ca": dict(chat, url=cluster.url(0) + "/chat"),
                        "cb": dict(chat, url=cluster.url(1) + "/chat"),
                        "cc": dict(chat, url=cluster.url(2) + "/chat")},
            "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["root"]},
                      {"do": "wait", "client": "b", "event": "bcast"},
                      {"do": "wait", "client": "c", "event": "bcast"},
                      {"do": "emit", "client": "ca", "event": "broadcast", "args": ["chat"]},
                      {"do": "wait", "client": "cb", "event": "bcast"},
                      {"do": "wait", "client": "cc", "event": "bcast"},
                      {"do": "emit", "client": "b", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "cc", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "ca", "event": "to-room", "args": ["r", 1]},
                      {"do": "wait", "client": "cc", "event": "room-msg"},
                      {"do": "emit", "client": "a", "event": "to-room", "args": ["r", 2]},
                      {"do": "wait", "client": "b", "event": "room-msg"},
                      {"do": "emit", "client": "c", "event": "list-clients", "ack": True,
                       "as": "all"},
                      {"do": "quiet", "ms": 300}]})
    finally:
        cluster.stop()
    r, res = out["received"], out["results"]
    assert [names(r[n], "bcast") for n in ("a", "b", "c")] == [[], [["root"]], [["root"]]]
    assert [names(r[n], "bcast") for n in ("ca", "cb", "cc")] == [[], [["chat"]], [["chat"]]]
    assert names(r["cc"], "room-msg") == [[1]]
    assert names(r["b"], "room-msg") == [[2]]
    assert res["all"] == sorted(res["ids"][n] for n in ("a", "b", "c"))


def test_volatile_broadcast_reaches_every_node_once(cluster, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2),
                    "a2": cluster.url(0)},
        "steps": [{"do": "emit", "client": "a", "event": "volatile-bcast", "args": [{"v": 1}]},
                  *({"do": "wait", "client": n, "event": "vbcast"} for n in ("a", "b", "c",
                                                                              "a2")),
                  {"do": "quiet", "ms": 300}]})
    assert {n: names(e, "vbcast") for n, e in out["received"].items()} == {
        n: [[{"v": 1}]] for n in ("a", "b", "c", "a2")}


def test_acks_across_nodes(cluster, node) -> None:
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2)},
        "steps": [{"do": "emit", "client": "a", "event": "ask-all", "args": [3], "ack": True,
                   "as": "all"},
                  {"do": "emit", "client": "a", "event": "call-sid", "args": ["$id:c"],
                   "ack": True, "as": "one"}]})
    res = out["results"]
    assert res["all"] == {"error": None, "responses": ["a", "b", "c"]}
    assert res["one"] == {"answer": ["c"]}


def test_acks_from_a_room_across_nodes(cluster, node) -> None:
    """``io.to(room).timeout(t).emit(..., callback)``: the room's members on every node
    answer, nobody else; an empty room answers with no responses."""
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2),
                    "a2": cluster.url(0)},
        "steps": [{"do": "emit", "client": "a2", "event": "join", "args": ["r"], "ack": True},
                  {"do": "emit", "client": "c", "event": "join", "args": ["r"], "ack": True},
                  {"do": "emit", "client": "a", "event": "ask-room", "args": ["r", 3],
                   "ack": True, "as": "room"},
                  {"do": "emit", "client": "b", "event": "ask-room", "args": ["nobody", 3],
                   "ack": True, "as": "empty"}]})
    res = out["results"]
    assert res["room"] == {"error": None, "responses": ["a2", "c"]}
    assert res["empty"] == {"error": None, "responses": []}
    assert [names(out["received"][n], "poll") for n in ("a", "b")] == [[], []]


def test_write_only_emitter_from_a_plain_process(cluster, node, tmp_path) -> None:
    script = tmp_path / "emit.py"
    script.write_text(
        "import sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from sio_core.adapter.redis import Emitter\n"
        "Emitter(sys.argv[1]).to('news').emit('headline', {'t': 'hi'}, b'\\x00\\x01')\n")
    root = str(Path(__file__).resolve().parents[2])
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1), "c": cluster.url(2)},
        "steps": [{"do": "emit", "client": "a", "event": "join", "args": ["news"], "ack": True},
                  {"do": "emit", "client": "c", "event": "join", "args": ["news"], "ack": True},
                  {"do": "exec", "cmd": [sys.executable, str(script), cluster.redis.url, root]},
                  {"do": "wait", "client": "a", "event": "headline"},
                  {"do": "wait", "client": "c", "event": "headline"},
                  {"do": "quiet", "ms": 200}]})
    r = out["received"]
    assert names(r["a"], "headline") == [[{"t": "hi"}, {"type": "Buffer", "data": [0, 1]}]]
    assert names(r["c"], "headline") == names(r["a"], "headline")
    assert names(r["b"], "headline") == []


def test_channel_prefix_separates_clusters(redis_server, node) -> None:
    one = Cluster(redis_server, nodes=2, channel="one")
    two = Cluster(redis_server, nodes=1, channel="two")
    try:
        out = node("cluster_client.js", {
            "clients": {"a": one.url(0), "b": one.url(1), "x": two.url(0)},
            "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["p"]},
                      {"do": "wait", "client": "b", "event": "bcast"},
                      {"do": "quiet", "ms": 300}]})
    finally:
        one.stop()
        two.stop()
    assert names(out["received"]["b"], "bcast") == [["p"]]
    assert names(out["received"]["x"], "bcast") == []


def test_a_killed_node_does_not_disturb_the_others(cluster, node) -> None:
    victim = cluster.nodes[2]
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=5)
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0), "b": cluster.url(1)},
        "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["still"]},
                  {"do": "wait", "client": "b", "event": "bcast"},
                  {"do": "emit", "client": "b", "event": "list-clients", "ack": True,
                   "as": "all"}]})
    assert names(out["received"]["b"], "bcast") == [["still"]]
    assert out["results"]["all"] == sorted(out["results"]["ids"].values())


def test_redis_restart_is_survived_and_outage_emits_fail_loudly(cluster, node) -> None:
    redis = cluster.redis
    redis.stop()
    out = node("cluster_client.js", {
        "clients": {"a": cluster.url(0)},
        "steps": [{"do": "emit", "client": "a", "event": "emit-safe", "args": [1], "ack": True,
                   "as": "during"}]}, timeout=20)
    assert out["results"]["during"]["error"] == "broker unavailable"
    redis.start()
    recovered = None
    for _attempt in range(20):  # the listener retries with backoff of at most 5 s
        result = node("cluster_client.js", {
            "clients": {"a": cluster.url(0), "b": cluster.url(1)},
            "steps": [{"do": "emit", "client": "a", "event": "broadcast", "args": ["back"]},
                      {"do": "quiet", "ms": 500}]})
        if names(result["received"]["b"], "bcast") == [["back"]]:
            recovered = result
            break
    assert recovered is not None
    logs = cluster.nodes[0].stop()
    assert "lost Redis" in logs
    assert "reachable again" in logs


# -- inside one node: in-process servers (tests/adapter/inproc_node.py) on the real Redis --

INPROC_NODE = Path(__file__).with_name("inproc_node.py")


def inproc_node(redis: RedisServer, role: str, clients: int, **cfg) -> JsonLines:
    """inproc_node.py as ``role`` with ``clients`` test clients, on ``redis``."""
    cfg.update(url=redis.url, channel="socket.io", role=role, clients=clients)
    return JsonLines(INPROC_NODE, cfg)


def test_a_broadcast_is_encoded_once_for_every_socket_on_every_node(redis_server) -> None:
    receiver = inproc_node(redis_server, "receiver", 40)
    try:
        assert len(receiver.line()["ids"]) == 40
        sender = inproc_node(redis_server, "sender", 60)
        try:
            sent = sender.line()
            assert sender.finish() == 0
        finally:
            sender.stop()
        got = receiver.line()
    finally:
        receiver.stop()
    assert sent["encodes"] == ["news"]
    assert sent["received"] == [{"n": 1}] * 60
    assert got == {"encodes": 0, "received": [{"n": 1}] * 40}
    # the sender was built with Server(adapter=RedisAdapter(url=...)): a template
    assert sent["adapters"] == {"types": ["RedisAdapter", "RedisAdapter"], "distinct": True,
                                "namespaces": ["/", "/chat"], "template_unbound": True,
                                "settings_copied": [True, True]}


def test_queries_return_after_request_timeout_when_a_node_stays_mute(redis_server) -> None:
    """A subscriber of ``<prefix>#request`` that never answers counts as a node: queries
    wait ``request_timeout`` for it, then return what this node and the others had."""
    mute = redis.Redis.from_url(redis_server.url).pubsub()
    mute.subscribe("socket.io#request")
    assert mute.get_message(timeout=5)["type"] == "subscribe"
    answering = inproc_node(redis_server, "receiver", 2, wait=30)
    try:
        remote_ids = answering.line()["ids"]
        querying = inproc_node(redis_server, "query", 3, request_timeout=1.0)
        try:
            result = querying.line(timeout=30)
        finally:
            querying.stop()
    finally:
        answering.stop()
    expected = sorted(result["local"] + remote_ids)
    assert len(expected) == 5
    assert result["results"] == {"all_sockets": expected, "clients": expected,
                                 "fetch_sockets": expected}
    for name, seconds in result["elapsed"].items():
        assert 0.95 <= seconds <= 1.0 + 1.5, (name, seconds)
    asked = [mute.get_message(timeout=2) for _ in range(3)]
    assert [m and m["channel"] for m in asked] == [b"socket.io#request"] * 3
    mute.close()


def test_conformance_app_instances_sharing_redis(redis_server, node) -> None:
    """``examples/conformance_app.py --redis URL --channel P``: the contract's rooms,
    broadcast, private messages and list-clients span the instances."""
    nodes = [ServerProcess("conformance_app.py", "--redis", redis_server.url,
                           "--channel", "conf") for _ in range(2)]
    try:
        out = node("cluster_client.js", {
            "clients": {"a": nodes[0].url, "b": nodes[1].url, "b2": nodes[1].url},
            "steps": [{"do": "emit", "client": "a", "event": "join", "args": ["r"],
                       "ack": True, "as": "a_rooms"},
                      {"do": "emit", "client": "b", "event": "join", "args": ["r"],
                       "ack": True},
                      {"do": "emit", "client": "b", "event": "to-room", "args": ["r", 1]},
                      {"do": "wait", "client": "a", "event": "room-msg"},
                      {"do": "wait", "client": "b", "event": "room-msg"},
                      {"do": "emit", "client": "a", "event": "to-others-in-room",
                       "args": ["r", 2]},
                      {"do": "wait", "client": "b", "event": "room-msg", "count": 2},
                      {"do": "emit", "client": "b2", "event": "broadcast", "args": ["hi"]},
                      {"do": "wait", "client": "a", "event": "bcast"},
                      {"do": "wait", "client": "b", "event": "bcast"},
                      {"do": "emit", "client": "b", "event": "private",
                       "args": ["$id:a", "psst"]},
                      {"do": "wait", "client": "a", "event": "private"},
                      {"do": "emit", "client": "a", "event": "list-clients", "ack": True,
                       "as": "from_a"},
                      {"do": "emit", "client": "b", "event": "list-clients", "ack": True,
                       "as": "from_b"},
                      {"do": "quiet", "ms": 300}]})
    finally:
        for server in nodes:
            server.stop()
    r, res = out["received"], out["results"]
    ids = res["ids"]
    assert res["a_rooms"] == sorted([ids["a"], "r"])
    assert names(r["a"], "room-msg") == [[1]]
    assert names(r["b"], "room-msg") == [[1], [2]]
    assert names(r["b2"], "room-msg") == []
    assert [names(r[n], "bcast") for n in ("a", "b", "b2")] == [[["hi"]], [["hi"]], []]
    assert names(r["a"], "private") == [[{"from": ids["b"], "payload": "psst"}]]
    assert names(r["b2"], "private") == []
    assert res["from_a"] == res["from_b"] == sorted(ids.values())

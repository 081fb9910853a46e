"""socket.io-client 2 (EIO 3) and 4 (EIO 4) against examples/conformance_app.py.

Each item of the conformance app contract (conformance-app.md) is checked from the
outside with the official npm clients, over websocket only, polling only and polling with
upgrade. tests/interop/sio_scenario.js runs the scenarios; one node process runs all the
scenarios of one (client, transports) pair against a server shared by the module, and the
tests below assert on its report. Scenarios that read server-wide state (list-clients,
last-disconnect-reason) get a server of their own.
"""
from __future__ import annotations

import base64
import http.client
import json
import subprocess
import uuid
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from tests.helpers import INTEROP, ServerProcess, node_result, require_node

pytestmark = pytest.mark.interop

SCRIPT = "sio_scenario.js"
TRANSPORTS = (["websocket"], ["polling"], ["polling", "websocket"])
COMBOS = [pytest.param(client, transports, id=f"sio{client}-{'+'.join(transports)}")
          for client in (2, 4) for transports in TRANSPORTS]

BLOB = bytes(range(256))
SMALL = b"\x00\x01\x02\xfe\xff"
ECHO_CASES: List[List[Any]] = [
    ["plain ascii"],
    [],
    [0, 1, -1, 2**53 - 1, -(2**53 - 1), 3.5, -0.25, 0.1, 1e-7, 1.5e300, True, False, None],
    ["", "12:34 looks like a length prefix", "record\x1eseparator", "quote\" back\\slash /",
     "controls \n\t\r\x00\x01\x1f", "b4AAEC"],
    ["héllo wörld", "日本語のテキスト", "emoji 🎉👍🏽 family 👨\u200d👩\u200d👧", "astral 𝄞"],
    [{"nested": {"deep": [1, {"k": [None, "v"]}], "empty": {}, "list": []}}, [[[]]], {}],
    [{"_placeholder": True, "num": 0}],
    [BLOB],
    [{"file": BLOB, "meta": {"parts": [SMALL, "text", b"\xff" * 3], "n": 1}},
     [SMALL, [BLOB, {"x": SMALL}]], "after the binary"],
    [b"", {"empty": b""}],
    [b"%d" % i for i in range(10)],  # both clients refuse packets with more than 10
    ["x" * 100_000],
    ["é🎉" * 20_000],
]
ACK_CASES: List[List[Any]] = [
    ["a", 1, {"b": [True, None]}],
    [],
    [None],
    [BLOB, {"nested": [SMALL, {"deeper": SMALL}]}, "tail"],
    ["🎉 ünïcode", 2.5, [b"", "x"]],
]
ANSWER: List[Any] = [7, "seven 🎉", {"raw": SMALL}, BLOB]
ROOM_PAYLOADS: List[Any] = [{"text": "to-room ✓", "bin": SMALL}, [BLOB, "to-others"]]
BROADCAST_PAYLOAD: Any = {"all": BLOB, "text": "ça va"}
PRIVATE_PAYLOAD: Any = {"secret": SMALL, "n": 1}
MESSAGES: List[Any] = ["hi", 42, "héllo 🎉"]
CHAT_CASES: List[List[Any]] = [["hello /chat"], [{"bin": SMALL, "text": "ünïcode 🎉"}, BLOB]]
FANOUT = 50
ORDERED = 1000

SHARED_SCENARIOS = ["welcome", "echo", "ack-echo", "ask-client", "rooms", "to-room",
                    "broadcast", "private", "message", "forbidden", "chat", "chat-wrong-token",
                    "namespaces-separate", "ordered", "fanout"]


def enc(value: Any) -> Any:
    """bytes → {"$bin": base64}, the form sio_scenario.js turns into Buffers."""
    if isinstance(value, bytes):
        return {"$bin": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [enc(v) for v in value]
    if isinstance(value, dict):
        return {k: enc(v) for k, v in value.items()}
    return value


def dec(value: Any) -> Any:
    """The reverse of enc, for what the clients received."""
    if isinstance(value, list):
        return [dec(v) for v in value]
    if isinstance(value, dict):
        if list(value) == ["$bin"]:
            return base64.b64decode(value["$bin"])
        return {k: dec(v) for k, v in value.items()}
    return value


def run_node(config: dict, timeout: float = 60.0) -> dict:
    """Run sio_scenario.js with ``config``; return the JSON of its last stdout line."""
    require_node()
    proc = subprocess.run(["node", str(INTEROP / SCRIPT), "-"], input=json.dumps(config).encode(),
                          cwd=str(INTEROP), capture_output=True, timeout=timeout)
    return node_result(SCRIPT, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess("conformance_app.py")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def batch(server: ServerProcess) -> Callable[[int, List[str]], dict]:
    """All SHARED_SCENARIOS of one (client, transports) pair in one node run, memoized."""
    cache: Dict[Tuple[int, Tuple[str, ...]], Any] = {}

    def get(client: int, transports: List[str]) -> dict:
        key = (client, tuple(transports))
        if key not in cache:
            config = {
                "url": server.url, "client": client, "transports": transports,
                "scenarios": SHARED_SCENARIOS, "tag": uuid.uuid4().hex[:8],
                "timeout_ms": 60_000, "echo_cases": enc(ECHO_CASES),
                "ack_cases": enc(ACK_CASES), "answer": enc(ANSWER),
                "room_payloads": enc(ROOM_PAYLOADS),
                "broadcast_payload": enc(BROADCAST_PAYLOAD),
                "private_payload": enc(PRIVATE_PAYLOAD), "messages": MESSAGES,
                "chat_cases": enc(CHAT_CASES), "count": ORDERED, "clients": FANOUT,
            }
            try:
                cache[key] = run_node(config, timeout=90)
            except Exception as exc:  # every test of the pair reports it, none reruns it
                cache[key] = exc
        if isinstance(cache[key], Exception):
            raise cache[key]
        return cache[key]

    return get


def scenario(batch: Callable[[int, List[str]], dict], client: int, transports: List[str],
             name: str) -> dict:
    report = batch(client, transports)
    error = report["errors"].get(name)
    assert error is None, f"scenario {name} failed in node:\n{error}"
    return dec(report["results"][name])


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_welcome_carries_the_socket_id(batch, client, transports):
    r = scenario(batch, client, transports, "welcome")
    assert isinstance(r["id"], str) and r["id"] != ""
    assert r["welcome"] == {"id": r["id"]}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_echo_returns_the_same_args(batch, client, transports):
    r = scenario(batch, client, transports, "echo")
    assert len(r["echoes"]) == len(ECHO_CASES)
    for sent, got in zip(ECHO_CASES, r["echoes"]):
        assert got == sent
    assert r["others"] == []


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_ack_echo_acks_with_all_args(batch, client, transports):
    r = scenario(batch, client, transports, "ack-echo")
    assert r["acks"] == ACK_CASES


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_ask_client_reports_the_clients_answer(batch, client, transports):
    r = scenario(batch, client, transports, "ask-client")
    assert r["questions"] == [["how many?"]]
    assert r["answer_was"] == ANSWER
    assert r["answer_was_count"] == 1


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_join_and_leave_ack_the_sorted_rooms(batch, client, transports):
    r = scenario(batch, client, transports, "rooms")
    sid, (r1, r2, r3) = r["id"], r["rooms"]
    assert r["acks"] == [
        [sorted([sid, r1])],
        [sorted([sid, r1, r2, r3])],
        [sorted([sid, r1, r2, r3])],
        [sorted([sid, r2, r3])],
        [[sid]],
    ]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_to_room_and_to_others_in_room(batch, client, transports):
    r = scenario(batch, client, transports, "to-room")
    p1, p2 = ROOM_PAYLOADS
    assert r == {
        "a": [[p1], ["after-leave"]],  # the sender: to-room includes it, to-others not
        "b": [[p1], [p2]],  # nothing after it left
        "c": [],  # never in the room
    }


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_broadcast_reaches_every_other_client_once(batch, client, transports):
    r = scenario(batch, client, transports, "broadcast")
    assert r == {"a": [], "b": [[BROADCAST_PAYLOAD]], "c": [[BROADCAST_PAYLOAD]]}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_private_reaches_the_target_only(batch, client, transports):
    r = scenario(batch, client, transports, "private")
    assert r["a"] == []
    assert r["b"] == [[{"from": r["ids"]["a"], "payload": PRIVATE_PAYLOAD}]]
    assert r["c"] == []


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_send_is_answered_with_echo_prefix(batch, client, transports):
    r = scenario(batch, client, transports, "message")
    assert r["received"] == [["echo:hi"], ["echo:42"], ["echo:héllo 🎉"]]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_forbidden_is_refused_and_the_socket_stays_usable(batch, client, transports):
    r = scenario(batch, client, transports, "forbidden")
    assert r["alive"] == ["still-alive"]
    assert r["connected"] is True
    assert r["events"] == [["echo", "after"]]  # nothing came back for the two refused events
    if client == 2:  # a socket.io 2 server sends the middleware error to the client
        assert r["lifecycle"] == [["connect"], ["error", "forbidden event"],
                                  ["error", "forbidden event"]]
    else:  # socket.io 3+ keeps it on the server
        assert r["lifecycle"] == [["connect"]]


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_chat_admits_the_right_token(batch, client, transports):
    r = scenario(batch, client, transports, "chat")
    connected = [["connect"]]
    assert r["multiplexed"] == {"same_manager": True, "engines": 1, "chat": CHAT_CASES,
                                "main": CHAT_CASES, "chat_lifecycle": connected}
    assert r["cached"] == {"same_manager": True, "chat": CHAT_CASES,
                           "chat_lifecycle": connected}
    assert r["direct"] == {"chat": CHAT_CASES, "chat_lifecycle": connected}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_chat_refuses_a_wrong_or_missing_token(batch, client, transports):
    r = scenario(batch, client, transports, "chat-wrong-token")
    refusal = ([["error", "not authorized"]] if client == 2
               else [["connect_error", "not authorized", None]])
    assert r["multiplexed"] == {"errors": refusal, "chat_connected": False,
                                "main_alive": ["alive"], "main_connected": True}
    assert r["direct_no_token"] == {"errors": refusal, "chat_connected": False}


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_rooms_of_root_never_reach_chat(batch, client, transports):
    r = scenario(batch, client, transports, "namespaces-separate")
    (room,) = [name for name in r["main_rooms"][0] if name != r["main_id"]]
    assert r["main_rooms"] == [sorted([r["main_id"], room])]
    assert r["main_id"] != r["chat_id"]
    assert r["main"] == [["room-msg", "root-room"], ["bcast", "root-broadcast"]]
    assert r["chat"] == []


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_a_thousand_emits_come_back_in_order(batch, client, transports):
    r = scenario(batch, client, transports, "ordered")
    assert r["received"] == list(range(ORDERED))


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_fifty_clients_in_a_room_get_each_message_once(batch, client, transports):
    r = scenario(batch, client, transports, "fanout")
    assert r["ids"] == FANOUT
    assert r["room_msgs"] == [[["everyone"]]] + [[["everyone"], ["others"]]] * (FANOUT - 1)
    assert r["bcasts"] == [0] + [1] * (FANOUT - 1)


@pytest.mark.parametrize(("client", "transports"), COMBOS)
def test_list_clients_disconnect_me_and_last_disconnect_reason(start_example, client,
                                                               transports):
    app = start_example("conformance_app.py")  # fresh: these read server-wide state
    out = run_node({"url": app.url, "client": client, "transports": transports,
                    "scenario": "lifecycle", "timeout_ms": 20_000}, timeout=30)
    r = out["result"]
    a, b, c = r["ids"]["a"], r["ids"]["b"], r["ids"]["c"]
    assert r["list_all"] == [sorted([a, b, c])]
    assert r["reason_before"] == [None]
    assert r["b_reasons"] == ["io client disconnect"]
    assert r["reason_after_client_disconnect"] == "client namespace disconnect"
    assert r["list_after_b"] == [sorted([a, c])]
    assert r["disconnect_me_ack"] == []
    assert r["a_reason"] == "io server disconnect"
    assert r["a_connected"] is False
    assert r["reason_after_disconnect_me"] == ["server namespace disconnect"]
    assert r["list_after_a"] == [[c]]
    assert r["c_reason"] == "io server disconnect"  # disconnect-me without an ack
    assert r["c_events"] == []


@pytest.mark.parametrize(("client", "transports"), [
    p for p in COMBOS if p.values[1] == ["polling"] or p.values[1] == ["websocket"]])
def test_binary_as_base64_text(server, client, transports):
    """forceBase64: the clients send binary as base64 text (b64=1 / "b" packets)."""
    cases = [[BLOB], [{"file": BLOB, "parts": [SMALL, b""]}, "tail"]]
    out = run_node({"url": server.url, "client": client, "transports": transports,
                    "force_base64": True, "scenarios": ["echo", "ack-echo", "ask-client"],
                    "echo_cases": enc(cases), "ack_cases": enc(cases), "answer": enc(ANSWER),
                    "timeout_ms": 20_000}, timeout=30)
    assert out["errors"] == {}
    r = dec(out["results"])
    assert r["echo"] == {"echoes": cases, "others": []}
    assert r["ack-echo"] == {"acks": cases}
    assert r["ask-client"]["answer_was"] == ANSWER


@pytest.mark.parametrize(("client", "transports"), [
    p for p in COMBOS if p.values[1] == ["polling"] or p.values[1] == ["websocket"]])
def test_max_http_buffer_size_closes_only_that_connection(server, client, transports):
    out = run_node({"url": server.url, "client": client, "transports": transports,
                    "scenario": "max-buffer", "under": 999_000, "over": 1_100_000,
                    "timeout_ms": 20_000}, timeout=30)
    assert out["result"] == {
        "under_length": 999_000,
        # a websocket message over the limit: the socket is closed; a POST: 413
        "reason": "transport close" if transports == ["websocket"] else "transport error",
        "a_echoes": 1, "b_alive": ["alive"], "b_connected": True,
    }


def test_heartbeats_keep_both_generations_connected(server):
    """pingInterval 2 s + pingTimeout 2 s: 5 s without a drop needs working heartbeats."""
    variants = [{"client": client, "transports": transports}
                for client in (2, 4) for transports in (["websocket"], ["polling"])]
    out = run_node({"url": server.url, "scenario": "heartbeat", "variants": variants,
                    "hold_ms": 5000, "timeout_ms": 20_000}, timeout=30)
    r = out["result"]
    # EIO 4: pings the server sent; EIO 3: pongs the server answered
    assert all(got["heartbeats"] >= 2 for got in r.values()), r
    assert {label: {k: v for k, v in got.items() if k != "heartbeats"}
            for label, got in r.items()} == {
        f"sio{v['client']}-{v['transports'][0]}": {
            "lifecycle": [["connect"]], "connected": True,
            "transport": v["transports"][0], "alive": ["alive"]}
        for v in variants}


def test_unsupported_engineio_version_is_refused(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/socket.io/?EIO=5&transport=polling")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 400
    # the message is longer than the reference's "Unsupported protocol version" (README)
    assert json.loads(body) == {
        "code": 5,
        "message": "Unsupported protocol version EIO=5; this server speaks EIO=3 and EIO=4"}

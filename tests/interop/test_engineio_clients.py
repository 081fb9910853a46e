"""The official Engine.IO clients against examples/engineio_echo.py.

engine.io-client@3 speaks Engine.IO protocol 3 and engine.io-client@6 protocol 4 (npm aliases
``eio3`` and ``eio6`` in tests/interop/package.json). tests/interop/eio_client.js drives one of
them; the echo example sends every message back to its sender unchanged, text as text and
binary as binary, so what comes back must equal what went out, byte for byte and in order.

Every test runs with both protocol versions and three transport setups: long-polling only,
websocket only, and long-polling that upgrades to websocket.
"""
from __future__ import annotations

import base64
import json
import random
from typing import List, Union

import pytest

pytestmark = pytest.mark.interop

EIO_VERSIONS = [pytest.param(3, id="eio3"), pytest.param(4, id="eio4")]

#: name -> (transports, upgrade expected)
MODES = {
    "polling": (["polling"], False),
    "websocket": (["websocket"], False),
    "upgrade": (["polling", "websocket"], True),
}
MODE_NAMES = list(MODES)

#: engine.io-client's own default path is /engine.io; the server listens on /socket.io/
PATH = "/socket.io/"

#: milliseconds the node script may take, and seconds for the node process as a whole
NODE_TIMEOUT_MS = 15000
PROCESS_TIMEOUT = 30.0

#: characters of JSON config that fit in one argv string (Linux: 128 KiB) with room to spare
ARGV_LIMIT = 64 * 1024

Message = Union[str, bytes]


def wire(messages: List[Message]) -> List[dict]:
    """Messages in eio_client.js's JSON shape: {"text": ...} or {"binary": base64}."""
    out = []
    for msg in messages:
        if isinstance(msg, bytes):
            out.append({"binary": base64.b64encode(msg).decode("ascii")})
        else:
            out.append({"text": msg})
    return out


def unwire(received: List[dict]) -> List[Message]:
    """The inverse of :func:`wire`; anything else is kept as it is (and fails the compare)."""
    out: List[object] = []
    for item in received:
        if set(item) == {"text"}:
            out.append(item["text"])
        elif set(item) == {"binary"}:
            out.append(base64.b64decode(item["binary"]))
        else:
            out.append(item)
    return out


def config(server, eio: int, mode: str, **extra) -> dict:
    transports, upgrade = MODES[mode]
    cfg = {
        "url": server.url,
        "path": PATH,
        "eio": eio,
        "transports": transports,
        "upgrade": upgrade,
        "wait_upgrade": upgrade,
        "timeout_ms": NODE_TIMEOUT_MS,
    }
    cfg.update(extra)
    return cfg


def check_transport(result: dict, mode: str) -> None:
    """The session opened on the expected transport and upgraded when it should have."""
    assert result["opened"] is True, result
    assert result["sid"], result
    if mode == "websocket":
        assert result["transport_at_open"] == "websocket", result
        assert result["final_transport"] == "websocket", result
        assert result["upgraded"] is False, result
    elif mode == "polling":
        assert result["transport_at_open"] == "polling", result
        assert result["final_transport"] == "polling", result
        assert result["upgraded"] is False, result
    else:
        assert result["transport_at_open"] == "polling", result
        assert result["upgraded"] is True, result
        assert result["final_transport"] == "websocket", result


def check_echo(result: dict, sent: List[Message], mode: str) -> None:
    """Everything came back unchanged, in order, and the client closed a healthy session."""
    check_transport(result, mode)
    got = unwire(result["received"])
    assert len(got) == len(sent), (len(got), len(sent))
    for index, (expected, actual) in enumerate(zip(sent, got)):
        assert type(actual) is type(expected), (index, type(expected), actual)
        assert actual == expected, f"message {index} differs"
    assert result["errors"] == [], result["errors"]
    # the only close is the one the script asked for at the end
    assert result["close_reason"] == "forced close", result


def exchange(start_example, node, tmp_path, eio: int, mode: str, sent: List[Message]) -> dict:
    """Send ``sent`` to a fresh echo server and return what the node client reports."""
    server = start_example("engineio_echo.py")
    messages = wire(sent)
    if len(json.dumps(messages)) > ARGV_LIMIT:
        # too big for one command-line argument: the script reads the list from a file
        messages_file = tmp_path / "messages.json"
        messages_file.write_text(json.dumps(messages), encoding="utf-8")
        cfg = config(server, eio, mode, messages_file=str(messages_file))
    else:
        cfg = config(server, eio, mode, messages=messages)
    return node("eio_client.js", cfg, timeout=PROCESS_TIMEOUT)


# -- text -------------------------------------------------------------------------------------

ASCII_100K = "".join(chr(32 + i % 95) for i in range(100 * 1024))
UNICODE_100K = "héllo ✓ 😀 " * (100 * 1024 // len("héllo ✓ 😀 ".encode("utf-8")))


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_text_messages(start_example, node, tmp_path, eio, mode):
    sent: List[Message] = ["hello", "héllo ✓ 😀", "", ASCII_100K, "after the big one"]
    result = exchange(start_example, node, tmp_path, eio, mode, sent)
    check_echo(result, sent, mode)


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_large_unicode_text(start_example, node, tmp_path, eio, mode):
    # ~100 KB of UTF-8 with astral characters: Engine.IO 3 payload lengths count UTF-16 units
    assert len(UNICODE_100K.encode("utf-8")) > 99 * 1024
    sent: List[Message] = [UNICODE_100K, "😀", UNICODE_100K[::-1]]
    result = exchange(start_example, node, tmp_path, eio, mode, sent)
    check_echo(result, sent, mode)


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_text_that_looks_like_framing(start_example, node, tmp_path, eio, mode):
    # packet types, Engine.IO 3 length prefixes, Engine.IO 4 base64 markers, control characters
    # (not "\x1e": Engine.IO 4's payload separator, which the clients themselves do not escape)
    sent: List[Message] = ["4", "2probe", "3probe", "1:4", "10:4abcdefghi", "b4AAEC", "bAAEC",
                           ":", "\x00", "\n\r\t", "\ufeffbom", "\u2028\u2029", "next\u0085line",
                           '{"json": [1]}', "\\u0000", "6", "x" * 1025]
    result = exchange(start_example, node, tmp_path, eio, mode, sent)
    check_echo(result, sent, mode)


# -- binary -----------------------------------------------------------------------------------

RANDOM_100K = random.Random(20240601).randbytes(100 * 1024)


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_binary_messages(start_example, node, tmp_path, eio, mode):
    sent: List[Message] = [bytes(range(256)), b"", b"\x00", b"\x04", b"4hello", b"\xff" * 3,
                           RANDOM_100K, bytes(range(255, -1, -1))]
    result = exchange(start_example, node, tmp_path, eio, mode, sent)
    check_echo(result, sent, mode)


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_text_and_binary_interleaved(start_example, node, tmp_path, eio, mode):
    # the same content as text and as bytes must come back each as it went
    sent: List[Message] = ["abc", b"abc", "", b"", "😀", "😀".encode("utf-8"),
                           bytes(range(256)), "end"]
    result = exchange(start_example, node, tmp_path, eio, mode, sent)
    check_echo(result, sent, mode)


@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_messages_before_and_after_upgrade(start_example, node, eio):
    # messages sent while the upgrade is under way, and more once it is done, stay in order
    before: List[Message] = [f"before-{i}" for i in range(20)] + [bytes([i]) * 10 for i in range(5)]
    after: List[Message] = [f"after-{i}" for i in range(20)] + [bytes(range(256))]
    server = start_example("engineio_echo.py")
    result = node("eio_client.js",
                  config(server, eio, "upgrade", messages=wire(before), after_upgrade=wire(after)),
                  timeout=PROCESS_TIMEOUT)
    check_echo(result, before + after, "upgrade")


# -- many clients -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_concurrent_clients_keep_order(start_example, node, eio, mode):
    # 10 clients in one node process: all open first, then each sends 100 numbered messages at
    # once; every client gets exactly its own 100 back, in order
    server = start_example("engineio_echo.py")
    result = node("eio_client.js",
                  config(server, eio, mode, clients=10, count=100, messages=[{"text": "msg"}],
                         timeout_ms=25000),
                  timeout=45.0)
    clients = result["clients"]
    assert len(clients) == 10
    for client in clients:
        check_transport(client, mode)
        assert client["received_count"] == 100, client
        assert client["in_order"] is True, client
        assert client["errors"] == [], client
        assert client["close_reason"] == "forced close", client
    assert len({client["sid"] for client in clients}) == 10


# -- heartbeats -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_heartbeat_keeps_session_open(start_example, node, eio, mode):
    # pings every 0.3 s with a 0.3 s timeout: over 2 s the session sees several heartbeats (the
    # client pings in Engine.IO 3, the server in Engine.IO 4) and is never closed
    server = start_example("engineio_echo.py", "--ping-interval", "0.3", "--ping-timeout", "0.3")
    result = node("eio_client.js",
                  config(server, eio, mode, wait_close_ms=2000, timeout_ms=10000),
                  timeout=PROCESS_TIMEOUT)
    assert result["opened"] is True, result
    assert result["close_reason"] is None, result
    assert result["errors"] == [], result
    assert result["heartbeats"] >= 3, result
    if MODES[mode][1]:
        assert result["upgraded"] is True, result
        assert result["final_transport"] == "websocket", result
    else:
        assert result["final_transport"] == MODES[mode][0][0], result


# -- refused connections ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["polling", "websocket"])
@pytest.mark.parametrize("eio", EIO_VERSIONS)
def test_unknown_path_is_refused(start_example, node, eio, mode):
    # the server answers only under its path: a client elsewhere never opens a session
    server = start_example("engineio_echo.py")
    cfg = config(server, eio, mode, expect_error=True, timeout_ms=10000)
    cfg["path"] = "/not-engine-io/"
    result = node("eio_client.js", cfg, timeout=PROCESS_TIMEOUT)
    assert result["opened"] is False, result
    assert result["first_event"] in ("error", "close"), result
    assert result["close_reason"] in ("transport error", "transport close"), result

"""The protocol trace (``sio_core.debug``): ``SIO_DEBUG`` and the ``logger`` options, seen
in the output of a real server driven over loopback sockets by a raw client."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import redis

from sio_core import debug
from sio_core.adapter.redis import Emitter
from tests.helpers import ROOT, RedisServer, ServerProcess
from tests.transports.wsclient import (
    WebSocketClient,
    polling_sid,
    request,
    sio_connect,
    ws_connect,
)

APP = '''
from gevent import monkey

monkey.patch_all()

import sys

from sio_core import Server

argv = sys.argv
options = {"logger": True, "engineio_logger": True} if "--options" in argv else {}
if "--redis" in argv:
    from sio_core.adapter.redis import RedisAdapter

    options["adapter"] = RedisAdapter(url=argv[argv.index("--redis") + 1])
io = Server(origins="*", **options)


def on_connection(socket):
    socket.on("echo", lambda *args: args[-1](*args[:-1]))
    socket.on("bye", lambda: socket.disconnect(close=True))

    def shout(text, ack):
        io.emit("shouted", text)
        ack("done")

    socket.on("shout", shout)


io.on("connection", on_connection)
io.listen(int(argv[argv.index("--port") + 1]))
io.serve_forever()
'''

LONG = "x" * 100


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "debug_app.py"
    path.write_text(APP)
    return path


@pytest.fixture
def restore_trace() -> Iterator[None]:
    """Put the process's trace flags and the trace loggers back as they were."""
    before = debug.trace.channels()
    names = ["sio_core.debug.engine", "sio_core.debug.socket", "sio_core.debug.redis"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers),
                 logging.getLogger(n).propagate) for n in names}
    yield
    debug.disable()
    if before:
        debug.enable(before)
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def recv_until_closed(ws: WebSocketClient) -> List[object]:
    """The messages until the server closes the websocket."""
    got: List[object] = []
    while True:
        frame = ws.recv_frame()
        if frame.opcode == 0x8:
            return got
        got.append(frame.payload)


def talk(port: int) -> Dict[str, str]:
    """One polling session upgraded to websocket, an event with an ack, then the server
    disconnects the client; returns the sid and the event's text."""
    sid = polling_sid(port, 4)
    assert request(port, "POST", "EIO=4&transport=polling&sid=" + sid, b"40").status == 200
    reply = request(port, "GET", "EIO=4&transport=polling&sid=" + sid)
    assert reply.body.startswith(b"40{"), reply.body
    ws = ws_connect(port, "EIO=4&transport=websocket&sid=" + sid)
    with ws:
        ws.send("2probe")
        assert ws.recv() == "3probe"
        ws.send("5")
        event = '21["echo","%s"]' % LONG
        ws.send("4" + event)
        assert ws.recv() == '431["%s"]' % LONG
        ws.send('42["bye"]')
        assert b"41" in recv_until_closed(ws)  # the server logged before it wrote
    return {"sid": sid, "event": event}


def lines(output: str, channel: str) -> List[str]:
    prefix = "sio_core.debug.%s " % channel
    return [line[len(prefix):] for line in output.splitlines() if line.startswith(prefix)]


def run(app: Path, *args: str, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    server = ServerProcess(app, *args, env=dict({"SIO_DEBUG": ""}, **(env or {})))
    try:
        seen = talk(server.port)
    except BaseException:
        print(server.stop())  # the server's side of the failure, in pytest's report
        raise
    seen["output"] = server.stop()
    return seen


def test_sio_debug_star_traces_sessions_and_packets_of_both_layers(app: Path) -> None:
    seen = run(app, env={"SIO_DEBUG": "*"})
    sid, out = seen["sid"], seen["output"]
    engine = lines(out, "engine")
    assert "sid=%s transport=polling open EIO=4" % sid in engine, out
    assert any(re.fullmatch(r"sid=%s transport=polling send type=OPEN size=\d+" % sid, line)
               for line in engine), engine
    assert "sid=%s transport=polling recv type=MESSAGE size=1" % sid in engine, engine
    assert "sid=%s transport=websocket upgraded" % sid in engine, engine
    event_size = len(seen["event"])
    assert "sid=%s transport=websocket recv type=MESSAGE size=%d" % (sid, event_size) in engine
    assert "sid=%s transport=websocket send type=MESSAGE size=%d" % (
        sid, len('31["%s"]' % LONG)) in engine, engine
    assert "sid=%s transport=websocket closed reason=forced close" % sid in engine, engine

    socket = lines(out, "socket")
    assert "sid=%s nsp=/ recv type=CONNECT id=None size=1" % sid in socket, socket
    assert any(re.fullmatch(r"sid=%s nsp=/ connected id=\S+" % sid, line) for line in socket)
    assert "sid=%s nsp=/ recv type=EVENT id=1 size=%d" % (sid, event_size) in socket, socket
    assert "sid=%s nsp=/ send type=ACK id=1 size=%d" % (sid, len('31["%s"]' % LONG)) in socket
    assert "sid=%s nsp=/ send type=DISCONNECT id=None size=1" % sid in socket, socket
    assert any(re.fullmatch(r"sid=%s nsp=/ disconnected id=\S+ reason=server namespace "
                            r"disconnect" % sid, line) for line in socket), socket
    assert "data=" not in out  # payloads only when asked


def test_payloads_are_shown_when_asked_and_cut(app: Path) -> None:
    seen = run(app, env={"SIO_DEBUG": "socket,packets,payloads", "SIO_DEBUG_PAYLOAD_LEN": "30"})
    sid, out = seen["sid"], seen["output"]
    assert lines(out, "engine") == []  # the engine channel was not named
    socket = lines(out, "socket")
    received = [line for line in socket if " recv type=EVENT id=1 " in line]
    assert len(received) == 1, socket
    shown = repr(["echo", LONG])
    assert received[0] == "sid=%s nsp=/ recv type=EVENT id=1 size=%d data=%s...(%d more)" % (
        sid, len(seen["event"]), shown[:30], len(shown) - 30)
    sent = [line for line in socket if " send type=ACK " in line]
    assert sent and sent[0].endswith("data=%s...(%d more)" % (repr([LONG])[:30],
                                                            len(repr([LONG])) - 30)), sent
    assert LONG not in out


def test_the_logger_options_trace_without_the_environment(app: Path) -> None:
    seen = run(app, "--options")
    sid, out = seen["sid"], seen["output"]
    assert "sid=%s transport=polling open EIO=4" % sid in lines(out, "engine"), out
    assert "sid=%s nsp=/ recv type=EVENT id=1 size=%d" % (sid, len(seen["event"])) in \
        lines(out, "socket"), out
    assert "data=" not in out


def test_nothing_is_traced_when_off(app: Path) -> None:
    out = run(app)["output"]
    assert "sio_core.debug" not in out
    assert "sid=" not in out


def test_redis_messages_in_and_out(app: Path, redis_server: RedisServer) -> None:
    server = ServerProcess(app, "--redis", redis_server.url, env={"SIO_DEBUG": "redis"})
    try:
        ws, _ = sio_connect(server.port)
        with ws:
            ws.send('420["shout","hi"]')
            got = [ws.recv(), ws.recv()]
            assert '430["done"]' in got, got
            client = redis.Redis.from_url(redis_server.url)
            deadline = time.monotonic() + 5
            while not client.pubsub_numsub("socket.io#broadcast")[0][1]:
                assert time.monotonic() < deadline, "the server never subscribed"
                time.sleep(0.02)  # redis has no way to wait for a subscriber
            Emitter(redis_server.url).emit("from-afar", 1)
            assert ws.recv() == '42["from-afar",1]'
    finally:
        out = server.stop()
    red = lines(out, "redis")
    assert any(re.fullmatch(r"channel=socket\.io#broadcast send type=broadcast size=\d+", line)
               for line in red), out
    assert any(re.fullmatch(r"channel=socket\.io#broadcast recv type=broadcast size=\d+", line)
               for line in red), out
    assert lines(out, "socket") == [] and lines(out, "engine") == []


CLIENT = """
from gevent import monkey

monkey.patch_all()

import sys

from sio_core.client import SocketIOClient

client = SocketIOClient(reconnection=False)
client.connect(sys.argv[1], transports=["polling", "websocket"], wait_timeout=5)
print("ack", client.call("echo", "hi", timeout=5), flush=True)
client.disconnect()
"""


def test_the_python_client_traces_its_session(app: Path) -> None:
    server = ServerProcess(app)
    try:
        done = subprocess.run([sys.executable, "-c", CLIENT, server.url], cwd=str(ROOT),
                              env=dict(os.environ, PYTHONPATH=str(ROOT), SIO_DEBUG="client"),
                              capture_output=True, text=True, timeout=30)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "ack hi" in done.stdout
    client = lines(done.stderr, "client")
    assert client and re.fullmatch(r"sid=(\S+) transport=polling open EIO=4", client[0]), client
    sid = client[0].split()[0][len("sid="):]
    assert "sid=%s transport=polling send type=MESSAGE size=1" % sid in client, client  # 40
    assert any(re.fullmatch(r"sid=%s transport=(polling|websocket) send type=MESSAGE "
                            r"size=%d" % (sid, len('20["echo","hi"]')), line)
               for line in client), client
    assert any(re.fullmatch(r"sid=%s transport=(polling|websocket) recv type=MESSAGE "
                            r"size=%d" % (sid, len('30["hi"]')), line) for line in client)
    assert lines(done.stderr, "engine") == [] and lines(done.stderr, "socket") == []


# -- in process: the switches themselves -----------------------------------------------

def test_the_module_exports_what_it_names() -> None:
    assert [name for name in debug.__all__ if not hasattr(debug, name)] == []
    assert len(set(debug.__all__)) == len(debug.__all__)


def test_parse_knows_the_channels_and_star(caplog: pytest.LogCaptureFixture) -> None:
    assert debug.parse("engine, packets") == {"engine", "packets"}
    assert debug.parse("*") == {"engine", "socket", "packets", "redis", "client"}
    assert debug.parse("socket.io*,payloads") == {"engine", "socket", "packets", "redis",
                                                  "client", "payloads"}
    with caplog.at_level(logging.WARNING, logger="sio_core.debug"):
        assert debug.parse("engine,nonsense") == {"engine"}
    assert "unknown channel 'nonsense'" in caplog.text


def test_options_turn_on_their_layer_and_a_given_logger_gets_the_lines(
        restore_trace: None) -> None:
    debug.disable()
    debug.enable_from_options(logger=True)
    assert (debug.trace.socket_packets, debug.trace.engine, debug.trace.engine_packets) == (
        True, False, False)
    mine = logging.getLogger("tests.debug.mine")
    mine.setLevel(logging.DEBUG)
    kept: List[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = kept.append  # type: ignore[method-assign]
    mine.addHandler(handler)
    try:
        debug.enable_from_options(engineio_logger=mine)
        assert debug.trace.engine_packets and debug.trace.socket_packets
        from sio_core.engineio import Packet, PacketType

        debug.engine_packets("abc", "polling", "send", [Packet(PacketType.MESSAGE, "héllo")])
    finally:
        mine.removeHandler(handler)
    assert [r.getMessage() for r in kept] == [
        "sid=abc transport=polling send type=MESSAGE size=6"]  # bytes of its UTF-8
    debug.disable()
    assert debug.trace.channels() == set()


def test_logging_configured_after_the_import_gets_each_line_once() -> None:
    script = ("import logging\n"
              "from sio_core import debug\n"
              "debug.engine_opened('s1', 'polling', 4)\n"
              "logging.basicConfig(format='app: %(name)s %(message)s')\n"
              "debug.engine_opened('s2', 'polling', 4)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=str(ROOT), timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), SIO_DEBUG="engine"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "sio_core.debug.engine sid=s1 transport=polling open EIO=4",
        "app: sio_core.debug.engine sid=s2 transport=polling open EIO=4"]


def test_the_env_reader_takes_the_payload_length(restore_trace: None) -> None:
    debug.disable()
    debug.enable_from_env({"SIO_DEBUG": "engine,payloads", "SIO_DEBUG_PAYLOAD_LEN": "5"})
    assert debug.trace.channels() == {"engine", "payloads"}
    assert debug.trace.payload_len == 5
    assert not debug.trace.engine_packets  # "packets" not named
    debug.disable()
    debug.enable_from_env({})
    assert debug.trace.channels() == set()


def test_a_packet_the_decoder_refuses_is_still_traced(restore_trace: None,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """An application's JSON encoder may write what the decoder refuses: the line says so
    rather than failing the send."""
    debug.disable()
    debug.enable(["socket", "packets"])
    text = "2" + json.dumps({"not": "an event"})
    with caplog.at_level(logging.DEBUG, logger="sio_core.debug.socket"):
        debug.socket_sent("abc", [text])
    assert caplog.messages == ["sid=abc nsp=? send type=? id=None size=%d" % len(text)]

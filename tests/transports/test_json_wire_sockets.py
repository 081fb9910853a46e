"""JSON as JavaScript sees it, over real sockets, with both JSON back ends.

Before: a lone surrogate killed the websocket flush (the ack never came, a broadcast
reached no one) and answered the polling GET with 500; ``1e400`` was broadcast as
``Infinity`` with the standard library; ``NaN`` was accepted as input. The Node reference
server delivers ``\\ud83d`` escaped, sends ``null`` for a non-finite number and closes a
client sending ``NaN`` with ``parse error``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import ServerProcess
from tests.transports.test_polling import Polling
from tests.transports.wsclient import OP_CLOSE, ConnectionEnded, sio_connect

APP = Path(__file__).resolve().parent / "json_app.py"
TIMEOUT = 5.0


@pytest.fixture(scope="module", params=["stdlib", "default"])
def app(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    server = ServerProcess(APP, "--json", request.param)
    yield server
    output = server.stop()
    assert "Traceback" not in output, output[-3000:]
    assert "failed" not in output, output[-3000:]


def connect(app: ServerProcess, version: int = 4):
    ws, sid = sio_connect(app.port, version)
    ws.settimeout(TIMEOUT)
    return ws, sid


@pytest.mark.parametrize("version", [3, 4])
def test_websocket_ack_with_a_lone_surrogate_and_a_huge_number(app, version) -> None:
    ws, _ = connect(app, version)
    with ws:
        ws.send('421["ack-echo","\\ud83d","a\\udc00b",1e400,"\\ud83d\\ude00"]')
        assert ws.recv() == '431["\\ud83d","a\\udc00b",null,"😀"]'


def test_broadcast_of_a_lone_surrogate_and_1e400_reaches_the_others(app) -> None:
    sender, _ = connect(app)
    receiver, _ = connect(app, 3)
    with sender, receiver:
        sender.send('42["broadcast",1e400]')
        assert receiver.recv() == '42["bcast",null]'
        sender.send('42["broadcast",["\\ud83d",{"\\udfff":-1e999}]]')
        assert receiver.recv() == '42["bcast",["\\ud83d",{"\\udfff":null}]]'
        sender.send('421["ack-echo","still here"]')  # the sender was not harmed either
        assert sender.recv() == '431["still here"]'


@pytest.mark.parametrize("version, extra", [(4, ""), (3, ""), (3, "&j=0")])
def test_polling_get_carries_a_lone_surrogate(app, version, extra) -> None:
    session = Polling(app.port, version, extra)
    if version == 4:
        session.post_ok(b"40")
        assert session.get_packets()[0].startswith("40{")
    body = '421["ack-echo","\\ud83d",1e400]'
    if extra:  # JSONP: a form-encoded d= field holding a v3 payload
        from urllib.parse import quote

        payload = "%d:%s" % (len(body), body)
        session.post_ok(("d=" + quote(payload)).encode(), extra="",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        reply = session.get()
        assert reply.status == 200, reply
        text = reply.body.decode("utf-8")
        assert text.startswith("___eio[0](")
        assert '431[\\"\\\\ud83d\\",null]' in text
        return
    session.post_ok((body if version == 4 else "%d:%s" % (len(body), body)).encode())
    packets = session.get_packets()
    assert packets[-1] == '431["\\ud83d",null]'


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "'x'"])
def test_non_json_input_closes_that_client_with_parse_error(app, literal) -> None:
    bad, bad_sid = connect(app)
    watcher, _ = connect(app)
    with bad, watcher:
        bad.send('421["ack-echo",%s]' % literal)
        while True:  # no ack: the connection closes (a close frame, or just the end)
            try:
                frame = bad.recv_frame()
            except ConnectionEnded:
                break
            if frame.opcode == OP_CLOSE:
                break
            assert not frame.payload.startswith(b"43"), frame
        watcher.send('427["reason-of","%s"]' % bad_sid)
        assert watcher.recv() == '437["parse error"]'


def test_a_raw_engine_message_with_a_lone_surrogate_is_sent_as_buffer_from_sends_it(app) -> None:
    ws, _ = connect(app)
    with ws:
        ws.send('425["engine-raw","x\\ud83dy\\ud83d\\ude00"]')
        assert ws.recv() == "4x\ufffdy😀"
        assert ws.recv() == '435["sent"]'


def test_values_with_no_json_form_raise_type_error_in_the_caller(app) -> None:
    ws, _ = connect(app)
    with ws:
        ws.send('429["unencodable"]')
        outcomes, pending_acks = json.loads(ws.recv()[3:])
        assert outcomes == ["TypeError"] * 8
        assert pending_acks == 0  # no ack was registered for the emits that raised
        ws.send('4210["return-unencodable"]')  # logged; no ack, and the session lives on
        ws.send('4211["ack-echo","next"]')
        assert ws.recv() == '4311["next"]'

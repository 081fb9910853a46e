"""Hostile Socket.IO packets over a real websocket to ``tests/transports/hostile_app.py``.

A packet the protocol forbids closes that one connection (reason ``parse error``);
a packet that is well-formed but points at nothing is ignored. Either way the other
client on the server keeps being answered. The pure decoder's own unit tests are in
``test_decoder.py``; these check what the running server does with such input.
"""
from __future__ import annotations

import json
from typing import Iterator, List, Union

import pytest

from sio_core.socketio import MAX_DEPTH
from tests.helpers import ServerProcess
from tests.transports.wsclient import (
    WebSocketClient,
    assert_closed_with,
    sio_connect,
)

Message = Union[str, bytes]

PLACEHOLDER = '{"_placeholder":true,"num":%s}'


@pytest.fixture
def bystander(hostile_app: ServerProcess) -> Iterator[WebSocketClient]:
    """A well-behaved Socket.IO client of the same server."""
    ws, _ = sio_connect(hostile_app.port)
    with ws:
        yield ws


def assert_served(ws: WebSocketClient, value: str = "still served") -> None:
    """``ws`` still gets its acks."""
    ws.send('4299["echo",%s]' % json.dumps(value))
    assert ws.recv() == '4399[%s]' % json.dumps(value)


def reason_of(ws: WebSocketClient, socket_id: str) -> str:
    """Why the server disconnected ``socket_id`` (asked through ``ws``; waits for it)."""
    ws.send('4298["reason-of",%s]' % json.dumps(socket_id))
    reply = ws.recv()
    assert isinstance(reply, str) and reply.startswith("4398["), reply
    return json.loads(reply[4:])[0]


def send_all(ws: WebSocketClient, messages: List[Message]) -> None:
    for message in messages:
        ws.send(message)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- packets that close the connection --------------------------------------------------

@pytest.mark.parametrize("messages", [
    ['42{"name":"echo"}'],                                  # EVENT payload not an array
    ['42"echo"'],
    ["42[]"],                                                # no event name
    ['42[null,"x"]'],                                        # event names that are no names
    ['42[true,"x"]'],
    ['42[{"a":1},"x"]'],
    ['42[["echo"],"x"]'],
    ['42x["echo"]'],                                         # ack id that is no number
    ['421234567890123456["echo"]'],                          # ack id past 2^53
    ['43["x"]'],                                             # ACK without an id
    ['41{"reason":"x"}'],                                    # DISCONNECT with a payload
    ['40/chat,"token"'],                                     # CONNECT auth that is no object
    ["49"],                                                  # unknown packet type
    ["4"],                                                   # empty Socket.IO packet
    [b"\x01\x02"],                                           # attachment nobody announced
    ['451000000000-["echo",%s]' % PLACEHOLDER % 0],          # 10^9 attachments announced
    ['451001-["echo",%s]' % PLACEHOLDER % 0],                # one over the limit (1000)
    ['45%s-["echo"]' % ("9" * 16)],                          # a count of 16 digits
    ['45-1-["echo"]'],
    ['451-["echo",%s]' % PLACEHOLDER % 0, '42["echo","x"]'],  # text while an attachment is due
    ['451-["echo",%s]' % PLACEHOLDER % 1, b"\x01"],           # placeholder past the attachments
    ['451-["echo",%s]' % PLACEHOLDER % -1, b"\x01"],
    ['451-["echo",%s]' % PLACEHOLDER % '"0"', b"\x01"],       # placeholder num not an integer
    ['451-["echo",%s]' % PLACEHOLDER % "0.0", b"\x01"],
    ['451-["echo",%s]' % PLACEHOLDER % "true", b"\x01"],
    ['42["echo",%s]' % deep(100_000)],                       # nesting deeper than any stack
    ['42["echo",%s]' % ('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH)],
    ['42["echo",%s]' % ("9" * 5000)],                        # a number of 5000 digits
    # attachments of one packet above 10 × max_http_buffer_size together (each within it)
    ['4511-["echo",%s]' % ",".join(PLACEHOLDER % i for i in range(11))]
    + [bytes(1_000_000)] * 11,
], ids=lambda messages: repr(messages)[:60])
def test_forbidden_packet_closes_only_that_connection(hostile_app, bystander,
                                                      messages: List[Message]) -> None:
    ws, socket_id = sio_connect(hostile_app.port)
    with ws:
        send_all(ws, messages)
        assert_closed_with(ws, 1000)
    assert reason_of(bystander, socket_id) == "parse error"
    assert_served(bystander)


# found by this test: a client's "disconnect" event ran the application's disconnect
# handlers with the client's own arguments while the socket stayed connected
@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("name", ["connect", "connect_error", "disconnect", "disconnecting",
                                  "newListener", "removeListener"])
def test_reserved_event_from_a_client_closes_the_connection(hostile_app, bystander,
                                                            version: int, name: str) -> None:
    ws, socket_id = sio_connect(hostile_app.port, version)
    with ws:
        ws.send('42[%s,"forged reason"]' % json.dumps(name))
        assert_closed_with(ws, 1000)
    assert reason_of(bystander, socket_id) == "parse error"
    assert_served(bystander)


# -- packets that are ignored -----------------------------------------------------------

@pytest.mark.parametrize("version", [3, 4])
def test_packets_pointing_at_nothing_are_ignored(hostile_app, bystander, version: int) -> None:
    ws, _ = sio_connect(hostile_app.port, version)
    with ws:
        send_all(ws, [
            '42[42,"a numeric event nobody listens to"]',
            '42/never,["echo","to a namespace never joined"]',
            '41/never,',                                  # leaving a namespace never joined
            '437[1]',                                     # an ack for an id never sent
            '4377["not asked for"]',
            '41/chat,',
        ])
        assert_served(ws)  # the next frame is the answer: nothing else was sent
        assert_served(bystander)


@pytest.mark.parametrize("version", [3, 4])
def test_connect_to_many_unknown_namespaces_is_refused_each_time(hostile_app, bystander,
                                                                 version: int) -> None:
    ws, _ = sio_connect(hostile_app.port, version)
    with ws:
        for batch in range(20):  # in batches below the server's max_queue of 50
            names = ["/nope-%d-%d" % (batch, i) for i in range(25)]
            ws.send_many(["40%s," % n if version == 4 else "40%s" % n for n in names])
            if version == 4:
                expected = ['44%s,{"message":"Invalid namespace"}' % n for n in names]
            else:
                expected = ['44%s,"Invalid namespace"' % n for n in names]
            assert [ws.recv() for _ in names] == expected
        assert_served(ws)
    assert_served(bystander)


def test_largest_ack_id_below_2_53_is_answered_exactly(hostile_app) -> None:
    ws, _ = sio_connect(hostile_app.port)
    with ws:
        ws.send('42999999999999999["echo","max"]')
        assert ws.recv() == '43999999999999999["max"]'


def test_nesting_up_to_the_limit_is_echoed_and_one_more_level_closes(hostile_app,
                                                                     bystander) -> None:
    ws, socket_id = sio_connect(hostile_app.port)
    with ws:
        ws.send('421["echo",%s]' % deep(MAX_DEPTH - 1))  # the event's array is level 1
        assert ws.recv() == "431[%s]" % deep(MAX_DEPTH - 1)
        ws.send('421["echo",%s]' % deep(MAX_DEPTH))
        assert_closed_with(ws, 1000)
    assert reason_of(bystander, socket_id) == "parse error"


def test_attachments_still_due_hold_up_no_one(hostile_app, bystander) -> None:
    ws, _ = sio_connect(hostile_app.port)
    with ws:
        ws.send('452-1["echo",%s,%s]' % (PLACEHOLDER % 0, PLACEHOLDER % 1))
        ws.send(b"\x00\x01")
        assert_served(bystander, "while attachments are due")  # one of two has come
        ws.send(b"")
        assert ws.recv() == '462-1[%s,%s]' % (PLACEHOLDER % 0, PLACEHOLDER % 1)
        assert [ws.recv(), ws.recv()] == [b"\x00\x01", b""]


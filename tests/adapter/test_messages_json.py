"""Broker messages carry JSON as JavaScript writes it: room names with lone surrogates
and non-finite numbers from clients must not break a node's publish."""
from __future__ import annotations

import pytest

from sio_core.adapter.messages import (
    BrokerMessage,
    MessageError,
    MessageType,
    decode_message,
    encode_message,
)


def test_lone_surrogates_and_non_finite_numbers_survive_a_broker_message() -> None:
    message = BrokerMessage(MessageType.ACK, "node-1", "/\ud83d",
                            {"rooms": ["r\udc00", "\ud83d\ude00"], "values": [1e400, "\ud800"]},
                            (b"\x00",), "req")
    data = encode_message(message)
    assert b"\\udc00" in data and b"\\ud800" in data
    decoded = decode_message(data)
    assert decoded.nsp == "/\ud83d"
    assert decoded.body == {"rooms": ["r\udc00", "😀"], "values": [None, "\ud800"]}
    assert decoded.attachments == (b"\x00",)


def test_a_header_with_nan_is_refused() -> None:
    with pytest.raises(MessageError):
        decode_message(b'{"v":1,"t":"ack","u":"n","n":"/","b":{"x":NaN}}\n')

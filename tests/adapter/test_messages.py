"""Broker messages: pure round trips and malformed input."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.adapter.base import BroadcastOptions
from sio_core.adapter.messages import (
    BrokerMessage,
    MessageError,
    MessageType,
    decode_message,
    encode_message,
    options_from_dict,
    options_to_dict,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)


@given(mtype=st.sampled_from(list(MessageType)), uid=st.text(), nsp=st.text(),
       body=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
       attachments=st.lists(st.binary(max_size=64), max_size=4),
       request_id=st.none() | st.text(max_size=10))
def test_round_trip(mtype, uid, nsp, body, attachments, request_id) -> None:
    message = BrokerMessage(mtype, uid, nsp, body, tuple(attachments), request_id)
    assert decode_message(encode_message(message)) == message


@given(st.binary(max_size=200))
def test_garbage_raises_message_error_only(data: bytes) -> None:
    try:
        decode_message(data)
    except MessageError:
        pass


@pytest.mark.parametrize("data", [
    b"no newline",
    b'{"v":2,"t":"broadcast","u":"x","n":"/","b":{}}\n',
    b'{"v":1,"t":"nope","u":"x","n":"/","b":{}}\n',
    b'{"v":1,"t":"broadcast","u":"x","n":"/","b":[]}\n',
    b'{"v":1,"t":"broadcast","u":"x","n":"/","b":{}}\n\x00\x00\x00\x09ab',
    b'{"v":1,"t":"broadcast","u":"x","n":"/","b":{}}\n\x00\x00',
])
def test_malformed(data: bytes) -> None:
    with pytest.raises(MessageError):
        decode_message(data)


def test_options_round_trip_become_local() -> None:
    opts = BroadcastOptions(rooms=frozenset(["a", "b"]), except_rooms=frozenset(["c"]),
                            volatile=True)
    back = BroadcastOptions(**options_from_dict(options_to_dict(opts)))
    assert back == opts._replace(local=True)
    with pytest.raises(MessageError):
        options_from_dict({"rooms": "a"})

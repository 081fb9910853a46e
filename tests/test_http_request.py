"""``sio_core.http.request``: the query string as the layers above read it. (Not in a
``tests/http`` package: scripts run from ``tests/`` would import it as the standard
library's ``http``.)"""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.http import Request, query_pairs

QUERY_TEXT = st.text(alphabet="ab=&%+;2 0é", max_size=24)


@given(QUERY_TEXT)
def test_query_pairs_are_what_parse_qsl_gives(query: str) -> None:
    assert query_pairs(query) == parse_qsl(query, keep_blank_values=True)


@pytest.mark.parametrize("query, pairs", [
    ("EIO=4&transport=websocket", [("EIO", "4"), ("transport", "websocket")]),
    ("a&b=&&c=1=2", [("a", ""), ("b", ""), ("c", "1=2")]),
    ("name=a%20b&x=1+2", [("name", "a b"), ("x", "1 2")]),
    ("", []),
])
def test_query_pairs(query: str, pairs: list) -> None:
    assert query_pairs(query) == pairs


def test_the_request_keeps_the_first_value_of_a_repeated_key() -> None:
    request = Request.from_environ({"QUERY_STRING": "a=1&b=2&a=3", "REQUEST_METHOD": "GET"})
    assert dict(request.query) == {"a": "1", "b": "2"}
    assert request.query_string == "a=1&b=2&a=3"

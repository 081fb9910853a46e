"""socket.io 2's origins forms in the origin policy, next to the exact forms.

socket.io 2 (its ``origins`` option and ``io.origins()``) took ``'*:*'`` for anything,
``host:port`` entries without a scheme, ``*`` for any host or any port, several entries in
one space-separated string, and ``fn(origin, callback)`` answering ``callback(err, ok)``.
"""
from __future__ import annotations

import logging
from typing import Any, List

import pytest

from sio_core.engineio import OriginPolicy
from sio_core.engineio.callables import positional_count

HOST = "server.test:5000"


def allows(spec: Any, origin: str) -> bool:
    return OriginPolicy(spec).allows(origin, HOST, "http")


@pytest.mark.parametrize("spec", ["*:*", ["*:*"], "http://a.com *:*"])
@pytest.mark.parametrize("origin", ["http://a.com", "https://b.org:8443", "null", "file://",
                                    "http://["])
def test_star_colon_star_allows_everything(spec, origin):
    assert allows(spec, origin) is True


@pytest.mark.parametrize(("spec", "origin", "expected"), [
    # host:port without a scheme: any scheme, the port defaulted from the scheme
    ("localhost:3000", "http://localhost:3000", True),
    ("localhost:3000", "https://localhost:3000", True),
    ("localhost:3000", "http://LOCALHOST:3000/", True),
    ("localhost:3000", "http://localhost:3001", False),
    ("localhost:3000", "http://localhost", False),
    ("localhost:3000", "http://evil.localhost:3000", False),
    ("example.com:80", "http://example.com", True),
    ("example.com:443", "https://example.com", True),
    ("example.com:443", "http://example.com", False),
    ("[::1]:3000", "http://[::1]:3000", True),
    # a * port or a * host
    ("example.com:*", "http://example.com:1234", True),
    ("example.com:*", "https://example.com", True),
    ("example.com:*", "http://example.org:1234", False),
    ("*:8080", "http://anything.test:8080", True),
    ("*:8080", "https://other.test:8080", True),
    ("*:8080", "http://anything.test:8081", False),
    ("*:8080", "http://anything.test", False),
    # a scheme and a * port
    ("http://localhost:*", "http://localhost:3000", True),
    ("http://localhost:*", "http://localhost", True),
    ("http://localhost:*", "https://localhost:3000", False),
    ("http://localhost:*", "http://localhost.evil.com:3000", False),
    # a scheme and an explicit port: the default port may be left out of the Origin
    ("https://example.com:443", "https://example.com", True),
    ("https://example.com:443", "https://example.com:443", True),
    ("https://example.com:443", "https://example.com:8443", False),
    # exact origins keep their meaning
    ("http://a.com", "http://a.com", True),
    ("http://a.com", "https://a.com", False),
    ("http://a.com", "http://a.com:8080", False),
    # several entries in one string, and lists mixing forms
    ("http://a.com localhost:3000", "http://a.com", True),
    ("http://a.com localhost:3000", "https://localhost:3000", True),
    ("http://a.com localhost:3000", "http://b.com", False),
    (["https://a.com", "*:9000"], "http://b.com:9000", True),
    (["https://a.com", "*:9000"], "http://b.com:9001", False),
    # malformed origins and entries match nothing
    ("localhost:*", "http://localhost:notaport", False),
    ("localhost:*", "null", False),
    ("localhost:abc", "http://localhost:abc", False),
])
def test_socketio2_entries(spec, origin, expected):
    assert allows(spec, origin) is expected


def test_same_origin_is_still_allowed_by_patterns():
    assert allows("other.test:1", "http://server.test:5000") is True


@pytest.mark.parametrize(("answer", "expected"), [
    ((None, True), True), ((None, False), False), ((None, 1), True), ((None, None), False),
    ((ValueError("no"), True), False), (("an error string", True), False),
])
def test_a_node_style_callable(answer, expected):
    seen: List[str] = []

    def check(origin: str, callback: Any) -> None:
        seen.append(origin)
        callback(*answer)

    assert allows(check, "HTTP://a.com/") is expected
    assert seen == ["HTTP://a.com/"]  # the header as it came


def test_a_node_style_callable_answering_once_with_err_only():
    assert allows(lambda origin, callback: callback(None), "http://a.com") is False
    assert allows(lambda origin, callback: callback(), "http://a.com") is False


def test_a_node_style_callable_that_never_answers_refuses(caplog):
    caplog.set_level(logging.WARNING, logger="sio_core.engineio.cors")
    assert allows(lambda origin, callback: None, "http://late.com") is False
    [record] = caplog.records
    assert "returned without calling its callback: refusing http://late.com" in \
        record.getMessage()


def test_a_node_style_callable_answering_twice_keeps_the_first():
    def twice(origin: str, callback: Any) -> None:
        callback(None, True)
        callback(None, False)

    assert allows(twice, "http://a.com") is True


def test_one_argument_callables_keep_the_boolean_form():
    def with_default(origin: str, extra: Any = None) -> bool:
        return extra is None and origin == "http://a.com"

    assert allows(with_default, "http://a.com") is True
    assert allows(lambda origin: origin.endswith(".org"), "http://x.org") is True


class Checker:
    def __call__(self, origin: str, callback: Any) -> None:
        callback(None, origin == "http://ok.com")


def test_a_callable_object_is_inspected_by_its_call():
    assert allows(Checker(), "http://ok.com") is True
    assert allows(Checker(), "http://no.com") is False


@pytest.mark.parametrize(("fn", "count"), [
    (lambda: 0, 0), (lambda a: 0, 1), (lambda a, b: 0, 2), (lambda a, b, c=1: 0, 2),
    (lambda a, *rest: 0, 1 << 16), (lambda a, *, k: 0, 1), (len, 1), (Checker(), 2),
])
def test_positional_count(fn, count):
    assert positional_count(fn) == count

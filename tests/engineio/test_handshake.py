"""The Engine.IO query and the open packet."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.engineio import (
    BadRequest,
    EngineQuery,
    PacketType,
    RequestError,
    TransportUnknown,
    UnsupportedProtocolVersion,
    open_packet,
    parse_query,
)
from sio_core.engineio.options import TRANSPORTS


def q(**params: str):
    return dict(params)


# -- parse_query: accepted --------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_accepts_both_versions_and_enabled_transports(version: int, transport: str) -> None:
    query = parse_query(q(EIO=str(version), transport=transport), TRANSPORTS)
    assert query == EngineQuery(version, transport, None, False, None)
    assert type(query.version) is int


def test_sid() -> None:
    query = parse_query(q(EIO="4", transport="polling", sid="abc"), TRANSPORTS)
    assert query.sid == "abc"
    assert parse_query(q(EIO="4", transport="polling", sid=""), TRANSPORTS).sid is None


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("0", False), ("false", False), ("", False), ("yes", False),
])
def test_b64_flag(value: str, expected: bool) -> None:
    assert parse_query(q(EIO="3", transport="polling", b64=value), TRANSPORTS).b64 is expected


def test_jsonp_index() -> None:
    assert parse_query(q(EIO="3", transport="polling", j="0"), TRANSPORTS).jsonp == "0"
    assert parse_query(q(EIO="3", transport="polling", j="12"), TRANSPORTS).jsonp == "12"


def test_other_parameters_are_ignored() -> None:
    query = parse_query(q(EIO="4", transport="websocket", t="NcqLWHp", foo="bar"), TRANSPORTS)
    assert query == EngineQuery(4, "websocket", None, False, None)


def test_only_the_given_transports_are_enabled() -> None:
    query = parse_query(q(EIO="4", transport="websocket"), ("websocket",))
    assert query.transport == "websocket"
    with pytest.raises(TransportUnknown):
        parse_query(q(EIO="4", transport="polling"), ("websocket",))
    with pytest.raises(TransportUnknown):
        parse_query(q(EIO="4", transport="websocket"), ("polling",))


# -- parse_query: refused ------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    q(transport="polling"),
    q(EIO="", transport="polling"),
    q(EIO="2", transport="polling"),
    q(EIO="5", transport="polling"),
    q(EIO="04", transport="polling"),
    q(EIO="4.0", transport="polling"),
    q(EIO=" 4", transport="polling"),
    q(EIO="four", transport="polling"),
    q(EIO="5", transport="bogus"),  # the version is checked first
    q(),
])
def test_unsupported_version(params) -> None:
    with pytest.raises(UnsupportedProtocolVersion) as info:
        parse_query(params, TRANSPORTS)
    error = info.value
    assert isinstance(error, RequestError)
    assert error.code == 5
    assert error.http_status == 400
    assert "EIO=3 and EIO=4" in str(error)
    assert error.detail == str(error)
    shown = params.get("EIO", "(missing)")
    assert ("EIO=%s;" % shown) in str(error)


def test_unsupported_version_message() -> None:
    with pytest.raises(UnsupportedProtocolVersion) as info:
        parse_query(q(EIO="5", transport="polling"), TRANSPORTS)
    assert str(info.value) == (
        "Unsupported protocol version EIO=5; this server speaks EIO=3 and EIO=4"
    )
    with pytest.raises(UnsupportedProtocolVersion) as info:
        parse_query(q(transport="polling"), TRANSPORTS)
    assert str(info.value) == (
        "Unsupported protocol version EIO=(missing); this server speaks EIO=3 and EIO=4"
    )


@given(st.text().filter(lambda v: v not in ("3", "4")))
def test_any_other_version_is_unsupported(version: str) -> None:
    with pytest.raises(UnsupportedProtocolVersion):
        parse_query(q(EIO=version, transport="polling"), TRANSPORTS)


@pytest.mark.parametrize("params", [
    q(EIO="4"),
    q(EIO="4", transport=""),
    q(EIO="3", transport="flashsocket"),
    q(EIO="4", transport="Polling"),
    q(EIO="4", transport="poll"),
    q(EIO="4", transport="webtransport"),
])
def test_unknown_transport(params) -> None:
    with pytest.raises(TransportUnknown) as info:
        parse_query(params, TRANSPORTS)
    error = info.value
    assert error.code == 0
    assert error.http_status == 400
    assert error.message == "Transport unknown"
    assert str(error) == "Transport unknown"
    assert error.detail == "Transport unknown"


@pytest.mark.parametrize("params", [
    q(EIO="3", transport="polling", j=""),
    q(EIO="3", transport="polling", j="abc"),
    q(EIO="3", transport="polling", j="1a"),
    q(EIO="3", transport="polling", j="-1"),
    q(EIO="3", transport="polling", j=" 1"),
    q(EIO="3", transport="polling", j="0]);alert(1);//"),
    q(EIO="3", transport="websocket", j="1"),
])
def test_bad_jsonp_index(params) -> None:
    with pytest.raises(BadRequest) as info:
        parse_query(params, TRANSPORTS)
    error = info.value
    assert type(error) is BadRequest
    assert error.code == 3
    assert error.http_status == 400
    assert str(error) == "bad JSONP index"


# str.isdigit() accepts these, but they are no JavaScript in ___eio[...]
@pytest.mark.parametrize("index", ["²", "١٢", "1²", "٣"])
def test_jsonp_index_must_be_ascii_digits(index: str) -> None:
    with pytest.raises(BadRequest):
        parse_query(q(EIO="3", transport="polling", j=index), TRANSPORTS)


# -- open packet ---------------------------------------------------------------------------


def test_open_packet_v4() -> None:
    packet = open_packet("abc", 4, ("websocket",), 25.0, 20.0, 1_000_000)
    assert packet.type is PacketType.OPEN
    assert json.loads(packet.data) == {
        "sid": "abc", "upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 20000,
        "maxPayload": 1000000,
    }
    assert packet.data == (
        '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,'
        '"maxPayload":1000000}'
    )


def test_open_packet_v3_has_no_max_payload() -> None:
    packet = open_packet("abc", 3, ("websocket",), 25.0, 20.0, 1_000_000)
    assert packet.type is PacketType.OPEN
    assert json.loads(packet.data) == {
        "sid": "abc", "upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 20000,
    }
    assert packet.data == (
        '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'
    )


@pytest.mark.parametrize("version", [3, 4])
def test_open_packet_without_upgrades(version: int) -> None:
    info = json.loads(open_packet("s", version, (), 25, 20, 100).data)
    assert info["upgrades"] == []


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("seconds, ms", [
    (25, 25000), (0.5, 500), (0.25, 250), (2.5, 2500), (0.001, 1), (60.0, 60000), (0.1, 100),
])
def test_open_packet_times_in_milliseconds(version: int, seconds: float, ms: int) -> None:
    info = json.loads(open_packet("s", version, (), seconds, seconds, 5).data)
    assert (info["pingInterval"], info["pingTimeout"]) == (ms, ms)
    assert (type(info["pingInterval"]), type(info["pingTimeout"])) == (int, int)


@pytest.mark.parametrize("version", [3, 4])
def test_open_packet_milliseconds_are_rounded_not_truncated(version: int) -> None:
    # 1.001 * 1000 == 1000.9999999999999, which int() would make 1000
    info = json.loads(open_packet("s", version, (), 1.001, 1.001, 5).data)
    assert (info["pingInterval"], info["pingTimeout"]) == (1001, 1001)


@given(version=st.sampled_from([3, 4]), interval=st.integers(1, 10**7),
       timeout=st.integers(1, 10**7))
def test_open_packet_whole_milliseconds_survive(version: int, interval: int, timeout: int) -> None:
    info = json.loads(open_packet("s", version, (), interval / 1000, timeout / 1000, 5).data)
    assert (info["pingInterval"], info["pingTimeout"]) == (interval, timeout)


@given(sid=st.text(), version=st.sampled_from([3, 4]),
       upgrades=st.lists(st.sampled_from(["websocket", "polling"]), max_size=2),
       interval=st.integers(1, 10**6), timeout=st.integers(1, 10**6),
       max_payload=st.integers(1, 10**9))
def test_open_packet_fields(sid, version, upgrades, interval, timeout, max_payload) -> None:
    info = json.loads(open_packet(sid, version, upgrades, interval, timeout, max_payload).data)
    expected = {"sid": sid, "upgrades": upgrades, "pingInterval": interval * 1000,
                "pingTimeout": timeout * 1000}
    if version == 4:
        expected["maxPayload"] = max_payload
    assert info == expected

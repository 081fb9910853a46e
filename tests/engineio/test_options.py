"""Engine.IO server options and the session cookie."""
from __future__ import annotations

import dataclasses

import pytest

from sio_core.engineio import CookieOptions, EngineOptions
from sio_core.engineio.options import TRANSPORTS


def test_defaults() -> None:
    opts = EngineOptions()
    assert (opts.ping_interval, opts.ping_timeout) == (25.0, 20.0)
    assert opts.max_http_buffer_size == 1_000_000
    assert opts.transports == ("polling", "websocket") == TRANSPORTS
    assert opts.allow_upgrades is True
    assert opts.cookie is None
    assert (opts.http_compression, opts.compression_threshold) == (True, 1024)
    assert opts.max_queue == 10_000
    assert dict(opts.extra) == {}


def test_options_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        EngineOptions().ping_interval = 1  # type: ignore[misc]


@pytest.mark.parametrize("kwargs", [
    {"ping_interval": 0}, {"ping_interval": -1}, {"ping_timeout": 0}, {"ping_timeout": -0.5},
    {"max_http_buffer_size": 0}, {"max_http_buffer_size": -1},
    {"transports": ()}, {"transports": ("polling", "flashsocket")}, {"transports": "polling"},
    {"max_queue": 0}, {"cookie": 42},
])
def test_invalid_options(kwargs) -> None:
    with pytest.raises(ValueError):
        EngineOptions(**kwargs)


def test_normalisation() -> None:
    opts = EngineOptions(transports=["websocket"], max_http_buffer_size=1e6)
    assert opts.transports == ("websocket",)
    assert (opts.max_http_buffer_size, type(opts.max_http_buffer_size)) == (1_000_000, int)


@pytest.mark.parametrize("value, expected", [
    (None, None),
    (False, None),
    (True, CookieOptions()),
    ("sess", CookieOptions(name="sess")),
    ({"name": "x", "secure": True}, CookieOptions(name="x", secure=True)),
    (CookieOptions(path="/a"), CookieOptions(path="/a")),
])
def test_cookie_option(value, expected) -> None:
    assert EngineOptions(cookie=value).cookie == expected


def test_cookie_dict_with_unknown_key() -> None:
    with pytest.raises(TypeError):
        EngineOptions(cookie={"nope": 1})


def test_cookie_header() -> None:
    assert CookieOptions().header("abc") == "io=abc; Path=/; HttpOnly; SameSite=Lax"
    cookie = CookieOptions(name="s", path="/x", httponly=False, samesite=None, secure=True)
    assert cookie.header("abc") == "s=abc; Path=/x; Secure"
    assert CookieOptions(samesite="None", secure=True).header("z") == (
        "io=z; Path=/; HttpOnly; SameSite=None; Secure")


@pytest.mark.parametrize("kwargs, polling, websocket", [
    ({}, ("websocket",), ()),
    ({"allow_upgrades": False}, (), ()),
    ({"transports": ("polling",)}, (), ()),
    ({"transports": ("websocket",)}, ("websocket",), ()),
])
def test_upgrades(kwargs, polling, websocket) -> None:
    opts = EngineOptions(**kwargs)
    assert opts.upgrades("polling") == polling
    assert opts.upgrades("websocket") == websocket

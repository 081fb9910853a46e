"""Every package's ``__all__`` resolves, names no private object, and is sorted-unique."""
from __future__ import annotations

import importlib

import pytest

PACKAGES = ["sio_core", "sio_core.engineio", "sio_core.socketio", "sio_core.http",
            "sio_core.server", "sio_core.adapter", "sio_core.websocket", "sio_core.client",
            "sio_core.debug", "flask_sio"]

# names exported with two meanings on purpose: each pure layer has its own packet types and
# its own ProtocolError; flask_sio's Namespace is Flask-SocketIO's class-based namespace
TWO_MEANINGS = {
    "Packet": {"sio_core.engineio", "sio_core.socketio"},
    "PacketType": {"sio_core.engineio", "sio_core.socketio"},
    "ProtocolError": {"sio_core.engineio", "sio_core.socketio"},
    "Namespace": {"flask_sio"},
}


def test_each_public_name_has_one_meaning() -> None:
    """A name exported by several packages is the same object in each, but for the listed
    layer-qualified names: ``from sio_core import X`` and ``from sio_core.client import X``
    cannot give two different things."""
    meanings: dict = {}
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            if name in TWO_MEANINGS.get(attr, ()):
                continue
            meanings.setdefault(attr, {}).setdefault(id(getattr(module, attr)), []).append(name)
    clashes = {attr: list(found.values()) for attr, found in meanings.items() if len(found) > 1}
    assert clashes == {}


@pytest.mark.parametrize("name", PACKAGES)
def test_all_resolves(name: str) -> None:
    module = importlib.import_module(name)
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert missing == []
    assert [a for a in module.__all__ if a.startswith("_")] == []
    assert len(set(module.__all__)) == len(module.__all__)


def test_top_level_api_has_the_server_classes() -> None:
    import sio_core

    for attr in ["Server", "Namespace", "Socket", "Client", "WSGIApp", "Middleware", "run",
                 "MemoryAdapter", "AckTimeout", "Disconnected", "ConnectionRefusedError"]:
        assert attr in sio_core.__all__


def test_the_python_client_is_socketioclient_and_its_old_name_warns() -> None:
    import sio_core
    import sio_core.client as client

    assert client.__all__ == ["ConnectionError", "SimpleClient", "SocketIOClient", "connect",
                              "emit_once"]
    assert client.ConnectionError is sio_core.ConnectionError
    assert issubclass(client.ConnectionError, sio_core.SioError)
    assert [attr for attr in client.__all__ if not hasattr(client, attr)] == []
    assert client.SocketIOClient is not sio_core.Client  # the server's view of a client
    with pytest.warns(DeprecationWarning, match="use sio_core.client.SocketIOClient"):
        old = client.Client
    assert old is client.SocketIOClient
    with pytest.raises(AttributeError):
        client.NoSuchName  # noqa: B018

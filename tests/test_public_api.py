"""Every package's ``__all__`` resolves, names no private object, and is sorted-unique."""
from __future__ import annotations

import importlib

import pytest

PACKAGES = ["sio_core", "sio_core.engineio", "sio_core.socketio", "sio_core.http",
            "sio_core.server", "sio_core.adapter", "sio_core.websocket"]


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

"""Class-based namespaces: every event goes through the overridable trigger_event."""
from __future__ import annotations

from typing import Any

from flask import Flask, request

from flask_sio import Namespace, SocketIO


def test_trigger_event_override_sees_every_event() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    sio = SocketIO(app)
    seen: list = []
    ran: list = []

    class Audited(Namespace):
        def trigger_event(self, event: str, sid: str, *args: Any) -> Any:
            shown = args[1:] if event == "connect" else args  # args[0] is the environ
            seen.append((event, sid == request.sid, shown))
            if event == "connect":
                assert args[0]["PATH_INFO"] == "/socket.io/"
            result = super().trigger_event(event, sid, *args)
            return result.upper() if isinstance(result, str) else result

        def on_connect(self, auth):
            ran.append(("connect", auth))

        def on_say(self, text):
            return text

        def on_disconnect(self, reason):
            ran.append(("disconnect", reason))

    sio.on_namespace(Audited("/audit"))
    client = sio.test_client(app, namespace="/audit", auth={"token": "t"})
    assert client.emit("say", "hi", callback=True, namespace="/audit") == "HI"
    assert client.emit("unhandled", 1, 2, callback=True, namespace="/audit") == []
    client.disconnect("/audit")
    assert seen == [
        ("connect", True, ({"token": "t"},)),
        ("say", True, ("hi",)),
        ("unhandled", True, (1, 2)),
        ("disconnect", True, ("client namespace disconnect",)),
    ]
    assert ran == [("connect", {"token": "t"}), ("disconnect", "client namespace disconnect")]


def test_trigger_event_can_refuse_and_rename() -> None:
    app = Flask(__name__)
    sio = SocketIO(app)

    class Gate(Namespace):
        def trigger_event(self, event: str, sid: str, *args: Any) -> Any:
            if event == "connect" and not (args[1] or {}).get("ok"):
                return False
            return super().trigger_event(event.replace(":", "_"), sid, *args)

        def on_room_join(self, name):
            return "joined " + name

    sio.on_namespace(Gate("/gate"))
    refused = sio.test_client(app, namespace="/gate")
    assert refused.is_connected("/gate") is False
    assert refused._client.errors["/gate"] == {"message": "Connection rejected by server"}
    admitted = sio.test_client(app, namespace="/gate", auth={"ok": True})
    assert admitted.emit("room:join", "a", callback=True, namespace="/gate") == "joined a"


def test_methods_without_optional_arguments_still_work() -> None:
    app = Flask(__name__)
    sio = SocketIO(app)
    calls: list = []

    class Plain(Namespace):
        def on_connect(self):
            calls.append("connect")

        def on_disconnect(self):
            calls.append("disconnect")

        def on_kebab_case(self):
            return "ok"

    sio.on_namespace(Plain("/plain"))
    client = sio.test_client(app, namespace="/plain")
    assert client.emit("kebab-case", "ignored", callback=True, namespace="/plain") == "ok"
    client.disconnect("/plain")
    assert calls == ["connect", "disconnect"]


def test_room_and_disconnect_methods_act_on_the_given_sid() -> None:
    app = Flask(__name__)
    sio = SocketIO(app)

    class Lobby(Namespace):
        def on_enter(self, room):
            self.enter_room(request.sid, room)
            return self.rooms(request.sid)

        def on_leave(self, room):
            self.leave_room(request.sid, room)
            return self.rooms(request.sid)

        def on_shout(self, room, text):
            self.emit("shout", text, to=room)

        def on_kick(self, sid):
            self.disconnect(sid)

    sio.on_namespace(Lobby("/lobby"))
    alice = sio.test_client(app, namespace="/lobby")
    bob = sio.test_client(app, namespace="/lobby")
    rooms = alice.emit("enter", "red", callback=True, namespace="/lobby")
    assert "red" in rooms and len(rooms) == 2  # and its own room
    own = [room for room in rooms if room != "red"]
    alice.get_received("/lobby")
    bob.emit("shout", "red", "hello", namespace="/lobby")
    assert alice.get_received("/lobby") == [
        {"name": "shout", "args": ["hello"], "namespace": "/lobby"}]
    assert alice.emit("leave", "red", callback=True, namespace="/lobby") == own
    bob.emit("shout", "red", "again", namespace="/lobby")
    assert alice.get_received("/lobby") == []
    bob.emit("kick", own[0], namespace="/lobby")
    assert not alice.is_connected("/lobby")
    assert bob.is_connected("/lobby")

"""Finding handlers: what the dispatcher keeps of a lookup follows later registrations."""
from __future__ import annotations

from flask import Flask

from flask_sio import Namespace, SocketIO


def test_a_handler_registered_after_the_first_event_is_found(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("other", lambda: None)  # "/" served through the handlers
    sio.on_event("ev", lambda *args: ["any namespace", *args], namespace="*")
    client = sio.test_client(app)
    assert client.emit("ev", 1, callback=True) == ["any namespace", 1]
    assert client.emit("ev", 1, callback=True) == ["any namespace", 1]  # the kept lookup
    sio.on_event("ev", lambda *args: ["first", *args])
    assert client.emit("ev", 1, callback=True) == ["first", 1]
    sio.on_event("ev", lambda *args: ["replaced", *args])
    assert client.emit("ev", 1, callback=True) == ["replaced", 1]
    sio.on_event("*", lambda event, *args: ["catch-all", event, *args])
    assert client.emit("late", 2, callback=True) == ["catch-all", "late", 2]
    sio.on_event("late", lambda value: ["late", value])
    assert client.emit("late", 2, callback=True) == ["late", 2]


def test_an_error_handler_registered_after_the_first_event_runs(app: Flask) -> None:
    sio = SocketIO(app)
    errors: list = []

    @sio.on("boom")
    def boom(value):
        raise KeyError(value)

    client = sio.test_client(app)
    sio.on_error_default(lambda exc: errors.append(("default", exc.args)))
    client.emit("boom", 1)
    sio.on_error("/")(lambda exc: errors.append(("/", exc.args)))
    client.emit("boom", 2)
    assert errors == [("default", (1,)), ("/", (2,))]


def test_a_namespace_class_registered_later_sees_events_of_a_catch_all_namespace(
        app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("ev", lambda: "any namespace", namespace="*")
    client = sio.test_client(app, namespace="/chat")
    assert client.emit("ev", namespace="/chat", callback=True) == "any namespace"

    class Chat(Namespace):
        def on_ev(self):
            return "class"

    sio.on_namespace(Chat("/chat"))
    assert client.emit("ev", namespace="/chat", callback=True) == "class"


def test_a_handler_gets_as_many_values_as_it_takes_whatever_came_before(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("one", lambda value: value)
    client = sio.test_client(app)
    for count in (1, 3, 1, 2, 3):
        assert client.emit("one", *range(count), callback=True) == 0


def test_the_lookups_kept_are_bounded(app: Flask) -> None:
    sio = SocketIO(app)
    sio.on_event("any", lambda *args: len(args))
    client = sio.test_client(app)
    for count in range(300):  # one kept lookup per number of values
        assert client.emit("any", *range(count), callback=True) == count
    assert len(sio._handlers.calls) <= 256

"""Sockets: ids, rooms, handshake, listeners, acks both ways, middlewares, ordering, closing.

Every test drives a real ``sio_core.Server`` with in-memory ``TestClient``s, for
Socket.IO 5 (Engine.IO 4) and, where the behaviour applies, Socket.IO 4 (Engine.IO 3).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Tuple

import gevent
import pytest
from gevent.event import AsyncResult, Event
from werkzeug.wrappers import Request

from sio_core import AckTimeout, Disconnected, Server
from sio_core.engineio import CloseReason
from sio_core.engineio import Packet as EnginePacket
from sio_core.engineio import PacketType as EnginePacketType
from sio_core.server import Ack
from sio_core.testing import TestClient, make_environ
from tests.helpers import wait_until


@pytest.fixture(params=[4, 3], ids=["sio5", "sio4"])
def eio(request: Any) -> int:
    """The Engine.IO revision the test clients speak."""
    return request.param


class Setup:
    """A server recording the sockets of every namespace, keyed by namespace then ``who``."""

    def __init__(self, **server_options: Any) -> None:
        self.io = Server(**server_options)
        self.sockets: Dict[str, Dict[str, Any]] = {}
        self.reasons: List[Tuple[str, str, str]] = []

    def watch(self, nsp_name: str = "/") -> None:
        def on_connection(socket: Any) -> None:
            who = socket.handshake.query.get("who", "?")
            self.sockets.setdefault(socket.nsp.name, {})[who] = socket
            socket.on("disconnect",
                      lambda reason: self.reasons.append((who, socket.nsp.name, reason)))

        self.io.of(nsp_name).on("connection", on_connection)

    def client(self, eio: int, who: str = "a", *namespaces: str,
               settle_timeout: float = 5.0, **query: str) -> TestClient:
        client = TestClient(self.io, eio=eio, environ=make_environ(
            query=dict(query, who=who), eio=eio), settle_timeout=settle_timeout)
        for nsp in namespaces or ("/",):
            assert client.connect(nsp) is True
        return client

    def socket(self, who: str = "a", nsp: str = "/") -> Any:
        return self.sockets[nsp][who]


def one_client(eio: int, nsp: str = "/", **kw: Any) -> Tuple[Setup, TestClient, Any]:
    """A server watching ``nsp``, one connected client, and its server-side socket."""
    setup = Setup()
    setup.watch(nsp)
    client = setup.client(eio, "a", nsp, **kw)
    return setup, client, setup.socket("a", nsp)


def events(client: TestClient, nsp: str = "/") -> List[Tuple[str, List[Any]]]:
    """``(name, args)`` of the events ``client`` received on ``nsp`` since the last call."""
    return [(e["name"], e["args"]) for e in client.get_received(nsp)]


def stalling(asked: Event, release: Event) -> Callable[..., Any]:
    """A client handler that signals ``asked`` then sits on the question (no ack yet)."""
    def handler(*args: Any) -> None:
        asked.set()
        release.wait(5)
    return handler


# -- ids and rooms ---------------------------------------------------------------------------


def test_protocol_4_socket_ids_derive_from_the_engine_sid() -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(3, "a", "/", "/chat")
    sid = client.conn.sid
    assert setup.socket("a", "/").id == sid
    assert setup.socket("a", "/chat").id == "/chat#" + sid
    assert client.sids == {"/": sid, "/chat": "/chat#" + sid}


def test_protocol_5_socket_ids_are_random_per_namespace() -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(4, "a", "/", "/chat")
    other = setup.client(4, "b", "/")
    root, chat = setup.socket("a", "/").id, setup.socket("a", "/chat").id
    assert client.sids == {"/": root, "/chat": chat}  # sent in the CONNECT reply
    assert len({root, chat, client.conn.sid, setup.socket("b", "/").id, other.conn.sid}) == 5
    assert client.conn.sid not in root and client.conn.sid not in chat
    assert len(root) >= 16


def test_socket_exposes_its_client_and_namespace(eio: int) -> None:
    setup, client, socket = one_client(eio, "/chat")
    assert socket.nsp is setup.io.of("/chat")
    assert socket.client is client.conn.owner
    assert socket.conn is client.conn
    assert socket.client.id == client.conn.sid
    assert socket.connected is True and socket.disconnected is False
    assert socket.data == {}


def test_rooms_contain_the_own_id(eio: int) -> None:
    setup, client, socket = one_client(eio)
    assert socket.rooms == {socket.id}
    socket.rooms.add("not-really")  # a copy
    assert socket.rooms == {socket.id}


def test_join_and_leave(eio: int) -> None:
    setup, client, socket = one_client(eio)
    calls: List[Any] = []
    assert socket.join("one") is socket
    socket.join(["two", "three"], callback=lambda err: calls.append(("join", err)))
    assert socket.rooms == {socket.id, "one", "two", "three"}
    assert setup.io.to("two").clients() == [socket.id]
    assert socket.leave("two", callback=lambda err: calls.append(("leave", err))) is socket
    assert socket.rooms == {socket.id, "one", "three"}
    assert setup.io.to("two").clients() == []
    socket.leave("never-joined")
    assert socket.rooms == {socket.id, "one", "three"}
    assert calls == [("join", None), ("leave", None)]
    socket.leave_all()
    assert socket.rooms == set()


def test_socket_to_excludes_the_sender(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    clients = {who: setup.client(eio, who) for who in "abc"}
    for who in "abc":
        setup.socket(who).join("room")
    setup.socket("c").join("other")
    setup.socket("a").to("room").emit("hi", "from a")
    setup.socket("a").in_("room").emit("again")
    setup.socket("a").to("room").except_("other").emit("not-other")
    assert {w: events(c) for w, c in clients.items()} == {
        "a": [],
        "b": [("hi", ["from a"]), ("again", []), ("not-other", [])],
        "c": [("hi", ["from a"]), ("again", [])],
    }


def test_socket_broadcast_excludes_the_sender(eio: int) -> None:
    setup = Setup()
    setup.watch("/chat")
    clients = {who: setup.client(eio, who, "/chat") for who in "abc"}
    setup.socket("b", "/chat").broadcast.emit("news", {"n": 1})
    setup.socket("b", "/chat").except_(setup.socket("c", "/chat").id).emit("only-a")
    assert {w: events(c, "/chat") for w, c in clients.items()} == {
        "a": [("news", [{"n": 1}]), ("only-a", [])],
        "b": [],
        "c": [("news", [{"n": 1}])],
    }


# -- handshake -----------------------------------------------------------------------------


def test_handshake_fields(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    before = int(time.time() * 1000)
    client = TestClient(setup.io, eio=eio, environ=make_environ(
        query={"who": "a", "token": "abc"}, eio=eio,
        headers={"X-Custom-Header": "yes", "User-Agent": "tests", "Content-Type": "text/x"}))
    assert client.connect() is True
    after = int(time.time() * 1000)
    hs = setup.socket("a").handshake
    assert hs.query == {"EIO": str(eio), "transport": "websocket", "who": "a", "token": "abc"}
    assert hs.auth == {}
    assert hs.headers["x-custom-header"] == "yes"
    assert hs.headers["user-agent"] == "tests"
    assert hs.headers["host"] == "localhost"
    assert hs.headers["content-type"] == "text/x"
    assert all(name == name.lower() for name in hs.headers)
    assert hs.address == "127.0.0.1"
    assert hs.xdomain is False
    assert hs.secure is False
    assert hs.url == "/socket.io/?EIO=%d&transport=websocket&who=a&token=abc" % eio
    assert isinstance(hs.issued, int)
    assert before <= hs.issued <= after
    assert isinstance(hs.time, str)
    assert hs.time.endswith("GMT")
    assert hs["address"] == "127.0.0.1"  # dict-style access as in node


def test_handshake_xdomain_and_secure(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    environ = make_environ(query={"who": "a"}, eio=eio,
                           headers={"Origin": "https://elsewhere.example"})
    environ["wsgi.url_scheme"] = "https"
    environ["REMOTE_ADDR"] = "10.1.2.3"
    client = TestClient(setup.io, eio=eio, environ=environ)
    assert client.connect() is True
    hs = setup.socket("a").handshake
    assert hs.xdomain is True
    assert hs.secure is True
    assert hs.address == "10.1.2.3"
    assert hs.headers["origin"] == "https://elsewhere.example"


def test_handshake_auth_of_protocol_5() -> None:
    setup = Setup()
    setup.watch("/chat")
    client = TestClient(setup.io, eio=4, environ=make_environ(query={"who": "a"}))
    assert client.connect("/chat", {"token": "secret", "n": [1, 2]}) is True
    assert setup.socket("a", "/chat").handshake.auth == {"token": "secret", "n": [1, 2]}


def test_protocol_4_namespace_query_is_merged() -> None:
    setup = Setup()
    setup.watch("/chat")
    client = TestClient(setup.io, eio=3, environ=make_environ(
        query={"who": "a", "shared": "connection"}, eio=3))
    client.connect("/chat?room=blue&shared=namespace")
    assert list(client.sids) == ["/", "/chat"]
    hs = setup.socket("a", "/chat").handshake
    # socket.io 2: Object.assign({}, namespaceQuery, requestQuery): the request wins
    assert hs.query == {"EIO": "3", "transport": "websocket", "who": "a", "room": "blue",
                        "shared": "connection"}
    assert setup.socket("a", "/chat").nsp.name == "/chat"


def test_socket_request_is_a_werkzeug_request(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    client = TestClient(setup.io, eio=eio, environ=make_environ(
        query={"who": "a", "x": "1"}, eio=eio, headers={"Cookie": "session=abc"}))
    assert client.connect() is True
    socket = setup.socket("a")
    assert isinstance(socket.request, Request)
    assert socket.request is socket.request  # built once
    assert socket.request.args["x"] == "1"
    assert socket.request.cookies["session"] == "abc"
    assert socket.request.path == "/socket.io/"
    assert isinstance(socket.client.request, Request)


def test_socket_environ_and_protocol(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    environ = make_environ(query={"who": "a", "x": "1"}, eio=eio,
                           headers={"Cookie": "session=abc"})
    client = TestClient(setup.io, eio=eio, environ=environ)
    assert client.connect() is True
    socket = setup.socket("a")
    assert socket.environ is environ
    assert socket.environ["HTTP_COOKIE"] == "session=abc"
    assert socket.protocol == {4: 5, 3: 4}[eio]
    assert type(socket.protocol) is int


# -- listeners -----------------------------------------------------------------------------


def test_on_once_remove_and_event_names(eio: int) -> None:
    setup, client, socket = one_client(eio)
    calls: List[Tuple[str, Tuple[Any, ...]]] = []

    def on_a(*args: Any) -> None:
        calls.append(("a", args))

    def on_b(*args: Any) -> None:
        calls.append(("b", args))

    socket.remove_all_listeners()  # drop the Setup's disconnect listener
    assert socket.event_names() == []
    assert socket.on("a", on_a) is socket
    socket.once("b", on_b)
    assert socket.event_names() == ["a", "b"]
    assert socket.listeners("a") == [on_a]
    client.emit("a", 1)
    client.emit("b", 2)
    client.emit("b", 3)
    assert calls == [("a", (1,)), ("b", (2,))]
    assert socket.event_names() == ["a"]
    socket.remove_listener("a", on_a)
    client.emit("a", 4)
    assert calls == [("a", (1,)), ("b", (2,))]
    assert socket.event_names() == []


def test_once_listener_removed_before_it_fires(eio: int) -> None:
    setup, client, socket = one_client(eio)
    calls: List[Any] = []

    def on_x(*args: Any) -> None:
        calls.append(args)

    socket.once("x", on_x)
    socket.off("x", on_x)
    client.emit("x", 1)
    assert calls == []


def test_decorators_and_remove_all_listeners_of_one_event(eio: int) -> None:
    setup, client, socket = one_client(eio)
    calls: List[str] = []

    @socket.on("x")
    def first() -> None:
        calls.append("first")

    @socket.on("x")
    def second() -> None:
        calls.append("second")

    @socket.on("y")
    def third() -> None:
        calls.append("third")

    client.emit("x")
    assert calls == ["first", "second"]
    socket.remove_all_listeners("x")
    client.emit("x")
    client.emit("y")
    assert calls == ["first", "second", "third"]
    assert "x" not in socket.event_names()
    assert "y" in socket.event_names()


def test_on_any_sees_every_event_first(eio: int) -> None:
    setup, client, socket = one_client(eio)
    calls: List[Any] = []
    socket.on("named", lambda *args: calls.append(("named", args)))

    @socket.on_any
    def catch_all(event: str, *args: Any) -> None:
        calls.append(("any", event, args))

    client.emit("named", 1, "two")
    client.emit("unhandled", {"k": [1]})
    assert calls == [("any", "named", (1, "two")), ("named", (1, "two")),
                     ("any", "unhandled", ({"k": [1]},))]
    socket.off_any(catch_all)
    client.emit("unhandled")
    assert len(calls) == 3


def test_an_exception_in_a_handler_reaches_error_listeners(eio: int) -> None:
    setup, client, socket = one_client(eio)
    errors: List[str] = []
    socket.on("error", lambda exc: errors.append(str(exc)))

    def broken() -> None:
        raise RuntimeError("handler bug")

    socket.on("boom", broken)
    socket.on("fine", lambda ack: ack("ok"))
    client.emit("boom")
    assert errors == ["handler bug"]
    assert client.emit("fine", ack=True) == ["ok"]  # the socket keeps working
    assert client.is_connected() is True


# -- acks from the client's side ----------------------------------------------------------


def test_an_incoming_ack_request_gives_the_handler_a_callable(eio: int) -> None:
    setup, client, socket = one_client(eio)
    got: List[Any] = []

    def handler(x: int, ack: Any) -> None:
        got.append(ack)
        ack(x + 1, "two", {"three": [3]})
        ack("ignored: only the first call counts")

    socket.on("add", handler)
    assert client.emit("add", 1, ack=True) == [2, "two", {"three": [3]}]
    assert isinstance(got[0], Ack)
    assert got[0].sent is True


def test_an_event_without_ack_id_gets_no_callable(eio: int) -> None:
    setup, client, socket = one_client(eio)
    got: List[Tuple[Any, ...]] = []
    socket.on("plain", lambda *args: got.append(args))
    client.emit("plain", 1, 2)
    assert got == [(1, 2)]


def test_the_return_value_becomes_the_ack(eio: int) -> None:
    setup, client, socket = one_client(eio)
    socket.on("double", lambda x, ack: x * 2)
    socket.on("pair", lambda ack: ("a", 1))
    socket.on("nothing", lambda ack: None)
    socket.on("explicit", lambda ack: ack("called") or "returned")
    assert client.emit("double", 21, ack=True) == [42]
    assert client.emit("pair", ack=True) == ["a", 1]
    assert client.emit("nothing", ack=True) is None  # no ack sent at all
    assert client.emit("explicit", ack=True) == ["called"]


def test_a_handler_may_ack_later_from_another_greenlet(eio: int) -> None:
    setup, client, socket = one_client(eio)
    kept: List[Any] = []

    def later(ack: Any) -> None:
        kept.append(ack)

    socket.on("later", later)
    assert client.emit("later", ack=True) is None  # not answered yet
    gevent.spawn(kept[0], "late").get(timeout=1)
    client.settle()
    assert client._acks == {0: ["late"]}


def test_a_non_json_return_value_does_not_burn_the_ack(eio: int) -> None:
    setup, client, socket = one_client(eio)
    kept: List[Any] = []

    def later(ack: Any) -> object:
        kept.append(ack)
        return object()  # e.g. the Greenlet of ``lambda ack: gevent.spawn_later(1, ack)``

    socket.on("later", later)
    assert client.emit("later", ack=True) is None
    gevent.spawn(kept[0], "late").get(timeout=1)
    client.settle()
    assert client._acks == {0: ["late"]}


# -- acks from the server's side ---------------------------------------------------------


def test_emit_with_a_callback_gets_the_values(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("q", lambda x: (x, "b"))
    result: AsyncResult = AsyncResult()
    assert socket.emit("q", "a", callback=lambda *values: result.set(values)) is True
    assert result.get(timeout=2) == ("a", "b")


def test_send_with_a_callback(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("message", lambda text: text.upper())
    result: AsyncResult = AsyncResult()
    socket.send("hi", callback=lambda *values: result.set(values))
    assert result.get(timeout=2) == ("HI",)


def test_call_returns_one_value_a_tuple_or_none(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("one", lambda: 1)
    client.on("two", lambda: (1, [2]))
    client.on("none", lambda: None)
    assert socket.call("one", timeout=1) == 1
    assert socket.call("two", timeout=1) == (1, [2])
    assert socket.call("none", timeout=1) is None
    assert socket.call("unhandled-by-the-client", timeout=1) is None
    client.on("echo", lambda *args: args)
    assert socket.call("echo", "x", {"y": 1}, timeout=1) == ("x", {"y": 1})


def test_call_from_a_handler(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("name?", lambda: "ann")
    socket.on("hello", lambda ack: "hello " + socket.call("name?", timeout=1))
    assert client.emit("hello", ack=True) == ["hello ann"]


def test_call_times_out(eio: int) -> None:
    setup, client, socket = one_client(eio)
    asked, release = Event(), Event()
    client.on("q", stalling(asked, release))
    started = time.monotonic()
    try:
        with pytest.raises(AckTimeout):
            socket.call("q", timeout=0.2)
    finally:
        release.set()
    assert asked.is_set() is True
    assert 0.15 <= time.monotonic() - started < 1.0
    assert len(socket.acks) == 0  # the waiter is gone


@pytest.mark.parametrize("how", ["namespace", "connection"])
def test_call_raises_disconnected_promptly(eio: int, how: str) -> None:
    setup, client, socket = one_client(eio)
    asked, release = Event(), Event()
    client.on("q", stalling(asked, release))
    try:
        started = time.monotonic()
        caller = gevent.spawn(socket.call, "q", timeout=10)
        assert asked.wait(2) is True
        client.disconnect("/" if how == "namespace" else None)
        with pytest.raises(Disconnected):
            caller.get(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert elapsed < 1.0


def test_call_on_a_disconnected_socket_raises_at_once(eio: int) -> None:
    setup, client, socket = one_client(eio)
    socket.disconnect()
    started = time.monotonic()
    with pytest.raises(Disconnected):
        socket.call("q", timeout=10)
    assert time.monotonic() - started < 0.5


def test_timeout_emit_calls_back_with_an_error_or_the_values(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("fast", lambda x: (x, x + 1))
    answered: AsyncResult = AsyncResult()
    socket.timeout(1).emit("fast", 1, callback=lambda *args: answered.set(args))
    assert answered.get(timeout=2) == (None, 1, 2)

    asked, release = Event(), Event()
    client.on("slow", stalling(asked, release))
    timed_out: AsyncResult = AsyncResult()
    started = time.monotonic()
    try:
        socket.timeout(0.2).emit("slow", callback=lambda *args: timed_out.set(args))
        args = timed_out.get(timeout=2)
    finally:
        release.set()
    assert len(args) == 1
    assert isinstance(args[0], AckTimeout)
    assert 0.15 <= time.monotonic() - started < 1.0


def test_a_late_answer_after_the_timeout_is_ignored(eio: int) -> None:
    setup, client, socket = one_client(eio)
    asked, release = Event(), Event()
    client.on("slow", stalling(asked, release))
    calls: List[Tuple[Any, ...]] = []
    done = Event()

    def callback(*args: Any) -> None:
        calls.append(args)
        done.set()

    socket.timeout(0.1).emit("slow", callback=callback)
    assert done.wait(2) is True
    release.set()  # the client answers now, too late
    client.settle()
    assert len(calls) == 1
    assert isinstance(calls[0][0], AckTimeout)


def test_a_pending_timeout_callback_hears_about_a_disconnect(eio: int) -> None:
    setup, client, socket = one_client(eio)
    asked, release = Event(), Event()
    client.on("q", stalling(asked, release))
    result: AsyncResult = AsyncResult()
    try:
        socket.timeout(10).emit("q", callback=lambda *args: result.set(args))
        assert asked.wait(2) is True
        client.disconnect()
        args = result.get(timeout=1)
    finally:
        release.set()
    assert len(args) == 1
    assert isinstance(args[0], Disconnected)


def test_a_timeout_emit_on_a_disconnected_socket_calls_back_with_disconnected(eio: int) -> None:
    setup, client, socket = one_client(eio)
    socket.disconnect()
    result: AsyncResult = AsyncResult()
    socket.timeout(1).emit("q", callback=lambda *args: result.set(args))
    args = result.get(timeout=1)
    assert len(args) == 1
    assert isinstance(args[0], Disconnected)


def test_timeout_call_uses_the_flag(eio: int) -> None:
    setup, client, socket = one_client(eio)
    client.on("q", lambda: "answer")
    assert socket.timeout(1).call("q") == "answer"


# -- packet middlewares --------------------------------------------------------------------


def test_packet_middleware_passes_and_may_change_the_packet(eio: int) -> None:
    setup, client, socket = one_client(eio)
    seen: List[Any] = []

    def upper(packet: List[Any], next: Callable[..., None]) -> None:
        seen.append(list(packet))
        packet[1] = packet[1].upper()
        next()

    assert socket.use(upper) is socket
    socket.on("say", lambda text, ack: "got " + text)
    assert client.emit("say", "hi", ack=True) == ["got HI"]
    assert seen == [["say", "hi"]]


def test_packet_middleware_error_stops_the_handler_and_emits_error(eio: int) -> None:
    setup, client, socket = one_client(eio)
    handled: List[Any] = []
    errors: List[Any] = []
    order: List[str] = []

    def first(packet: List[Any], next: Callable[..., None]) -> None:
        order.append("first")
        if packet[0] == "forbidden":
            next(Exception("not allowed"))
        else:
            next()

    def second(packet: List[Any], next: Callable[..., None]) -> None:
        order.append("second")
        next()

    socket.use(first).use(second)
    socket.on("forbidden", lambda *args: handled.append(("forbidden", args)))
    socket.on("allowed", lambda *args: handled.append(("allowed", args)))
    socket.on("error", lambda err: errors.append(err))
    assert client.emit("forbidden", 1, ack=True) is None
    client.emit("allowed", 2)
    assert handled == [("allowed", (2,))]
    assert order == ["first", "first", "second"]
    assert len(errors) == 1
    assert isinstance(errors[0], Exception)
    assert str(errors[0]) == "not allowed"
    if eio == 3:  # socket.io 2 told the client with an ERROR packet
        assert client.errors == {"/": "not allowed"}
    else:
        assert client.errors == {}
    assert client.is_connected() is True


def test_raising_in_a_packet_middleware_is_like_next_err(eio: int) -> None:
    setup, client, socket = one_client(eio)
    errors: List[str] = []
    handled: List[str] = []

    def explode(packet: List[Any], next: Callable[..., None]) -> None:
        raise ValueError("bad packet")

    socket.use(explode)
    socket.on("x", lambda: handled.append("x"))
    socket.on("error", lambda err: errors.append(str(err)))
    client.emit("x")
    assert handled == []
    assert errors == ["bad packet"]


def test_a_packet_middleware_not_calling_next_drops_the_packet(eio: int) -> None:
    setup, client, socket = one_client(eio)
    handled: List[str] = []
    socket.use(lambda packet, next: None)
    socket.on("x", lambda: handled.append("x"))
    client.emit("x")
    assert handled == []
    assert client.is_connected() is True


# -- ordering ----------------------------------------------------------------------------------


def test_events_of_one_client_run_in_order_even_when_a_handler_blocks(eio: int) -> None:
    setup, client, socket = one_client(eio, settle_timeout=0.01)
    log: List[str] = []

    def slow() -> None:
        log.append("slow-start")
        gevent.sleep(0.1)
        log.append("slow-end")

    socket.on("slow", slow)
    socket.on("fast", lambda: log.append("fast"))
    client.emit("slow")
    client.emit("fast")
    assert log == ["slow-start"]  # fast waits behind slow
    client.settle(2)
    assert log == ["slow-start", "slow-end", "fast"]


def test_one_handler_greenlet_per_socket_alive_only_while_events_are_queued(eio: int) -> None:
    setup, client, socket = one_client(eio, settle_timeout=0.01)
    release = Event()
    ran: List[Tuple[str, Any]] = []
    socket.on("block", lambda: (ran.append(("block", gevent.getcurrent())), release.wait(2)))
    socket.on("next", lambda n: ran.append(("next %d" % n, gevent.getcurrent())))
    assert socket._worker is None  # idle: no greenlet
    client.emit("block")
    for n in range(5):
        client.emit("next", n)
    worker = socket._worker
    assert worker is not None and not worker.dead
    release.set()
    assert wait_until(lambda: socket._worker is None)
    assert [name for name, _ in ran] == ["block"] + ["next %d" % n for n in range(5)]
    assert {id(greenlet) for _, greenlet in ran} == {id(worker)}  # the queue shared one
    assert worker.dead


def test_other_clients_are_served_while_one_handler_blocks(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    blocked = setup.client(eio, "a", settle_timeout=0.01)
    other = setup.client(eio, "b")
    release = Event()
    setup.socket("a").on("block", lambda: release.wait(2))
    setup.socket("b").on("quick", lambda ack: "quick")
    try:
        blocked.emit("block")
        started = time.monotonic()
        assert other.emit("quick", ack=True) == ["quick"]
        assert time.monotonic() - started < 0.5
    finally:
        release.set()


def test_a_handler_waiting_in_call_still_gets_its_ack(eio: int) -> None:
    setup, client, socket = one_client(eio, settle_timeout=0.01)
    log: List[Any] = []
    client.on("q", lambda: "answer")

    def ask() -> None:
        log.append("ask-start")
        log.append(("ask-got", socket.call("q", timeout=2)))

    socket.on("ask", ask)
    socket.on("next", lambda: log.append("next"))
    started = time.monotonic()
    client.emit("ask")
    client.emit("next")
    client.settle(3)
    assert log == ["ask-start", ("ask-got", "answer"), "next"]
    assert time.monotonic() - started < 1.0


# -- disconnecting -------------------------------------------------------------------------


@pytest.mark.parametrize("nsp", ["/", "/chat"])
def test_server_disconnect(eio: int, nsp: str) -> None:
    setup, client, socket = one_client(eio, nsp)
    socket.join("room")
    seen: List[Any] = []
    socket.on("disconnecting", lambda reason: seen.append(("disconnecting", reason,
                                                           socket.rooms)))
    socket.on("disconnect", lambda reason: seen.append(("disconnect", reason, socket.rooms)))
    sid = socket.id
    assert socket.disconnect() is socket
    client.settle()
    assert client.disconnected == [nsp]
    assert nsp not in client.sids
    assert seen == [("disconnecting", "server namespace disconnect", {sid, "room"}),
                    ("disconnect", "server namespace disconnect", set())]
    assert socket.connected is False
    assert sid not in setup.io.of(nsp).sockets
    assert setup.io.of(nsp).to("room").clients() == []
    assert client.conn.closed is False
    socket.disconnect()  # twice is harmless
    client.settle()
    assert client.disconnected == [nsp]
    assert [s[0] for s in seen] == ["disconnecting", "disconnect"]


def test_a_disconnected_socket_gets_no_more_events(eio: int) -> None:
    setup, client, socket = one_client(eio, "/chat")
    handled: List[str] = []
    socket.on("x", lambda: handled.append("x"))
    socket.disconnect()
    client.settle()
    client.emit("x", namespace="/chat")
    assert handled == []


def test_disconnect_with_close_closes_the_connection(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(eio, "a", "/", "/chat")
    setup.socket("a", "/chat").disconnect(close=True)
    client.settle()
    assert sorted(setup.reasons) == [("a", "/", "server namespace disconnect"),
                                     ("a", "/chat", "server namespace disconnect")]
    assert sorted(client.disconnected) == ["/", "/chat"]
    assert client.closed is True
    assert client.conn.closed is True
    assert setup.io.engine.clients_count == 0


def test_client_namespace_disconnect(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(eio, "a", "/", "/chat")
    client.disconnect("/chat")
    assert setup.reasons == [("a", "/chat", "client namespace disconnect")]
    assert setup.io.of("/chat").sockets == {}
    assert client.conn.closed is False
    assert client.is_connected("/") is True
    # and it may come back
    assert client.connect("/chat") is True
    assert len(setup.io.of("/chat").sockets) == 1


def test_engine_close_by_the_server_is_a_forced_close(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(eio, "a", "/", "/chat")
    client.disconnect()
    assert sorted(setup.reasons) == [("a", "/", "forced close"), ("a", "/chat", "forced close")]
    assert setup.io.of("/").sockets == {} and setup.io.of("/chat").sockets == {}


def test_transport_gone_is_a_transport_close(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    client = setup.client(eio, "a", "/", "/chat")
    client.conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)  # the websocket went away
    client.settle()
    assert sorted(setup.reasons) == [("a", "/", "transport close"),
                                     ("a", "/chat", "transport close")]


def test_an_engine_close_packet_from_the_client_is_a_transport_close(eio: int) -> None:
    setup, client, socket = one_client(eio, "/chat")
    client.conn.receive(EnginePacket(EnginePacketType.CLOSE), time.monotonic())
    client.settle()
    assert setup.reasons == [("a", "/chat", "transport close")]
    assert client.conn.closed is True
    assert setup.io.engine.clients_count == 0


def test_a_malformed_packet_closes_with_parse_error(eio: int) -> None:
    setup, client, socket = one_client(eio, "/chat")
    client.raw("2[bad json")
    assert client.conn.closed is True
    assert client.conn.session.reason == CloseReason.PARSE_ERROR
    assert setup.reasons == [("a", "/chat", "parse error")]


def test_server_close_disconnects_everyone(eio: int) -> None:
    setup = Setup()
    setup.watch("/")
    setup.watch("/chat")
    first = setup.client(eio, "a", "/", "/chat")
    second = setup.client(eio, "b", "/")
    done: List[bool] = []
    setup.io.close(callback=lambda: done.append(True))
    first.settle()
    second.settle()
    assert done == [True]
    assert sorted(setup.reasons) == [("a", "/", "server shutting down"),
                                     ("a", "/chat", "server shutting down"),
                                     ("b", "/", "server shutting down")]
    assert first.closed is True and second.closed is True
    assert setup.io.engine.clients_count == 0


# -- volatile and binary ------------------------------------------------------------------


def test_volatile_emit_is_dropped_when_the_transport_is_busy(eio: int) -> None:
    setup, client, socket = one_client(eio)
    socket.emit("queued", 1)  # the outbox is not empty until the client reads
    assert client.conn.session.writable() is False
    socket.volatile.emit("dropped", 2)
    setup.io.volatile.emit("dropped-too", 3)
    client.settle()
    assert client.conn.session.writable() is True
    socket.volatile.emit("delivered", 4)
    client.settle()
    setup.io.volatile.emit("broadcast-delivered", 5)
    assert events(client) == [("queued", [1]), ("delivered", [4]),
                              ("broadcast-delivered", [5])]


def test_binary_arguments_round_trip_as_bytes(eio: int) -> None:
    setup, client, socket = one_client(eio)
    received: List[Any] = []

    def echo(*args: Any) -> Any:
        *values, ack = args
        received.append(values)
        return tuple(values)

    socket.on("bin", echo)
    payload = {"a": [b"\x00\x01", {"b": b"xyz"}], "n": 1}
    assert client.emit("bin", payload, b"top", [[b""]], ack=True) == [payload, b"top", [[b""]]]
    assert received == [[payload, b"top", [[b""]]]]
    assert isinstance(received[0][0]["a"][0], bytes)

    socket.emit("to-client", [1, {"deep": b"\xff\xfe"}], b"\x00")
    assert events(client) == [("to-client", [[1, {"deep": b"\xff\xfe"}], b"\x00"])]
    client.on("bin-q", lambda data: {"echo": data})
    assert socket.call("bin-q", b"\x10\x20", timeout=1) == {"echo": b"\x10\x20"}


def test_emit_returns_true_and_keeps_unicode(eio: int) -> None:
    setup, client, socket = one_client(eio)
    assert socket.emit("text", "héllo ✓", {"ключ": "值"}) is True
    assert events(client) == [("text", ["héllo ✓", {"ключ": "值"}])]


def test_emit_with_no_ack_payloads_types(eio: int) -> None:
    setup, client, socket = one_client(eio)
    socket.emit("types", None, True, 1.5, [], {})
    assert events(client) == [("types", [None, True, 1.5, [], {}])]

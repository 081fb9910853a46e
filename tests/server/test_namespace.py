"""Namespaces: connection handlers, connect middlewares, dynamic namespaces, broadcasts.

Every test drives a real ``sio_core.Server`` with in-memory ``TestClient``s, for
Socket.IO 5 (Engine.IO 4) and, where the behaviour applies, Socket.IO 4 (Engine.IO 3).
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Tuple

import gevent
import pytest
from gevent.event import AsyncResult, Event

import sio_core
from sio_core import AckTimeout, ConnectionRefusedError, ReservedEventError, Server
from sio_core.socketio import RESERVED_EVENTS
from sio_core.testing import TestClient, make_environ
from tests.helpers import FakeClock, wait_until


@pytest.fixture(params=[4, 3], ids=["sio5", "sio4"])
def eio(request: Any) -> int:
    """The Engine.IO revision the test clients speak."""
    return request.param


def client_for(io: Server, eio: int, **query: str) -> TestClient:
    """A test client whose handshake carries ``query``."""
    return TestClient(io, eio=eio, environ=make_environ(query=query, eio=eio))


def refusal(eio: int, message: str) -> Any:
    """What a client of ``eio`` receives when refused with ``message`` (no data)."""
    return {"message": message} if eio == 4 else message


def events(client: TestClient, nsp: str = "/") -> List[Tuple[str, List[Any]]]:
    """``(name, args)`` of the events ``client`` received on ``nsp`` since the last call."""
    return [(e["name"], e["args"]) for e in client.get_received(nsp)]


# -- connection handlers ------------------------------------------------------------------


def test_connection_and_connect_handlers_get_the_new_socket(eio: int) -> None:
    io = Server()
    seen: List[Tuple[str, str, str, bool]] = []
    io.on("connection", lambda s: seen.append(("connection", s.nsp.name, s.id, s.connected)))
    io.on("connect", lambda s: seen.append(("connect", s.nsp.name, s.id, s.connected)))
    client = TestClient(io, eio=eio)
    assert client.connect() is True
    sid = client.sids["/"]
    assert seen == [("connection", "/", sid, True), ("connect", "/", sid, True)]
    assert list(io.sockets.sockets) == [sid]
    assert io.of("/").sockets[sid].id == sid


def test_handlers_of_a_named_namespace_only_see_that_namespace(eio: int) -> None:
    io = Server()
    root: List[str] = []
    chat: List[str] = []
    io.on("connection", lambda s: root.append(s.nsp.name))
    assert io.of("/chat").on("connection", lambda s: chat.append(s.id)) is io.of("/chat")
    client = TestClient(io, eio=eio)
    assert client.connect() is True
    assert client.connect("/chat") is True
    assert root == ["/"]
    assert chat == [client.sids["/chat"]]


def test_of_takes_a_name_without_slash_and_a_connection_handler(eio: int) -> None:
    io = Server()
    seen: List[str] = []
    nsp = io.of("news", lambda s: seen.append(s.nsp.name))
    assert nsp is io.of("/news")
    assert nsp.name == "/news"

    @io.on_connection
    def on_root(socket: Any) -> None:
        seen.append("root:" + socket.nsp.name)

    client = TestClient(io, eio=eio)
    assert client.connect() is True
    assert client.connect("/news") is True
    assert seen == ["root:/", "/news"]


def test_decorator_form_of_on(eio: int) -> None:
    io = Server()
    seen: List[str] = []

    @io.of("/deco").on("connect")
    def handler(socket: Any) -> None:
        seen.append(socket.id)

    assert callable(handler)
    client = TestClient(io, eio=eio)
    assert client.connect("/deco") is True
    assert seen == [client.sids["/deco"]]


# -- connect middlewares ------------------------------------------------------------------


def test_a_middleware_calling_next_admits(eio: int) -> None:
    io = Server()
    seen: List[str] = []

    @io.use
    def admit(socket: Any, next: Callable[..., None]) -> None:
        seen.append("middleware:" + socket.id)
        socket.data["user"] = "ann"
        next()

    io.on("connection", lambda s: seen.append("connection:" + s.data["user"]))
    client = TestClient(io, eio=eio)
    assert client.connect() is True
    assert seen == ["middleware:" + client.sids["/"], "connection:ann"]
    assert client.errors == {}


def test_a_middleware_may_call_next_later_from_another_greenlet(eio: int) -> None:
    io = Server()
    io.of("/later").use(lambda socket, next: gevent.spawn_later(0.02, next))
    client = TestClient(io, eio=eio)
    assert client.connect("/later") is True
    assert client.sids["/later"] in io.of("/later").sockets


@pytest.mark.parametrize("nsp", ["/", "/chat"])
def test_next_with_an_error_refuses_with_its_message(eio: int, nsp: str) -> None:
    io = Server()
    connected: List[str] = []
    io.of(nsp).use(lambda socket, next: next(Exception("nope")))
    io.of(nsp).on("connection", lambda s: connected.append(s.id))
    client = TestClient(io, eio=eio)
    assert client.connect(nsp) is False
    assert client.errors == {nsp: refusal(eio, "nope")}
    assert connected == []
    assert io.of(nsp).sockets == {}
    assert nsp not in client.conn.owner.sockets


def test_connection_refused_error_carries_data(eio: int) -> None:
    io = Server()
    io.of("/chat").use(lambda socket, next: next(ConnectionRefusedError("nope", {"x": 1})))
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is False
    if eio == 4:
        assert client.errors["/chat"] == {"message": "nope", "data": {"x": 1}}
    else:  # socket.io 2 sent ``err.data || err.message``
        assert client.errors["/chat"] == {"x": 1}


def test_connection_refused_error_without_data_is_the_plain_message(eio: int) -> None:
    io = Server()
    io.of("/chat").use(lambda socket, next: next(ConnectionRefusedError("go away")))
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is False
    assert client.errors["/chat"] == refusal(eio, "go away")


def test_raising_in_a_middleware_refuses(eio: int) -> None:
    io = Server()

    def explode(socket: Any, next: Callable[..., None]) -> None:
        raise ValueError("boom")

    io.of("/chat").use(explode)
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is False
    assert client.errors["/chat"] == refusal(eio, "boom")
    assert io.of("/chat").sockets == {}


def test_a_refused_client_may_still_use_other_namespaces(eio: int) -> None:
    io = Server()
    io.of("/private").use(lambda socket, next: next(Exception("private")))
    client = TestClient(io, eio=eio)
    assert client.connect("/private") is False
    assert client.connect("/public") is False  # unknown: refused too
    io.of("/public").on("connection", lambda s: s.on("ping", lambda ack: "pong"))
    assert client.connect("/public") is True
    assert client.conn.closed is False
    assert client.emit("ping", namespace="/public", ack=True) == ["pong"]


def test_middlewares_run_in_order_and_a_refusal_stops_the_chain(eio: int) -> None:
    io = Server()
    order: List[str] = []
    nsp = io.of("/chat")

    def first(socket: Any, next: Callable[..., None]) -> None:
        order.append("first")
        next()

    def second(socket: Any, next: Callable[..., None]) -> None:
        order.append("second")
        if socket.handshake.query.get("deny"):
            next(Exception("denied"))
        else:
            next()

    def third(socket: Any, next: Callable[..., None]) -> None:
        order.append("third")
        next()

    assert nsp.use(first) is first
    nsp.use(second)
    nsp.use(third)
    nsp.on("connection", lambda s: order.append("connection"))

    ok = client_for(io, eio)
    assert ok.connect("/chat") is True
    assert order == ["first", "second", "third", "connection"]

    order.clear()
    denied = client_for(io, eio, deny="1")
    assert denied.connect("/chat") is False
    assert order == ["first", "second"]
    assert denied.errors["/chat"] == refusal(eio, "denied")


def test_rooms_joined_in_a_middleware_are_kept(eio: int) -> None:
    io = Server()
    rooms: List[Any] = []

    def join_team(socket: Any, next: Callable[..., None]) -> None:
        socket.join("team")
        next()

    io.of("/chat").use(join_team)
    io.of("/chat").on("connection", lambda s: rooms.append(s.rooms))
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is True
    assert rooms == [{client.sids["/chat"], "team"}]
    assert io.of("/chat").to("team").clients() == [client.sids["/chat"]]


def test_rooms_joined_by_a_refusing_middleware_are_left_again(eio: int) -> None:
    io = Server()

    def join_then_refuse(socket: Any, next: Callable[..., None]) -> None:
        socket.join(["team", "all"])
        next(Exception("no"))

    io.of("/chat").use(join_then_refuse)
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is False
    adapter = io.of("/chat").adapter
    assert adapter.rooms == {}
    assert adapter.sids == {}
    assert io.of("/chat").to("team").clients() == []


def test_rooms_joined_in_the_connection_handler_are_kept(eio: int) -> None:
    io = Server()
    io.of("/chat").on("connection", lambda s: s.join(["team", "all"]))
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is True
    sid = client.sids["/chat"]
    assert io.of("/chat").sockets[sid].rooms == {sid, "team", "all"}
    assert io.of("/chat").to("team").clients() == [sid]


def test_packets_emitted_by_a_middleware_follow_the_connect_reply(eio: int) -> None:
    io = Server()

    def greet(socket: Any, next: Callable[..., None]) -> None:
        socket.emit("welcome", "early")
        next()

    io.of("/chat").use(greet)
    io.of("/chat").on("connection", lambda s: s.emit("hello", s.id))
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is True
    assert events(client, "/chat") == [("welcome", ["early"]),
                                       ("hello", [client.sids["/chat"]])]


def test_an_unknown_namespace_is_refused(eio: int) -> None:
    io = Server()
    client = TestClient(io, eio=eio)
    assert client.connect("/nowhere") is False
    assert client.errors == {"/nowhere": refusal(eio, "Invalid namespace")}
    assert "/nowhere" not in io.nsps
    assert client.conn.closed is False


# -- dynamic namespaces ----------------------------------------------------------------


def test_a_regex_namespace_creates_matching_children(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/dyn-\d+$"))
    seen: List[Tuple[str, Any]] = []
    parent.on("connection", lambda s: seen.append((s.nsp.name, s.nsp.parent)))
    client = TestClient(io, eio=eio)
    assert client.connect("/dyn-12") is True
    assert client.connect("/dyn-x") is False
    assert client.errors == {"/dyn-x": refusal(eio, "Invalid namespace")}
    assert seen == [("/dyn-12", parent)]
    assert list(parent.children) == ["/dyn-12"]
    assert client.sids["/dyn-12"] in parent.children["/dyn-12"].sockets
    # a second client reuses the child
    other = TestClient(io, eio=eio)
    assert other.connect("/dyn-12") is True
    assert list(parent.children) == ["/dyn-12"]
    assert len(parent.children["/dyn-12"].sockets) == 2


def test_a_regex_must_match_the_whole_name(eio: int) -> None:
    io = Server()
    io.of(re.compile(r"/room-\d"))
    client = TestClient(io, eio=eio)
    assert client.connect("/room-1") is True
    assert client.connect("/room-12") is False


def test_a_callable_namespace_decides_by_name(eio: int) -> None:
    io = Server()
    asked: List[str] = []

    def matcher(name: str, auth: Any) -> bool:
        asked.append(name)
        return name.startswith("/team-")

    parent = io.of(matcher)
    connected: List[str] = []
    parent.on("connection", lambda s: connected.append(s.nsp.name))
    client = TestClient(io, eio=eio)
    assert client.connect("/team-red") is True
    assert client.connect("/other") is False
    assert connected == ["/team-red"]
    assert asked == ["/team-red", "/other"]


def test_a_callable_namespace_sees_the_auth_payload() -> None:
    io = Server()
    parent = io.of(lambda name, auth: name == "/vault" and auth.get("key") == "k")
    connected: List[str] = []
    parent.on("connection", lambda s: connected.append(s.handshake.auth["key"]))
    wrong = TestClient(io, eio=4)
    assert wrong.connect("/vault", {"key": "bad"}) is False
    assert wrong.errors == {"/vault": {"message": "Invalid namespace"}}
    right = TestClient(io, eio=4)
    assert right.connect("/vault", {"key": "k"}) is True
    assert connected == ["k"]


def test_a_failing_matcher_refuses_instead_of_crashing(eio: int) -> None:
    io = Server()

    def broken(name: str, auth: Any) -> bool:
        raise RuntimeError("matcher bug")

    io.of(broken)
    client = TestClient(io, eio=eio)
    assert client.connect("/x") is False
    assert client.errors == {"/x": refusal(eio, "Invalid namespace")}
    assert client.conn.closed is False


def test_parent_handlers_and_middlewares_apply_to_children(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/p-\w+$"))
    order: List[str] = []

    def guard(socket: Any, next: Callable[..., None]) -> None:
        order.append("guard:" + socket.nsp.name)
        if socket.nsp.name == "/p-blocked":
            next(Exception("blocked"))
        else:
            next()

    parent.use(guard)
    parent.on("connection", lambda s: order.append("connection:" + s.nsp.name))
    client = TestClient(io, eio=eio)
    assert client.connect("/p-a") is True
    assert client.connect("/p-blocked") is False
    assert client.errors["/p-blocked"] == refusal(eio, "blocked")
    # a handler added after a child exists reaches that child too
    parent.on("connection", lambda s: order.append("late:" + s.nsp.name))
    other = TestClient(io, eio=eio)
    assert other.connect("/p-a") is True
    assert order == ["guard:/p-a", "connection:/p-a", "guard:/p-blocked",
                     "guard:/p-a", "connection:/p-a", "late:/p-a"]


def test_emit_on_a_parent_reaches_every_child(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/c-\d$"))
    one = TestClient(io, eio=eio)
    two = TestClient(io, eio=eio)
    assert one.connect("/c-1") is True
    assert two.connect("/c-2") is True
    parent.emit("news", 1)
    assert events(one, "/c-1") == [("news", [1])]
    assert events(two, "/c-2") == [("news", [1])]
    # a child emits to its own sockets only
    parent.children["/c-1"].emit("only", 2)
    assert events(one, "/c-1") == [("only", [2])]
    assert events(two, "/c-2") == []


def test_targeted_emit_on_a_parent_reaches_room_members_of_every_child(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/c-\d$"))
    parent.on("connection", lambda s: s.join("r") if s.nsp.name == "/c-1" else None)
    one = TestClient(io, eio=eio)
    two = TestClient(io, eio=eio)
    assert one.connect("/c-1") is True
    assert two.connect("/c-2") is True
    parent.to("r").emit("room-news")
    parent.except_("r").emit("not-room")
    assert events(one, "/c-1") == [("room-news", [])]
    assert events(two, "/c-2") == [("not-room", [])]


def test_parent_operations_span_every_child(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/c-\d$"))
    one = TestClient(io, eio=eio)
    two = TestClient(io, eio=eio)
    assert one.connect("/c-1") is True
    assert two.connect("/c-2") is True
    ids = sorted([one.sids["/c-1"], two.sids["/c-2"]])
    assert parent.clients() == ids
    assert parent.all_sockets() == set(ids)
    assert sorted(s.id for s in parent.fetch_sockets()) == ids
    parent.sockets_join("everyone")
    assert parent.to("everyone").clients() == ids
    parent.sockets_leave("everyone")
    assert parent.to("everyone").clients() == []
    one.on("q", lambda: "one")
    two.on("q", lambda: "two")
    assert sorted(parent.timeout(1).call("q")) == ["one", "two"]
    parent.disconnect_sockets()
    one.settle()
    two.settle()
    assert one.disconnected == ["/c-1"]
    assert two.disconnected == ["/c-2"]
    assert parent.clients() == []


def test_a_static_namespace_wins_over_a_dynamic_one(eio: int) -> None:
    io = Server()
    static: List[str] = []
    dynamic: List[str] = []
    io.of("/n-1").on("connection", lambda s: static.append(s.id))
    io.of(re.compile(r"^/n-\d$")).on("connection", lambda s: dynamic.append(s.id))
    client = TestClient(io, eio=eio)
    assert client.connect("/n-1") is True
    assert client.connect("/n-2") is True
    assert static == [client.sids["/n-1"]]
    assert dynamic == [client.sids["/n-2"]]


def test_of_refuses_other_specs() -> None:
    io = Server()
    with pytest.raises(TypeError):
        io.of(42)  # type: ignore[arg-type]


# -- broadcasting -------------------------------------------------------------------------


class Room:
    """Three clients a, b, c on ``/chat``: a in r1; b in r1 and r2; c in no room."""

    def __init__(self, eio: int, nsp_name: str = "/chat") -> None:
        self.io = Server()
        self.name = nsp_name
        self.nsp = self.io.of(nsp_name)
        self.sockets: Dict[str, Any] = {}
        self.nsp.on("connection",
                    lambda s: self.sockets.__setitem__(s.handshake.query["who"], s))
        self.clients: Dict[str, TestClient] = {}
        for who in "abc":
            client = client_for(self.io, eio, who=who)
            assert client.connect(nsp_name) is True
            self.clients[who] = client
        self.sockets["a"].join("r1")
        self.sockets["b"].join(["r1", "r2"])

    def ids(self, *who: str) -> List[str]:
        return sorted(self.sockets[w].id for w in who)

    def received(self) -> Dict[str, List[Tuple[str, List[Any]]]]:
        return {w: events(c, self.name) for w, c in self.clients.items()}


@pytest.mark.parametrize("nsp", ["/", "/chat"])
def test_emit_to_everyone(eio: int, nsp: str) -> None:
    room = Room(eio, nsp)
    target = room.io if nsp == "/" else room.nsp
    assert target.emit("hi", 1, {"two": 2}) is True
    assert room.received() == {w: [("hi", [1, {"two": 2}])] for w in "abc"}


def test_send_emits_a_message_event(eio: int) -> None:
    room = Room(eio)
    room.nsp.send("text", 2)
    room.nsp.write("again")
    assert room.received() == {w: [("message", ["text", 2]), ("message", ["again"])]
                               for w in "abc"}


def test_to_one_room(eio: int) -> None:
    room = Room(eio)
    room.nsp.to("r2").emit("x", "r2")
    room.nsp.in_("r1").emit("y", "r1")
    assert room.received() == {"a": [("y", ["r1"])], "b": [("x", ["r2"]), ("y", ["r1"])],
                               "c": []}


def test_several_rooms_reach_each_socket_once(eio: int) -> None:
    room = Room(eio)
    room.nsp.to("r1").to("r2").emit("chained")
    room.nsp.to(["r1", "r2"]).emit("listed")
    room.nsp.to("r1").to(room.sockets["c"].id).emit("by-id")
    assert room.received() == {"a": [("chained", []), ("listed", []), ("by-id", [])],
                               "b": [("chained", []), ("listed", []), ("by-id", [])],
                               "c": [("by-id", [])]}


def test_except_excludes_room_members(eio: int) -> None:
    room = Room(eio)
    room.nsp.except_("r2").emit("not-r2")
    room.nsp.to("r1").except_("r2").emit("r1-not-r2")
    room.nsp.except_(["r1", "r2"]).emit("no-room")
    assert room.received() == {"a": [("not-r2", []), ("r1-not-r2", [])],
                               "b": [],
                               "c": [("not-r2", []), ("no-room", [])]}


def test_server_level_targets_apply_to_root(eio: int) -> None:
    room = Room(eio, "/")
    room.io.to("r1").emit("to")
    room.io.except_("r1").emit("except")
    room.io.in_("r2").send("msg")
    assert room.received() == {"a": [("to", [])], "b": [("to", []), ("message", ["msg"])],
                               "c": [("except", [])]}


def test_broadcast_operators_are_immutable(eio: int) -> None:
    room = Room(eio)
    base = room.nsp.to("r2")
    wider = base.to("r1")
    base.emit("base")
    assert wider is not base
    assert room.received() == {"a": [], "b": [("base", [])], "c": []}


def test_clients_lists_sorted_ids_and_calls_back(eio: int) -> None:
    room = Room(eio)
    assert room.nsp.clients() == room.ids("a", "b", "c")
    assert room.nsp.to("r1").clients() == room.ids("a", "b")
    got: List[Any] = []
    result = room.nsp.to("r2").clients(lambda err, ids: got.append((err, ids)))
    assert got == [(None, room.ids("b"))]
    assert result == room.ids("b")


def test_all_sockets_and_fetch_sockets(eio: int) -> None:
    room = Room(eio)
    assert room.nsp.all_sockets() == set(room.ids("a", "b", "c"))
    assert room.nsp.except_("r1").all_sockets() == set(room.ids("c"))
    fetched = room.nsp.in_("r1").fetch_sockets()
    assert sorted(s.id for s in fetched) == room.ids("a", "b")
    assert all(isinstance(s, sio_core.Socket) for s in fetched)
    assert {s.id for s in room.nsp.fetch_sockets()} == set(room.ids("a", "b", "c"))
    # "/" holds only its own sockets: none for protocol 5, the implicit ones for protocol 4
    root_ids = {s.id for s in room.io.fetch_sockets()}
    if eio == 4:
        assert root_ids == set()
    else:
        assert root_ids == {c.conn.sid for c in room.clients.values()}
    assert root_ids.isdisjoint(room.ids("a", "b", "c"))


def test_sockets_join_and_leave(eio: int) -> None:
    room = Room(eio)
    room.nsp.sockets_join("all")
    assert all("all" in s.rooms for s in room.sockets.values())
    room.nsp.to("r1").sockets_join(["x", "y"])
    assert room.sockets["a"].rooms == {room.sockets["a"].id, "r1", "all", "x", "y"}
    assert room.sockets["c"].rooms == {room.sockets["c"].id, "all"}
    room.nsp.except_("r2").sockets_leave("all")
    assert room.nsp.to("all").clients() == room.ids("b")
    room.nsp.sockets_leave(["x", "y", "r1"])
    assert room.sockets["a"].rooms == {room.sockets["a"].id}
    assert room.sockets["b"].rooms == {room.sockets["b"].id, "r2", "all"}


def test_disconnect_sockets(eio: int) -> None:
    room = Room(eio)
    reasons: Dict[str, str] = {}
    for who, socket in room.sockets.items():
        socket.on("disconnect", lambda reason, who=who: reasons.__setitem__(who, reason))
    room.nsp.to("r2").disconnect_sockets()
    room.clients["b"].settle()
    assert reasons == {"b": "server namespace disconnect"}
    assert room.clients["b"].disconnected == ["/chat"]
    assert room.clients["b"].conn.closed is False
    room.nsp.disconnect_sockets()
    for client in room.clients.values():
        client.settle()
    assert reasons == {w: "server namespace disconnect" for w in "abc"}
    assert room.nsp.sockets == {}
    assert room.clients["a"].disconnected == ["/chat"]
    assert all(c.conn.closed is False for c in room.clients.values())


def test_disconnect_sockets_with_close_closes_connections(eio: int) -> None:
    room = Room(eio)
    room.nsp.to("r1").disconnect_sockets(close=True)
    for client in room.clients.values():
        client.settle()
    assert room.clients["a"].conn.closed is True
    assert room.clients["b"].conn.closed is True
    assert room.clients["c"].conn.closed is False
    assert room.clients["a"].closed is True
    assert room.io.engine.clients_count == 1


def test_server_disconnect_sockets_applies_to_root(eio: int) -> None:
    room = Room(eio, "/")
    room.io.disconnect_sockets()
    for client in room.clients.values():
        client.settle()
    assert room.io.sockets.sockets == {}
    assert all(c.disconnected == ["/"] for c in room.clients.values())


def test_server_sockets_join_and_leave_apply_to_root(eio: int) -> None:
    room = Room(eio, "/")
    room.io.sockets_join("everyone")
    assert room.io.to("everyone").clients() == room.ids("a", "b", "c")
    room.io.sockets_leave("everyone")
    assert room.io.to("everyone").clients() == []


# -- broadcast acks ------------------------------------------------------------------------


def test_timeout_emit_collects_every_answer(eio: int) -> None:
    room = Room(eio)
    for who, client in room.clients.items():
        client.on("q", lambda n, who=who: "%s-%d" % (who, n))
    done: AsyncResult = AsyncResult()
    started = time.monotonic()
    room.nsp.timeout(1).emit("q", 5, callback=lambda err, answers: done.set((err, answers)))
    err, answers = done.get(timeout=2)
    assert err is None
    assert sorted(answers) == ["a-5", "b-5", "c-5"]
    assert time.monotonic() - started < 0.5  # finished when the last one answered


def test_timeout_emit_to_a_room_collects_its_members(eio: int) -> None:
    room = Room(eio)
    for who, client in room.clients.items():
        client.on("q", lambda who=who: (who, "!"))
    done: AsyncResult = AsyncResult()
    room.nsp.to("r1").timeout(1).emit("q", callback=lambda err, answers: done.set((err, answers)))
    err, answers = done.get(timeout=2)
    assert err is None
    assert sorted(answers) == [("a", "!"), ("b", "!")]


def test_timeout_emit_to_nobody_calls_back_at_once(eio: int) -> None:
    room = Room(eio)
    done: AsyncResult = AsyncResult()
    room.nsp.to("empty").timeout(1).emit("q", callback=lambda err, ans: done.set((err, ans)))
    assert done.get(timeout=0.5) == (None, [])


def test_timeout_emit_times_out_with_partial_answers(eio: int) -> None:
    room = Room(eio)
    release = Event()
    room.clients["a"].on("q", lambda: "a")
    room.clients["b"].on("q", lambda: "b")
    room.clients["c"].on("q", lambda: release.wait(5))  # c sits on the question
    done: AsyncResult = AsyncResult()
    try:
        started = time.monotonic()
        room.nsp.timeout(0.2).emit("q", callback=lambda err, answers: done.set((err, answers)))
        err, answers = done.get(timeout=2)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert isinstance(err, AckTimeout)
    assert sorted(err.responses) == ["a", "b"]
    assert sorted(answers) == ["a", "b"]
    assert 0.15 <= elapsed < 1.0


def test_timeout_call_returns_the_answers(eio: int) -> None:
    room = Room(eio)
    for who, client in room.clients.items():
        client.on("q", lambda x, who=who: who + x)
    assert sorted(room.nsp.timeout(1).call("q", "?")) == ["a?", "b?", "c?"]
    assert room.nsp.to("r2").timeout(1).call("q", "!") == ["b!"]


def test_timeout_call_raises_ack_timeout_with_responses(eio: int) -> None:
    room = Room(eio)
    release = Event()
    room.clients["a"].on("q", lambda: 1)
    room.clients["b"].on("q", lambda: release.wait(5))
    try:
        with pytest.raises(AckTimeout) as info:
            room.nsp.to("r1").timeout(0.2).call("q")
    finally:
        release.set()
    assert info.value.responses == [1]


def test_server_timeout_emit_targets_root(eio: int) -> None:
    room = Room(eio, "/")
    for who, client in room.clients.items():
        client.on("q", lambda who=who: who)
    assert sorted(room.io.timeout(1).call("q")) == ["a", "b", "c"]


def test_a_broadcast_callback_needs_a_timeout(eio: int) -> None:
    room = Room(eio)

    def cb(err: Any, answers: Any) -> None:
        pass

    with pytest.raises(ValueError, match="timeout") as info:
        room.nsp.emit("q", callback=cb)
    assert not isinstance(info.value, ReservedEventError)
    with pytest.raises(ValueError, match="timeout"):
        room.nsp.to("r1").emit("q", callback=cb)
    with pytest.raises(ValueError, match="timeout"):
        room.io.emit("q", callback=cb)
    assert room.received() == {"a": [], "b": [], "c": []}


# -- reserved names --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RESERVED_EVENTS))
def test_reserved_event_names_cannot_be_emitted(eio: int, name: str) -> None:
    io = Server()
    sockets: List[Any] = []
    io.of("/chat").on("connection", sockets.append)
    client = TestClient(io, eio=eio)
    assert client.connect("/chat") is True
    socket = sockets[0]
    with pytest.raises(ReservedEventError):
        socket.emit(name)
    with pytest.raises(ReservedEventError):
        socket.volatile.emit(name, 1)
    with pytest.raises(ReservedEventError):
        socket.call(name, timeout=0.1)
    with pytest.raises(ReservedEventError):
        socket.broadcast.emit(name)
    with pytest.raises(ReservedEventError):
        io.of("/chat").emit(name)
    with pytest.raises(ReservedEventError):
        io.of("/chat").to("r").emit(name)
    with pytest.raises(ReservedEventError):
        io.emit(name)
    with pytest.raises(ReservedEventError):
        io.timeout(1).emit(name, callback=lambda err, answers: None)
    assert client.get_received() == []


def test_reserved_event_names_raise_on_a_parent_with_children(eio: int) -> None:
    io = Server()
    parent = io.of(re.compile(r"^/c-\d$"))
    client = TestClient(io, eio=eio)
    assert client.connect("/c-1") is True
    with pytest.raises(ReservedEventError):
        parent.emit("disconnect")
    assert client.get_received() == []


def test_a_parent_without_children_still_checks_its_emits() -> None:
    io = Server()
    parent = io.of(re.compile(r"^/c-\d$"))
    with pytest.raises(ReservedEventError):
        parent.emit("disconnect")
    with pytest.raises(ValueError, match="timeout"):
        parent.emit("q", callback=lambda err, answers: None)


def test_reserved_event_error_is_a_value_error() -> None:
    assert issubclass(ReservedEventError, ValueError)
    assert issubclass(ReservedEventError, sio_core.SioError)
    assert set(RESERVED_EVENTS) == {"connect", "connect_error", "disconnect", "disconnecting",
                                    "newListener", "removeListener"}


# -- connect timeout ---------------------------------------------------------------------------


def test_a_client_joining_no_namespace_is_closed_after_connect_timeout() -> None:
    clock = FakeClock()
    io = Server(connect_timeout=2, clock=clock)
    client = TestClient(io, eio=4)
    clock.advance(1.5)
    assert client.conn.closed is False
    clock.advance(0.5)
    assert wait_until(lambda: client.closed, timeout=2) is True
    assert client.conn.session.reason == "forced close"
    assert io.engine.clients_count == 0


def test_the_connect_timeout_runs_on_the_event_loop_by_default() -> None:
    io = Server(connect_timeout=0.2)
    client = TestClient(io, eio=4)
    started = time.monotonic()
    assert wait_until(lambda: client.closed, timeout=2) is True
    assert 0.15 <= time.monotonic() - started < 1.0
    assert client.conn.session.reason == "forced close"


def test_connecting_in_time_cancels_the_connect_timeout() -> None:
    clock = FakeClock()
    io = Server(connect_timeout=2, clock=clock)
    client = TestClient(io, eio=4)
    assert client.connect() is True
    clock.advance(3.5)  # past the deadline: nothing may happen
    assert client.conn.closed is False
    assert client.is_connected() is True


@pytest.mark.parametrize("how", ["unknown namespace", "middleware"])
def test_a_client_whose_connects_were_refused_is_still_closed_after_connect_timeout(
        how: str) -> None:
    io = Server(connect_timeout=0.2)
    io.of("/guarded").use(lambda socket, next: next(Exception("no")))
    client = TestClient(io, eio=4)
    assert client.connect("/unknown" if how == "unknown namespace" else "/guarded") is False
    assert wait_until(lambda: client.closed, timeout=1.0) is True
    assert io.engine.clients_count == 0


def test_protocol_4_clients_are_on_root_from_the_start() -> None:
    clock = FakeClock()
    io = Server(connect_timeout=2, clock=clock)
    seen: List[str] = []
    io.on("connection", lambda s: seen.append(s.id))
    client = TestClient(io, eio=3)
    assert seen == [client.conn.sid]
    assert client.sids == {"/": client.conn.sid}
    clock.advance(3)  # past the connect timeout: no timer was armed
    assert client.conn.closed is False

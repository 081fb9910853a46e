"""The adapter's own interface: AdaptedNamespace and AdaptedSocket are all it uses of the
server, so any namespace and sockets that have those few members work with it."""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Set

from sio_core.adapter import AdaptedNamespace, AdaptedSocket, BroadcastOptions, MemoryAdapter
from sio_core.socketio import Packet, PacketType

ADAPTER = Path(__file__).resolve().parents[2] / "sio_core" / "adapter"


def test_the_adapter_package_imports_nothing_from_the_server() -> None:
    found = []
    for path in sorted(ADAPTER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.startswith("server") and node.level == 2
                    or node.module.startswith("sio_core.server")):
                found.append("%s: %s" % (path.name, node.module))
    assert found == []


class Member:
    """A socket as the adapter sees it: an id, rooms, and a way to receive messages."""

    def __init__(self, nsp: "Channel", sid: str) -> None:
        self.id = sid
        self.data: Any = {}
        self.nsp = nsp
        self.received: List[Any] = []
        self.acks: Dict[int, Callable[[Any], None]] = {}

    @property
    def rooms(self) -> Set[str]:
        return self.nsp.adapter.socket_rooms(self.id)

    def write_messages(self, messages: List[Any], volatile: bool = False,
                       compress: bool = True) -> None:
        self.received.append((list(messages), volatile))

    def register_ack(self, ack_id: int, on_ack: Callable[[Any], None]) -> None:
        self.acks[ack_id] = on_ack

    def join(self, rooms: Iterable[str]) -> None:
        self.nsp.adapter.add_all(self.id, rooms)

    def leave(self, room: str) -> None:
        self.nsp.adapter.delete(self.id, room)

    def disconnect(self, close: bool = False) -> None:
        self.nsp.adapter.delete_all(self.id)
        del self.nsp.connected[self.id]


class Channel:
    """A namespace as the adapter sees it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connected: Dict[str, Member] = {}
        self.adapter = MemoryAdapter(self)
        self._next = 0

    def dumps(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    def next_ack_id(self) -> int:
        self._next += 1
        return self._next

    def add(self, sid: str) -> Member:
        member = self.connected[sid] = Member(self, sid)
        self.adapter.add_all(sid, [sid])
        return member


def test_any_namespace_with_the_protocols_members_is_served() -> None:
    nsp: AdaptedNamespace = Channel("/chat")
    assert isinstance(nsp, Channel)
    a, b, c = nsp.add("a"), nsp.add("b"), nsp.add("c")
    socket: AdaptedSocket = a
    assert socket.rooms == {"a"}
    nsp.adapter.add_all("a", ["room"])
    nsp.adapter.add_all("b", ["room"])
    event = Packet(PacketType.EVENT, "/chat", ["hi", 1])
    nsp.adapter.broadcast(event, BroadcastOptions(rooms=frozenset(["room"]),
                                                  except_rooms=frozenset(["b"]), volatile=True))
    assert a.received == [(['2/chat,["hi",1]'], True)] and b.received == c.received == []

    answers: List[Any] = []
    counts: List[int] = []
    nsp.adapter.broadcast_with_ack(event, BroadcastOptions(), counts.append, answers.append)
    assert counts == [3]
    assert [m.received[-1][0] for m in (b, c)] == [['2/chat,1["hi",1]']] * 2
    b.acks[1](["ok"])
    assert answers == [["ok"]]

    nsp.adapter.add_sockets(BroadcastOptions(rooms=frozenset(["room"])), ["more"])
    assert nsp.adapter.sockets(["more"]) == {"a", "b"}
    nsp.adapter.disconnect_sockets(BroadcastOptions(rooms=frozenset(["more"])))
    assert set(nsp.connected) == {"c"}

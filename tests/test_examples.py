"""Smoke tests of the docs examples in examples/: each runs as a script and does what it says.

Each test drives its example over the wire with socket.io-client 4 (``sio4`` in
tests/interop/node_modules) when node has it, and with socket.io-client 2 (``sio2``) too
where the example means the same to it (not the auth payload of auth_middleware.py), else
with ``PollingClient``, a Socket.IO 5
client over Engine.IO 4 long-polling written by hand below. Both paths gather the same
result, checked by the same assertions.
"""
from __future__ import annotations

import http.client
import itertools
import json
import shutil
import subprocess
from collections import deque
from typing import Any, Deque, List, NamedTuple, Optional

import pytest

from tests.helpers import INTEROP, node_result

NODE_CLIENT = INTEROP / "node_modules" / "sio4"
USE_NODE = shutil.which("node") is not None and NODE_CLIENT.is_dir()
#: socket.io-client generations for the examples that mean the same to both
GENS = [pytest.param(4, id="sio4"), pytest.param(2, id="sio2")] if USE_NODE else \
    [pytest.param(4, id="polling-client")]

#: seconds any one wait may take
TIMEOUT = 10.0

# -- Socket.IO over hand-made long-polling ---------------------------------------------------

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR = 0, 1, 2, 3, 4


class SioPacket(NamedTuple):
    """A decoded Socket.IO packet."""

    type: int
    nsp: str
    id: Optional[int]
    data: Any


def encode_sio(ptype: int, nsp: str = "/", data: Any = None, ack_id: Optional[int] = None) -> str:
    """A Socket.IO packet as text (without the Engine.IO message prefix)."""
    text = str(ptype)
    if nsp != "/":
        text += nsp + ","
    if ack_id is not None:
        text += str(ack_id)
    if data is not None:
        text += json.dumps(data, separators=(",", ":"))
    return text


def decode_sio(text: str) -> SioPacket:
    """Parse one Socket.IO packet (text, no binary attachments)."""
    ptype, rest = int(text[0]), text[1:]
    nsp = "/"
    if rest.startswith("/"):
        nsp, _, rest = rest.partition(",")
    digits = "".join(itertools.takewhile(lambda char: char in "0123456789", rest))
    rest = rest[len(digits):]
    return SioPacket(ptype, nsp, int(digits) if digits else None,
                     json.loads(rest) if rest else None)


class PollingClient:
    """A Socket.IO 5 client over Engine.IO 4 long-polling, one blocking request at a time.

    Every read is a long-polling GET with a ``TIMEOUT``; pings are answered on the way.

    :param port: the server's port on 127.0.0.1
    :param query: extra query string for every request, e.g. ``"&token=abc"``
    """

    def __init__(self, port: int, query: str = "") -> None:
        self.port = port
        opening = self._request("GET", "/socket.io/?EIO=4&transport=polling" + query)
        assert opening[0] == "0", opening
        #: the Engine.IO session id
        self.sid = json.loads(opening[1:])["sid"]
        self.url = "/socket.io/?EIO=4&transport=polling%s&sid=%s" % (query, self.sid)
        self._messages: Deque[str] = deque()
        self._stash: Deque[SioPacket] = deque()
        self._ack_ids = itertools.count()

    def _request(self, method: str, url: str, body: Optional[str] = None) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request(method, url, body=None if body is None else body.encode("utf-8"),
                         headers={"Content-Type": "text/plain;charset=UTF-8"} if body else {})
            response = conn.getresponse()
            text = response.read().decode("utf-8")
        finally:
            conn.close()
        assert response.status == 200, (method, url, response.status, text)
        return text

    def post(self, *messages: str) -> None:
        """Send Engine.IO messages (``"4..."`` for Socket.IO) in one payload."""
        assert self._request("POST", self.url, "\x1e".join(messages)) == "ok"

    def _read(self) -> SioPacket:
        """The next Socket.IO packet from the server, long-polling for it."""
        while True:
            while not self._messages:
                self._messages.extend(self._request("GET", self.url).split("\x1e"))
            message = self._messages.popleft()
            if message == "2":
                self.post("3")
            elif message != "6":
                assert message[0] == "4", "not a Socket.IO message: %r" % message
                return decode_sio(message[1:])

    def receive(self) -> SioPacket:
        """The next packet that is not an ack already taken by ``call``."""
        return self._stash.popleft() if self._stash else self._read()

    def send(self, ptype: int, nsp: str = "/", data: Any = None,
             ack_id: Optional[int] = None) -> None:
        """Send one Socket.IO packet."""
        self.post("4" + encode_sio(ptype, nsp, data, ack_id))

    def connect(self, nsp: str = "/", auth: Any = None) -> str:
        """Connect to ``nsp``; return the socket id the server gave."""
        self.send(CONNECT, nsp, auth)
        packet = self.receive()
        assert (packet.type, packet.nsp) == (CONNECT, nsp), packet
        return packet.data["sid"]

    def emit(self, event: str, *args: Any, nsp: str = "/") -> None:
        """Emit ``event`` without asking for an ack."""
        self.send(EVENT, nsp, [event, *args])

    def next_event(self, nsp: str = "/") -> List[Any]:
        """The next packet, which must be an event of ``nsp``, as ``[name, *args]``."""
        packet = self.receive()
        assert (packet.type, packet.nsp, packet.id) == (EVENT, nsp, None), packet
        return packet.data

    def call(self, event: str, *args: Any, nsp: str = "/") -> List[Any]:
        """Emit ``event`` with an ack id and return the ack's arguments.

        Packets arriving before the ack are kept for ``receive``/``next_event``.
        """
        ack_id = next(self._ack_ids)
        self.send(EVENT, nsp, [event, *args], ack_id)
        while True:
            packet = self._read()
            if (packet.type, packet.nsp, packet.id) == (ACK, nsp, ack_id):
                return packet.data
            self._stash.append(packet)

    def disconnect(self, nsp: str = "/") -> None:
        """Leave ``nsp``."""
        self.send(DISCONNECT, nsp)


# -- socket.io-client 4 under node ----------------------------------------------------------

NODE_PRELUDE = r"""
// socket.io-client 4 (sio4), or 2 (sio2) when argv[2] is "2"
const gen = Number(process.argv[2] || 4);
const io = gen === 2 ? require("sio2") : require("sio4").io;
const base = "http://127.0.0.1:" + process.argv[1];
const opened = [];
// every event from the server as [name, ...args] (client 2 has no onAny)
function onEvents(socket, fn) {
  if (gen !== 2) return socket.onAny(fn);
  const onevent = socket.onevent;
  socket.onevent = function (packet) {
    fn(...(packet.data || []));
    return onevent.call(this, packet);
  };
}
// a socket whose server events queue up for nextEvent(), as [name, ...args]
function connect(nsp, options) {
  const socket = io(base + (nsp || "/"),
                    Object.assign({ forceNew: true, reconnection: false }, options || {}));
  const inbox = [], waiters = [];
  onEvents(socket, (...event) => waiters.length ? waiters.shift()(event) : inbox.push(event));
  socket.nextEvent = () => inbox.length ? Promise.resolve(inbox.shift())
                                        : new Promise((resolve) => waiters.push(resolve));
  socket.ready = new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket.id));
    socket.once(gen === 2 ? "error" : "connect_error", reject);
  });
  socket.ready.catch(() => {});  // awaited later, maybe: not an unhandled rejection
  opened.push(socket);
  return socket;
}
// resolves once the engine has written everything queued
function drained(socket) {
  const engine = socket.io.engine;  // its writeBuffer empties on "drain"
  return engine.writeBuffer.length === 0 ? Promise.resolve()
    : new Promise((resolve) => engine.once("drain", resolve));
}
// emit with an ack callback; resolves to the ack's arguments
function call(socket, ...args) {
  return new Promise((resolve) => socket.emit(...args, (...answer) => resolve(answer)));
}
setTimeout(() => { console.error("timed out"); process.exit(2); }, %d);
""" % (TIMEOUT * 1000)

NODE_RUN = r"""
main().then((result) => {
  console.log(JSON.stringify(result));
  opened.forEach((socket) => socket.close());
  process.exit(0);
}, (err) => { console.error((err && err.stack) || err); process.exit(1); });
"""


def run_node(port: int, main: str, gen: int = 4) -> Any:
    """Run ``async function main()`` (JS, using the prelude) against ``port`` with
    socket.io-client ``gen`` (4 or 2); its JSON result."""
    proc = subprocess.run(["node", "-e", NODE_PRELUDE + main + NODE_RUN, str(port), str(gen)],
                          cwd=str(INTEROP), capture_output=True, timeout=TIMEOUT + 20)
    return node_result("node", proc.returncode, proc.stdout, proc.stderr)


# -- the examples ------------------------------------------------------------------------


@pytest.mark.parametrize("gen", GENS)
def test_news(start_example, gen):
    server = start_example("news.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const socket = connect();
          const id = await socket.ready;
          const news = await socket.nextEvent();
          socket.emit("my other event", { my: "data" });
          await drained(socket);
          return { id, news };
        }""", gen)
    else:
        client = PollingClient(server.port)
        result = {"id": client.connect(), "news": client.next_event()}
        client.emit("my other event", {"my": "data"})
    assert result["news"] == ["news", {"hello": "world"}]
    # the server logs what it got; it has handled the event by the time it stops
    assert "my other event from %s: {'my': 'data'}" % result["id"] in server.stop()


@pytest.mark.parametrize("gen", GENS)
def test_private_messages(start_example, gen):
    server = start_example("private_messages.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const a = connect(), aId = await a.ready;
          const b = connect(), bId = await b.ready;
          const connected = await a.nextEvent();
          a.emit("say to someone", bId, "hi bob");
          const message = await b.nextEvent();
          b.disconnect();
          const disconnected = await a.nextEvent();
          return { a: aId, b: bId, connected, message, disconnected };
        }""", gen)
    else:
        a = PollingClient(server.port)
        result = {"a": a.connect()}
        b = PollingClient(server.port)
        result["b"] = b.connect()
        result["connected"] = a.next_event()
        a.emit("say to someone", result["b"], "hi bob")
        result["message"] = b.next_event()
        b.disconnect()
        result["disconnected"] = a.next_event()
    a_id, b_id = result["a"], result["b"]
    assert a_id != b_id
    assert result["connected"] == ["user connected", {"id": b_id}]
    assert result["message"] == ["my message", {"from": a_id, "text": "hi bob"}]
    assert result["disconnected"] == ["user disconnected", {"id": b_id}]


@pytest.mark.parametrize("gen", GENS)
def test_namespaces(start_example, gen):
    server = start_example("namespaces.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const chat = connect("/chat");
          await chat.ready;
          const first = [await chat.nextEvent(), await chat.nextEvent()];
          const news = connect("/news");
          await news.ready;
          const item = await news.nextEvent();
          const other = connect("/chat");
          await other.ready;
          return { chat: [...first, await chat.nextEvent()], news: [item] };
        }""", gen)
    else:
        client = PollingClient(server.port)  # both namespaces over one connection
        client.connect("/chat")
        chat = [client.next_event("/chat"), client.next_event("/chat")]
        client.connect("/news")
        news = [client.next_event("/news")]
        PollingClient(server.port).connect("/chat")
        chat.append(client.next_event("/chat"))
        result = {"chat": chat, "news": news}
    only_me = ["a message", {"that": "only", "/chat": "will get"}]
    everyone = ["a message", {"everyone": "in", "/chat": "will get"}]
    assert result == {"chat": [only_me, everyone, everyone], "news": [["item", {"news": "item"}]]}


@pytest.mark.parametrize("gen", GENS)
def test_volatile_tweets(start_example, gen):
    server = start_example("volatile_tweets.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const first = connect(), firstId = await first.ready;
          const tweets = [await first.nextEvent(), await first.nextEvent(),
                          await first.nextEvent()];
          first.disconnect();
          const second = connect();
          await second.ready;
          const later = await second.nextEvent();
          return { first: firstId, tweets, later };
        }""", gen)
    else:
        first = PollingClient(server.port)
        result = {"first": first.connect()}
        result["tweets"] = [first.next_event() for _ in range(3)]
        first.disconnect()
        second = PollingClient(server.port)
        second.connect()
        # a tweet on the new socket takes 100 ms: the first one's disconnect ran by then
        result["later"] = second.next_event()
    numbers = [event[1]["n"] for event in result["tweets"] + [result["later"]]]
    expected = [["bieber tweet", {"user": "justinbieber", "n": n, "text": "tweet #%d" % n}]
                for n in numbers]
    assert result["tweets"] + [result["later"]] == expected
    assert numbers[0] >= 1
    assert numbers[:3] == sorted(set(numbers[:3]))
    assert "stopped the tweets of %s" % result["first"] in server.stop()


@pytest.mark.parametrize("gen", GENS)
def test_ferret(start_example, gen):
    server = start_example("ferret.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const socket = connect();
          const asked = new Promise((resolve) => socket.on("ferret", (name, ack) => {
            ack("woot");
            resolve(["ferret", name]);
          }));
          const id = await socket.ready;
          return { id, asked: await asked, answer: await call(socket, "ferret", "tobi") };
        }""", gen)
    else:
        client = PollingClient(server.port)
        result = {"id": client.connect()}
        question = client.receive()
        assert (question.type, question.nsp) == (EVENT, "/")
        assert question.id is not None
        result["asked"] = question.data
        client.send(ACK, "/", ["woot"], question.id)
        result["answer"] = client.call("ferret", "tobi")
    assert result["asked"] == ["ferret", "tobi"]
    assert result["answer"] == ["woot"]
    # the server's call() returned before the client's own ferret was answered
    assert "%s answered about its ferret: 'woot'" % result["id"] in server.stop()


@pytest.mark.parametrize("gen", GENS)
def test_broadcasting(start_example, gen):
    server = start_example("broadcasting.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const a = connect();
          await a.ready;
          const seenByA = [await a.nextEvent()];
          const b = connect(), bId = await b.ready;
          seenByA.push(await a.nextEvent(), await a.nextEvent());
          const seenByB = [await b.nextEvent()];
          b.disconnect();
          seenByA.push(await a.nextEvent());
          return { b: bId, a_saw: seenByA, b_saw: seenByB };
        }""", gen)
    else:
        a = PollingClient(server.port)
        a.connect()
        seen_by_a = [a.next_event()]
        b = PollingClient(server.port)
        result = {"b": b.connect()}
        seen_by_a += [a.next_event(), a.next_event()]
        result["b_saw"] = [b.next_event()]
        b.disconnect()
        seen_by_a.append(a.next_event())
        result["a_saw"] = seen_by_a
    everyone = ["this", {"will": "be received by everyone"}]
    b_id = result["b"]
    assert result["a_saw"] == [everyone, ["user connected", {"id": b_id}], everyone,
                               ["user disconnected", {"id": b_id}]]
    assert result["b_saw"] == [everyone]


@pytest.mark.parametrize("gen", GENS)
def test_rooms(start_example, gen):
    server = start_example("rooms.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const a = connect(), b = connect(), c = connect();
          const ids = [await a.ready, await b.ready, await c.ready];
          const r = { ids, a_rooms: await call(a, "join", "game") };
          r.b_rooms = await call(b, "join", "game");
          r.joined = await a.nextEvent();
          c.emit("except room", "game", "not for players");
          r.c_got = await c.nextEvent();
          a.emit("to others", "game", "psst");
          a.emit("to room", "game", "the game starts");
          r.a_got = [await a.nextEvent()];
          r.b_got = [await b.nextEvent(), await b.nextEvent()];
          r.b_left = await call(b, "leave", "game");
          a.emit("to room", "game", "bye");
          r.a_got.push(await a.nextEvent());
          c.emit("to room", "some room", "all");
          r.b_got.push(await b.nextEvent());
          return r;
        }""", gen)
    else:
        a, b, c = (PollingClient(server.port) for _ in range(3))
        result = {"ids": [a.connect(), b.connect(), c.connect()]}
        result["a_rooms"] = a.call("join", "game")
        result["b_rooms"] = b.call("join", "game")
        result["joined"] = a.next_event()
        c.emit("except room", "game", "not for players")
        result["c_got"] = c.next_event()
        a.emit("to others", "game", "psst")
        a.emit("to room", "game", "the game starts")
        result["a_got"] = [a.next_event()]
        result["b_got"] = [b.next_event(), b.next_event()]
        result["b_left"] = b.call("leave", "game")
        a.emit("to room", "game", "bye")
        result["a_got"].append(a.next_event())
        c.emit("to room", "some room", "all")  # b's next event: it did not get "bye"
        result["b_got"].append(b.next_event())
    a_id, b_id, c_id = result["ids"]

    def some_event(room, sender, text):
        return ["some event", {"room": room, "from": sender, "text": text}]

    assert result["a_rooms"] == [sorted([a_id, "game", "some room"])]
    assert result["b_rooms"] == [sorted([b_id, "game", "some room"])]
    assert result["joined"] == ["joined", {"room": "game", "id": b_id}]
    assert result["c_got"] == some_event("game", c_id, "not for players")
    assert result["a_got"] == [some_event("game", a_id, "the game starts"),
                               some_event("game", a_id, "bye")]
    assert result["b_got"] == [some_event("game", a_id, "psst"),
                               some_event("game", a_id, "the game starts"),
                               some_event("some room", c_id, "all")]
    assert result["b_left"] == [sorted([b_id, "some room"])]


@pytest.mark.parametrize("gen", GENS)
def test_websocket_like(start_example, gen):
    server = start_example("websocket_like.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const socket = connect();
          await socket.ready;
          socket.send("hello");
          socket.send(1, { two: 2 });
          return { echoes: [await socket.nextEvent(), await socket.nextEvent()] };
        }""", gen)
    else:
        client = PollingClient(server.port)
        client.connect()
        client.emit("message", "hello")
        client.emit("message", 1, {"two": 2})
        result = {"echoes": [client.next_event(), client.next_event()]}
    assert result == {"echoes": [["message", "hello"], ["message", 1, {"two": 2}]]}


@pytest.mark.parametrize("gen", GENS)
def test_clients_list(start_example, gen):
    server = start_example("clients_list.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const a = connect("/chat"), b = connect("/chat");
          const r = { ids: [await a.ready, await b.ready] };
          r.rooms = await call(a, "join", "general");
          r.clients = await call(a, "clients");
          r.room_clients = await call(b, "room clients", "general");
          r.all_sockets = await call(b, "all sockets");
          return r;
        }""", gen)
    else:
        a, b = PollingClient(server.port), PollingClient(server.port)
        result = {"ids": [a.connect("/chat"), b.connect("/chat")]}
        result["rooms"] = a.call("join", "general", nsp="/chat")
        result["clients"] = a.call("clients", nsp="/chat")
        result["room_clients"] = b.call("room clients", "general", nsp="/chat")
        result["all_sockets"] = b.call("all sockets", nsp="/chat")
    a_id, b_id = result["ids"]
    assert result["rooms"] == [sorted([a_id, "general"])]
    assert result["clients"] == [sorted([a_id, b_id])]
    assert result["room_clients"] == [[a_id]]
    assert result["all_sockets"] == [sorted([a_id, b_id])]


def test_auth_middleware(start_example):
    server = start_example("auth_middleware.py")
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const byAuth = connect("/", { auth: { token: "abc123" } });
          const byQuery = connect("/", { query: { token: "xyz789" } });
          const refused = connect("/", { auth: { token: "guess" } });
          await byAuth.ready;
          await byQuery.ready;
          const err = await refused.ready.then(() => null, (e) => e);
          return { by_auth: await byAuth.nextEvent(), by_query: await byQuery.nextEvent(),
                   refused: err && { message: err.message, data: err.data } };
        }""")
    else:
        by_auth = PollingClient(server.port)
        by_auth.connect(auth={"token": "abc123"})
        by_query = PollingClient(server.port, query="&token=xyz789")
        by_query.connect()
        refused = PollingClient(server.port)
        refused.send(CONNECT, "/", {"token": "guess"})
        packet = refused.receive()
        assert (packet.type, packet.nsp) == (CONNECT_ERROR, "/")
        result = {"by_auth": by_auth.next_event(), "by_query": by_query.next_event(),
                  "refused": packet.data}
    assert result == {
        "by_auth": ["welcome", {"user": "alice"}],
        "by_query": ["welcome", {"user": "bob"}],
        "refused": {"message": "not authorized", "data": {"content": "Please retry later"}},
    }


def test_chat_room(start_example):
    server = start_example("chat_room.py")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        page = conn.getresponse()
        body = page.read().decode("utf-8")
    finally:
        conn.close()
    assert (page.status, page.getheader("Content-Type")) == (200, "text/html; charset=utf-8")
    assert '<script src="/socket.io/socket.io.js"></script>' in body
    assert "const socket = io();" in body
    if USE_NODE:
        result = run_node(server.port, """
        async function main() {
          const ann = connect(), bob = connect();
          await ann.ready;
          await bob.ready;
          const r = { ann_join: await call(ann, "join", { room: "r1", name: "ann" }) };
          r.ann_got = [await ann.nextEvent()];
          r.bob_join = await call(bob, "join", { room: "r1", name: "bob" });
          r.ann_got.push(await ann.nextEvent());
          r.bob_got = [await bob.nextEvent()];
          ann.emit("chat", "hello");
          r.ann_got.push(await ann.nextEvent());
          r.bob_got.push(await bob.nextEvent());
          bob.emit("leave");
          r.ann_got.push(await ann.nextEvent());
          return r;
        }""")
    else:
        ann, bob = PollingClient(server.port), PollingClient(server.port)
        ann.connect()
        bob.connect()
        result = {"ann_join": ann.call("join", {"room": "r1", "name": "ann"})}
        result["ann_got"] = [ann.next_event()]
        result["bob_join"] = bob.call("join", {"room": "r1", "name": "bob"})
        result["ann_got"].append(ann.next_event())
        result["bob_got"] = [bob.next_event()]
        ann.emit("chat", "hello")
        result["ann_got"].append(ann.next_event())
        result["bob_got"].append(bob.next_event())
        bob.emit("leave")
        result["ann_got"].append(ann.next_event())
    assert result == {
        "ann_join": [{"room": "r1", "members": ["ann"]}],
        "bob_join": [{"room": "r1", "members": ["ann", "bob"]}],
        "ann_got": [["joined", {"room": "r1", "name": "ann"}],
                    ["joined", {"room": "r1", "name": "bob"}],
                    ["chat", {"name": "ann", "text": "hello"}],
                    ["left", {"room": "r1", "name": "bob"}]],
        "bob_got": [["joined", {"room": "r1", "name": "bob"}],
                    ["chat", {"name": "ann", "text": "hello"}]],
    }

"""The Admin UI namespace (``Server.instrument``) as the ``@socket.io/admin-ui`` dashboard
speaks to it, driven with our Python client against servers in subprocesses; across two
nodes through a real redis-server."""
from __future__ import annotations

import copy
import gc
import pickle
import queue
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from sio_core.client import SocketIOClient
from sio_core.client.errors import ConnectionError
from tests.helpers import NODE_MODULES, ServerProcess, node_result, require_node

ADMIN_APP = Path(__file__).with_name("admin_app.py")
#: bcryptjs's hash of "changeit" (as the Node server's docs make them: ``$2a$``)
HASH = "$2a$04$UT18.vnLVNsIIttQ47Co6.A1.YJ6hapye9ddzQY6WKyJpGqrLOSUu"
WAIT = 10.0

# the Python client in this process leaves the sockets of refused or server-closed
# connections to the garbage collector (a ResourceWarning, not a failure of this feature)
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


class Recorder:
    """A client whose events of each namespace land in one queue, in order."""

    def __init__(self) -> None:
        self.client = SocketIOClient(reconnection=False)
        self.closed = False
        self.events: "queue.Queue[Tuple[str, str, Tuple[Any, ...]]]" = queue.Queue()
        #: every event received, also those ``next`` skipped
        self.log: List[Tuple[str, str, Tuple[Any, ...]]] = []

    def _put(self, namespace: str, event: str, *args: Any) -> None:
        self.log.append((namespace, event, args))
        self.events.put((namespace, event, args))

    def listen(self, namespace: str) -> None:
        self.client.on("*", lambda event, *args: self._put(namespace, event, *args),
                       namespace=namespace)
        self.client.on("disconnect", lambda *args: self.events.put((namespace, "disconnect", args)),
                       namespace=namespace)

    def connect(self, url: str, namespaces: List[str], auth: Optional[Dict[str, Any]] = None,
                transports: Optional[List[str]] = None) -> "Recorder":
        for ns in namespaces:
            self.listen(ns)
        self.client.connect(url, namespaces=namespaces, auth=auth,
                            transports=transports or ["websocket"])
        return self

    def next(self, event: str, match: Any = None, timeout: float = WAIT) -> Tuple[Any, ...]:
        """The args of the next ``event`` (for which ``match(args)`` holds), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, name, args = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event!r} within {timeout} s") from None
            if name == event and (match is None or match(args)):
                return args

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client.disconnect()


@pytest.fixture
def clients() -> Iterator[list]:
    made: list = []
    yield made
    for c in made:
        c.close()
    gc.collect()  # their leftovers go here, under this module's filter, not in a later test


def recorder(clients: list) -> Recorder:
    r = Recorder()
    clients.append(r)
    return r


def start(*args: str) -> ServerProcess:
    return ServerProcess(ADMIN_APP, "--stats-interval", "0.3", *args)


@pytest.fixture
def app() -> Iterator[ServerProcess]:
    srv = start()
    yield srv
    srv.stop()


def by_id(sockets: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {s["id"]: s for s in sockets}


def test_config_all_sockets_and_stats(app, clients) -> None:
    user = recorder(clients).connect(app.url, ["/"])
    user_id = user.client.get_sid("/")
    assert user.client.call("join", "room-a") is not None
    admin = recorder(clients).connect(app.url, ["/admin"])
    [config] = admin.next("config")
    assert config["supportedFeatures"] == ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN",
                                           "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS",
                                           "ALL_EVENTS"]
    [sockets] = admin.next("all_sockets")
    mine = by_id(sockets)[user_id]
    assert mine["nsp"] == "/" and mine["transport"] == "websocket"
    assert sorted(mine["rooms"]) == sorted([user_id, "room-a"])
    assert mine["data"] == {} and len(mine["clientId"]) == 12
    assert mine["handshake"]["address"] == "127.0.0.1"
    assert "auth" not in mine["handshake"]
    admin_id = admin.client.get_sid("/admin")
    assert by_id(sockets)[admin_id]["nsp"] == "/admin"
    [stats] = admin.next("server_stats")
    assert stats["clientsCount"] == 2 and stats["pollingClientsCount"] == 0
    assert isinstance(stats["pid"], int) and stats["serverId"] and stats["uptime"] >= 0
    counts = {n["name"]: n["socketsCount"] for n in stats["namespaces"]}
    assert counts == {"/": 1, "/admin": 1, "/chat": 0}


def test_live_sockets_rooms_and_events_in_development_mode(app, clients) -> None:
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    user = recorder(clients).connect(app.url, ["/"])
    user_id = user.client.get_sid("/")
    [described, when] = admin.next("socket_connected", lambda a: a[0]["id"] == user_id)
    assert described["nsp"] == "/" and described["transport"] == "websocket"
    # before the event the application's connection handler sends it (welcome)
    assert admin.next("event_sent", lambda a: a[1] == user_id)[2][0] == "welcome"
    assert when.endswith("Z") and "T" in when
    user.client.call("join", "room-b")
    assert admin.next("room_joined", lambda a: a[1] == "room-b")[:3] == ("/", "room-b", user_id)
    user.client.emit("echo", ("hi", {"n": 1}))
    args = admin.next("event_received")
    assert args[:3] == ("/", user_id, ["echo", "hi", {"n": 1}])
    user.client.call("leave", "room-b")
    assert admin.next("room_left", lambda a: a[1] == "room-b")[:3] == ("/", "room-b", user_id)
    user.close()
    args = admin.next("socket_disconnected")
    assert args[:2] == ("/", user_id)
    assert args[2] in ("client namespace disconnect", "transport close")


def test_actions_disconnect_join_leave_and_emit(app, clients) -> None:
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    user = recorder(clients).connect(app.url, ["/"])
    user_id = user.client.get_sid("/")
    admin.client.emit("join", ("/", "vip", user_id), namespace="/admin")
    admin.next("room_joined", lambda a: a[1] == "vip")
    assert "vip" in user.client.call("join", "other")
    admin.client.emit("emit", ("/", "vip", "hello", 1, "two"), namespace="/admin")
    assert user.next("hello") == (1, "two")
    admin.client.emit("leave", ("/", "vip", user_id), namespace="/admin")
    admin.next("room_left", lambda a: a[1] == "vip")
    assert "vip" not in user.client.call("join", "other")
    admin.client.emit("_disconnect", ("/", False, user_id), namespace="/admin")
    args = admin.next("socket_disconnected", lambda a: a[1] == user_id)
    assert args[2] == "server namespace disconnect"
    assert user.next("disconnect") is not None


def test_basic_auth_refuses_wrong_credentials_and_gives_a_session(clients) -> None:
    srv = start("--auth", "admin:" + HASH, "--mode", "production")
    try:
        with pytest.raises(ConnectionError) as err:
            recorder(clients).connect(srv.url, ["/admin"],
                                      auth={"username": "admin", "password": "wrong"})
        assert "invalid credentials" in str(err.value)
        with pytest.raises(ConnectionError):
            recorder(clients).connect(srv.url, ["/admin"])
        admin = recorder(clients).connect(srv.url, ["/admin"],
                                          auth={"username": "admin", "password": "changeit"})
        [session] = admin.next("session")
        [config] = admin.next("config")
        assert "ALL_EVENTS" not in config["supportedFeatures"]  # production mode
        assert "AGGREGATED_EVENTS" in config["supportedFeatures"]
        assert admin.next("server_stats")[0]["clientsCount"] == 1
        # production mode counts too, but reports no event
        user = recorder(clients).connect(srv.url, ["/"])
        user.client.emit("echo", ("x" * 500,))
        user.next("echo")
        sum_aggregated(admin, lambda t: t.get(("bytesOut", None), 0) > 500)
        assert not [name for _, name, _ in admin.log
                    if name in ("event_sent", "event_received", "socket_connected")]
        # the dashboard reconnects with its session id instead of the password
        again = recorder(clients).connect(srv.url, ["/admin"], auth={"sessionId": session})
        again.next("config")
    finally:
        srv.stop()


def test_read_only_offers_and_honours_no_action(clients) -> None:
    srv = start("--read-only")
    try:
        admin = recorder(clients).connect(srv.url, ["/admin"])
        [config] = admin.next("config")
        assert config["supportedFeatures"] == ["AGGREGATED_EVENTS", "ALL_EVENTS"]
        user = recorder(clients).connect(srv.url, ["/"])
        user_id = user.client.get_sid("/")
        admin.client.emit("_disconnect", ("/", False, user_id), namespace="/admin")
        admin.client.emit("emit", ("/", "", "hello", 1), namespace="/admin")
        assert user.client.call("list-clients") == [user_id]  # still here, after both
        assert "hello" not in [name for _, name, _ in list(user.events.queue)]
    finally:
        srv.stop()


def test_event_sent_for_emits_and_broadcasts_not_acks(app, clients) -> None:
    """Development mode: each EVENT a socket is sent (its own emit, a broadcast reaching
    it, a binary one) is an ``event_sent`` with the namespace, socket id, ``[event,
    *args]`` and a timestamp, as admin-ui's ``onAnyOutgoing`` listener reports it; acks
    and the admin namespace's own packets are not."""
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    one = recorder(clients).connect(app.url, ["/"])
    two = recorder(clients).connect(app.url, ["/"])
    one_id, two_id = one.client.get_sid("/"), two.client.get_sid("/")
    sent = lambda a: a[1] in (one_id, two_id)  # noqa: E731
    # the conformance app greets each socket when it connects
    welcomes = {admin.next("event_sent", sent)[1] for _ in range(2)}
    assert welcomes == {one_id, two_id}
    assert one.client.call("ack-echo", 5) == 5  # an ack: no event_sent
    one.client.emit("echo", ("hi", {"n": 1}))
    nsp, sid, args, when = admin.next("event_sent", sent)
    assert (nsp, sid, args) == ("/", one_id, ["echo", "hi", {"n": 1}])
    assert when.endswith("Z") and "T" in when
    one.client.call("join", "room-s")
    two.client.call("join", "room-s")
    one.client.emit("to-room", ("room-s", "to all"))
    got = [admin.next("event_sent", sent)[1:3] for _ in range(2)]
    assert {sid for sid, _ in got} == {one_id, two_id}
    assert all(args == ["room-msg", "to all"] for _, args in got)
    one.client.emit("echo", (b"\x00\x01",))
    assert admin.next("event_sent", sent)[1:3] == (one_id, ["echo", b"\x00\x01"])
    nsps = {args[0] for _, name, args in admin.log if name == "event_sent"}
    assert nsps == {"/"}  # the dashboard's own packets are not reported


def test_socket_updated_on_data_change_and_upgrade(app, clients) -> None:
    """``socket_updated``: ``{id, nsp, data}`` when ``socket.data`` changes (without the
    ``_admin`` entry), ``{id, nsp, transport}`` after a polling client upgrades."""
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    user = recorder(clients).connect(app.url, ["/"])
    user_id = user.client.get_sid("/")
    user.client.call("set-data", ("room", "blue"))
    [update] = admin.next("socket_updated", lambda a: "data" in a[0])
    assert update == {"id": user_id, "nsp": "/", "data": {"room": "blue"}}
    user.client.call("set-data", ("score", [1, 2]))
    [update] = admin.next("socket_updated", lambda a: "data" in a[0])
    assert update["data"] == {"room": "blue", "score": [1, 2]}
    # all_sockets of a later dashboard lists the data too
    later = recorder(clients).connect(app.url, ["/admin"])
    [sockets] = later.next("all_sockets")
    assert by_id(sockets)[user_id]["data"] == {"room": "blue", "score": [1, 2]}

    poller = recorder(clients).connect(app.url, ["/"], transports=["polling", "websocket"])
    poller_id = poller.client.get_sid("/")
    [described, _] = admin.next("socket_connected", lambda a: a[0]["id"] == poller_id)
    assert described["transport"] == "polling"
    [update] = admin.next("socket_updated", lambda a: a[0]["id"] == poller_id)
    assert update == {"id": poller_id, "nsp": "/", "transport": "websocket"}
    again = recorder(clients).connect(app.url, ["/admin"])
    [sockets] = again.next("all_sockets")
    assert by_id(sockets)[poller_id]["transport"] == "websocket"


def test_socket_updated_on_upgrade_at_once(clients) -> None:
    """The upgrade is reported when it completes, not at the next ``server_stats`` (here
    a minute away)."""
    slow = start("--stats-interval", "60")
    try:
        admin = recorder(clients).connect(slow.url, ["/admin"])
        admin.next("all_sockets")
        poller = recorder(clients).connect(slow.url, ["/"],
                                           transports=["polling", "websocket"])
        poller_id = poller.client.get_sid("/")
        [update] = admin.next("socket_updated", lambda a: a[0]["id"] == poller_id)
        assert update == {"id": poller_id, "nsp": "/", "transport": "websocket"}
        assert "server_stats" not in [name for _, name, _ in admin.log]
    finally:
        slow.stop()


def sum_aggregated(admin: Recorder, enough: Any, server_id: Optional[str] = None,
                   timeout: float = WAIT) -> Dict[Tuple[str, Any], int]:
    """The counts of the ``aggregatedEvents`` of the ``server_stats`` (of ``server_id``,
    or any) received until ``enough(totals)`` holds, by (type, subType)."""
    totals: Dict[Tuple[str, Any], int] = {}
    deadline = time.monotonic() + timeout
    while not enough(totals):
        assert time.monotonic() < deadline, f"only {totals} within {timeout} s"
        [stats] = admin.next("server_stats",
                             lambda a: server_id is None or a[0]["serverId"] == server_id)
        add_aggregated(totals, stats)
    return totals


def add_aggregated(totals: Dict[Tuple[str, Any], int], stats: Dict[str, Any]) -> None:
    """Add the ``aggregatedEvents`` of ``stats`` to ``totals``, checking their shape."""
    for event in stats["aggregatedEvents"]:
        assert set(event) <= {"timestamp", "type", "subType", "count"}
        assert event["timestamp"] % 1000 == 0 and event["count"] > 0
        key = (event["type"], event.get("subType"))
        totals[key] = totals.get(key, 0) + event["count"]


def test_aggregated_events_count_connections_messages_and_bytes(app, clients) -> None:
    """``server_stats.aggregatedEvents``: Engine.IO connections, disconnections by
    reason, messages and their UTF-8 bytes in and out, per second, each counted once."""
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    admin.next("server_stats")  # taken once the dashboard was in: what came before is out
    user = recorder(clients).connect(app.url, ["/"])
    user.client.emit("echo", ("é" * 1000,))  # 1,000 characters, 2,000 bytes in UTF-8
    user.next("echo")
    user.close()
    totals = sum_aggregated(admin, lambda t: ("rawDisconnection", "transport close") in t)
    assert totals[("rawConnection", None)] == 1
    assert totals[("rawDisconnection", "transport close")] == 1
    # in: the user's CONNECT and echo (the dashboard sent nothing); out: the CONNECT
    # answer, welcome and echo to the user, and what the dashboard was told meanwhile
    assert totals[("packetsIn", None)] == 2
    assert 2000 < totals[("bytesIn", None)] < 2100
    assert totals[("packetsOut", None)] >= 3
    assert totals[("bytesOut", None)] > 4000  # the echo, and its event_sent/received


#: socket.io-client 2 (Engine.IO 3, Socket.IO protocol 4) under node: polling then
#: websocket, an echo with a binary argument; prints its socket id once answered and
#: upgraded
V2_CLIENT = """
const io = require(process.argv[1]);
const socket = io(process.argv[2], {transports: ["polling", "websocket"]});
socket.on("echo", () => {  // stays upgraded past two stats ticks (0.3 s) before it goes
  const done = () => { console.log(JSON.stringify({id: socket.id})); process.exit(0); };
  if (socket.io.engine.transport.name === "websocket") setTimeout(done, 700);
  else socket.io.engine.once("upgrade", () => setTimeout(done, 700));
});
socket.on("connect", () => socket.emit("echo", "from-v2", Buffer.from([1, 2])));
setTimeout(() => process.exit(3), 15000);
"""


@pytest.mark.interop
def test_socket_io_client_2_is_reported_too(app, clients) -> None:
    """A socket.io 2 client (protocol 4, where the server's packets are read back the
    same way): its connection, events both ways, upgrade and disconnection reach the
    dashboard."""
    require_node()
    admin = recorder(clients).connect(app.url, ["/admin"])
    admin.next("all_sockets")
    admin.next("server_stats")  # taken once the dashboard was in: what came before is out
    start = len(admin.log)
    proc = subprocess.run(["node", "-e", V2_CLIENT, str(NODE_MODULES / "sio2"), app.url],
                          capture_output=True, timeout=30)
    sid = node_result("socket.io-client 2", proc.returncode, proc.stdout, proc.stderr)["id"]
    [described, _] = admin.next("socket_connected", lambda a: a[0]["id"] == sid)
    assert described["transport"] == "polling"
    assert admin.next("event_received", lambda a: a[1] == sid)[2] == \
        ["echo", "from-v2", b"\x01\x02"]
    assert admin.next("event_sent", lambda a: a[1] == sid and a[2][0] == "echo")[2] == \
        ["echo", "from-v2", b"\x01\x02"]
    assert admin.next("socket_disconnected", lambda a: a[1] == sid)[2] == "transport close"
    assert {"id": sid, "nsp": "/", "transport": "websocket"} in \
        [args[0] for _, name, args in admin.log if name == "socket_updated"]
    sum_aggregated(admin, lambda t: ("rawDisconnection", "transport close") in t)
    totals: Dict[Tuple[str, Any], int] = {}
    for _, name, args in admin.log[start:]:
        if name == "server_stats":
            add_aggregated(totals, args[0])
    assert totals[("rawConnection", None)] == 1
    assert totals[("rawDisconnection", "transport close")] == 1
    # the echo's text and attachment (protocol 4 joins "/" without a CONNECT; pings are
    # Engine.IO packets, not messages)
    assert totals[("packetsIn", None)] == 2


@pytest.mark.interop
def test_two_nodes_through_redis(redis_server, clients) -> None:
    """The dashboard on node 1 hears node 2's stats and sockets, and its actions reach
    sockets on node 2."""
    one = start("--redis", redis_server.url, "--server-id", "one")
    two = start("--redis", redis_server.url, "--server-id", "two")
    try:
        far = recorder(clients).connect(two.url, ["/"])
        far_id = far.client.get_sid("/")
        admin = recorder(clients).connect(one.url, ["/admin"])
        [sockets] = admin.next("all_sockets")
        assert by_id(sockets)[far_id]["nsp"] == "/"
        assert len(by_id(sockets)[far_id]["clientId"]) == 12
        seen = set()
        while seen != {"one", "two"}:
            seen.add(admin.next("server_stats")[0]["serverId"])
        # node two's own counts and events reach the dashboard on node one
        far.client.emit("echo", ("far away",))
        assert admin.next("event_sent", lambda a: a[1] == far_id)[2] == ["echo", "far away"]
        sum_aggregated(admin, lambda t: ("packetsIn", None) in t, server_id="two")
        admin.client.emit("join", ("/", "vip", far_id), namespace="/admin")
        assert admin.next("room_joined", lambda a: a[1] == "vip")[2] == far_id
        admin.client.emit("_disconnect", ("/", False, far_id), namespace="/admin")
        assert admin.next("socket_disconnected", lambda a: a[1] == far_id)[0] == "/"
        assert far.next("disconnect") is not None
    finally:
        one.stop()
        two.stop()


def test_flask_sio_instrument_forwards_to_the_server() -> None:
    flask = pytest.importorskip("flask")
    from flask_sio import SocketIO

    app = flask.Flask(__name__)
    socketio = SocketIO(app)

    @socketio.on("ping")
    def ping(value):
        return value

    instrumentation = socketio.instrument(auth=False, stats_interval=60)
    user = socketio.test_client(app)
    admin = socketio.test_client(app, namespace="/admin")
    try:
        received = {e["name"]: e["args"] for e in admin.get_received("/admin")}
        assert "ALL_EVENTS" in received["config"][0]["supportedFeatures"]
        assert {s["nsp"] for s in received["all_sockets"][0]} == {"/", "/admin"}
        assert user.emit("ping", 7, callback=True) == 7
        events = [e for e in admin.get_received("/admin") if e["name"] == "event_received"]
        assert [e["args"][2] for e in events] == [["ping", 7]]
        with pytest.raises(RuntimeError):
            socketio.instrument(auth=False)  # once per server
    finally:
        user.disconnect()
        admin.disconnect(namespace="/admin")
        instrumentation.close()


def test_counting_runs_only_while_instrumented_and_data_copies_are_plain() -> None:
    """In process: a server not instrumented makes plain ``Client`` objects; instrument()
    switches the connected ones to the counting class, whose counts and ``socket.data``
    watching then work; copies and pickles of the watched data are plain dicts."""
    from sio_core import Client, Server
    from sio_core.testing import TestClient

    io = Server()
    sockets: list = []
    io.on("connection", sockets.append)
    early = TestClient(io)
    assert early.connect() is True
    assert type(early.conn.owner) is Client and io.client_class is Client
    instrumentation = io.instrument(auth=False, stats_interval=60)
    try:
        assert type(early.conn.owner) is io.client_class is not Client
        admin = TestClient(io)
        assert admin.connect("/admin") is True
        instrumentation.take_aggregated_events()
        early.emit("hello", "é")
        counts = {e["type"]: e["count"] for e in instrumentation.take_aggregated_events()}
        assert counts == {"packetsIn": 1, "bytesIn": len('2["hello","é"]') + 1}

        late = TestClient(io)
        assert late.connect() is True
        socket = sockets[-1]
        assert socket.data == {"_admin": socket.data["_admin"]}
        admin.get_received("/admin")
        socket.data["a"] = 1
        socket.data.update(b=2)
        socket.data.setdefault("a", 5)  # present: no change
        del socket.data["b"]
        socket.data.pop("missing", None)  # absent: no change
        late.settle()
        early.settle()
        updates = [e["args"][0]["data"] for e in admin.get_received("/admin")
                   if e["name"] == "socket_updated"]
        assert updates == [{"a": 1}, {"a": 1, "b": 2}, {"a": 1}]
        assert type(copy.deepcopy(socket.data)) is dict
        assert type(pickle.loads(pickle.dumps(socket.data))) is dict
        assert type(socket.data.copy()) is dict
        # what the Admin UI relies on to hear of a socket first: prepend_listener
        order: list = []
        io.of("/x").on("connection", lambda s: order.append("app"))
        io.of("/x").prepend_listener("connection", lambda s: order.append("first"))
        assert late.connect("/x") is True
        assert order == ["first", "app"]
    finally:
        instrumentation.close()
    assert io.client_class is Client

"""A soak test with churn: many Socket.IO clients exchanging acked events while they drop
and reconnect at random, against our server in a subprocess; prints the figures.

    python3 bench/soak.py                                # 10 minutes, 2000 clients
    python3 bench/soak.py --duration 30 --clients 200    # the size tests/test_soak.py runs
    python3 bench/soak.py --serve --port 8000            # only the soak server

Every client slot (one ``sio_core.client.SocketIOClient`` each, all greenlets of this process)
speaks Socket.IO 4 over Engine.IO 3 or Socket.IO 5 over Engine.IO 4, over websocket,
polling, or polling upgraded to websocket. Its loop: send a burst of acked events
numbered by a counter the slot keeps across reconnections, join or leave a room, send
a numbered message to a room; and now and then drop its connection (a clean
disconnect; a TCP reset of the websocket, or for a polling client its connections
abandoned without a close packet; or silence until the server's ping timeout), half of
the time while acks are awaited, and reconnect.

Checked (``failures()`` lists what broke): every ack carries the slot's own number, in
the order sent, once; the server saw each slot's numbers in increasing order (none
twice); the server counted at least every acked message and at most those plus the
ones in flight at a drop; room messages from one sender arrive in order, once; after
everyone has gone no session, socket, room or file descriptor is left (the closed
sessions are given a ping interval and timeout to leave the heartbeat schedule, which
holds each until its next due time); the server's RSS is back within
10 % of its start; the server logged no traceback and no ERROR record. The RSS is read
after ``gc.collect()`` and glibc's ``malloc_trim(0)``, and its start after ``--warm-up``
seconds of the same churn, once everyone has gone: the first load grows the allocator's
pools for good (by some 10 % with 200 clients), which is not what the check looks for.
"""
import gevent
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import ctypes  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, deque  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sio_core import Server, runtime  # noqa: E402
from sio_core.client import ConnectionError, SocketIOClient  # noqa: E402
from sio_core.errors import Disconnected  # noqa: E402

log = logging.getLogger("soak")

STATS_PATH = "/soak-stats"
TRANSPORTS = (["websocket"], ["polling"], ["polling", "websocket"])
DROPS = ("clean", "reset", "silence")
ROOMS = 20
#: how far the server's RSS may end above its start, as a fraction
RSS_SLACK = 0.10
#: how many more live objects (after a collection) the server may hold at the end
OBJECTS_SLACK = 200


# -- the server ---------------------------------------------------------------------------

def rss_kb(pid: str = "self") -> int:
    """The resident set size of process ``pid`` in kB, from /proc."""
    with open("/proc/%s/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _malloc_trim() -> None:
    """Hand the C allocator's free pages back to the system (glibc), so that the RSS
    measured next is memory in use, not memory freed and kept for reuse."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the RSS then includes free pages
        pass


def _kind(obj: Any) -> str:
    """A live object's type name; for a list, also its first item's (to tell them apart)."""
    if type(obj) is list:
        return "list[%s]" % (type(obj[0]).__name__ if obj else "")
    return type(obj).__name__


class Ledger:
    """What the server saw of each client slot: the last number and how many arrived."""

    def __init__(self) -> None:
        #: slot → [last number, numbers counted, numbers at or below the last (repeated
        #: or reordered)]
        self.slots: Dict[str, List[int]] = {}
        #: the reasons the server gave for disconnections
        self.reasons: Counter = Counter()

    #: the names run() gives its slots (anything else, a fuzzer's say, is not kept)
    SLOT_NAME = re.compile(r"s[0-9a-f]+-[0-9]+\Z")

    def record(self, cid: Any, n: Any) -> bool:
        """Note message ``n`` of slot ``cid``; False when the arguments are not of that form."""
        if not isinstance(cid, str) or type(n) is not int or not self.SLOT_NAME.match(cid):
            return False
        entry = self.slots.setdefault(cid, [0, 0, 0])
        if n <= entry[0]:
            entry[2] += 1
        entry[0] = max(n, entry[0])
        entry[1] += 1
        return True


def build_server(port: int, host: str = "127.0.0.1", ping_interval: float = 1.0,
                 ping_timeout: float = 1.0, max_http_buffer_size: int = 1_000_000) -> Server:
    """The soak server, listening on ``host:port``.

    Events on ``/``: ``msg(cid, n)`` and ``to-room(cid, n, room)`` (which sends
    ``room-msg(cid, n)`` to the others in ``room``) ack ``[cid, n]``; ``join(room)`` and
    ``leave(room)`` ack the socket's rooms; ``echo`` acks its arguments. ``GET
    /soak-stats`` (outside the Socket.IO path) answers the server's figures as JSON:
    sessions, sockets and rooms left, RSS, live objects (``?gc=0`` skips the collection)
    and the ledger of numbers seen per slot (``?ledger=<prefix>``).
    """
    ledger = Ledger()

    def stats(query: str) -> Dict[str, Any]:
        nsp = io.sockets
        figures: Dict[str, Any] = {
            "sessions": io.engine.clients_count,
            "sockets": len(nsp.connected),
            "rooms": len(nsp.adapter.rooms),
            "room_members": len(nsp.adapter.sids),
            "rss_kb": rss_kb(),
            "fds": len(os.listdir("/proc/self/fd")),
            "reasons": dict(ledger.reasons),
        }
        if "gc=0" not in query:
            gc.collect()
            live = gc.get_objects()
            figures["objects"] = len(live)
            figures["types"] = Counter(_kind(o) for o in live)
            _malloc_trim()
            figures["rss_kb"] = rss_kb()
        match = re.search(r"ledger=([^&]*)", query)
        if match:
            figures["ledger"] = {cid: entry for cid, entry in ledger.slots.items()
                                 if cid.startswith(match.group(1))}
        return figures

    def stats_app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        if environ.get("PATH_INFO") != STATS_PATH:
            start_response("404 Not Found", [("Content-Length", "0")])
            return []
        body = json.dumps(stats(environ.get("QUERY_STRING", ""))).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    io = Server(stats_app, origins="*", ping_interval=ping_interval, ping_timeout=ping_timeout,
                max_http_buffer_size=max_http_buffer_size)

    def on_connection(socket: Any) -> None:
        def msg(cid: Any = None, n: Any = None, *rest: Any) -> None:
            ack = rest[-1] if rest and callable(rest[-1]) else None
            if ledger.record(cid, n) and ack is not None:
                ack(cid, n)

        def to_room(cid: Any = None, n: Any = None, room: Any = None, *rest: Any) -> None:
            ack = rest[-1] if rest and callable(rest[-1]) else None
            if isinstance(room, str) and ledger.record(cid, n):
                socket.to(room).emit("room-msg", cid, n)
                if ack is not None:
                    ack(cid, n)

        def rooms_op(op: str) -> Callable[..., None]:
            def handler(room: Any = None, *rest: Any) -> None:
                if isinstance(room, str):
                    getattr(socket, op)(room)
                if rest and callable(rest[-1]):
                    rest[-1](sorted(socket.rooms))
            return handler

        def echo(*values: Any) -> None:
            if values and callable(values[-1]):
                values[-1](*values[:-1])

        socket.on("msg", msg)
        socket.on("to-room", to_room)
        socket.on("join", rooms_op("join"))
        socket.on("leave", rooms_op("leave"))
        socket.on("echo", echo)
        socket.on("disconnect", lambda reason: ledger.reasons.update([reason]))

    io.on("connection", on_connection)
    io.of("/chat").on("connection", on_connection)
    io.listen(port, host)
    return io


# -- the clients --------------------------------------------------------------------------

class Figures:
    """Counters shared by every slot of one run."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.reasons: Counter = Counter()
        self.errors: List[str] = []

    def fail(self, what: str) -> None:
        """Count a broken invariant ``what`` (and keep its first few descriptions)."""
        self.counts[what.split(":")[0]] += 1
        if len(self.errors) < 20:
            self.errors.append(what)


class Slot:
    """One client that keeps coming back: its counter, its expectations, its drops.

    :param cid: the slot's name, sent with each numbered message
    :param eio: Engine.IO protocol (3: Socket.IO 4, 4: Socket.IO 5)
    :param transports: the client's transports, in order
    """

    def __init__(self, url: str, cid: str, eio: int, transports: List[str], figures: Figures,
                 rng: random.Random, ack_timeout: float) -> None:
        self.url, self.cid, self.eio, self.transports = url, cid, eio, transports
        self.prefix = cid[:cid.index("-") + 1]  # the run's: its slots are <prefix><index>
        self.figures, self.rng, self.ack_timeout = figures, rng, ack_timeout
        self.n = 0
        self.pending: Deque[int] = deque()
        self.batch_done = runtime.Event()
        self.up = runtime.Event()
        self.room_last: Dict[str, int] = {}
        self.rooms: set = set()
        self.connects = 0
        self.client = SocketIOClient(reconnection=True, reconnection_delay=0.2,
                                     reconnection_delay_max=1.0, request_timeout=10.0)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on("room-msg", self._on_room_msg)

    # -- events (run in the client's handler greenlet, in arrival order)
    def _on_connect(self) -> None:
        self.connects += 1
        self.rooms = set()
        self.up.set()

    def _on_disconnect(self, reason: str) -> None:
        self.figures.reasons[reason] += 1
        self.up.clear()
        self.figures.counts["in_flight_at_drop"] += len(self.pending)
        self.pending.clear()
        self.batch_done.set()

    def _on_room_msg(self, sender: Any = None, n: Any = None, *rest: Any) -> None:
        if not isinstance(sender, str) or not sender.startswith(self.prefix) or \
                type(n) is not int:
            self.figures.counts["room_foreign"] += 1  # not from this run (a fuzzer's, say)
            return
        self.figures.counts["room_received"] += 1
        last = self.room_last.get(sender, 0)
        if n <= last:
            self.figures.fail("%s: %s got %s %d after %d" % (
                "room_duplicate" if n == last else "room_out_of_order", self.cid, sender, n,
                last))
        self.room_last[sender] = max(n, self.room_last.get(sender, 0))

    def _on_ack(self, n: int, *values: Any) -> None:
        if list(values) != [self.cid, n]:
            self.figures.fail("wrong_ack: %s expected %r, got %r" % (self.cid, [self.cid, n],
                                                                     list(values)))
        if not self.pending or self.pending[0] != n:
            what = "ack_out_of_order" if n in self.pending else "duplicate_ack"
            self.figures.fail("%s: %s ack %d, pending %s" % (what, self.cid, n,
                                                            list(self.pending)[:5]))
            if n in self.pending:
                self.pending.remove(n)
        else:
            self.pending.popleft()
        self.figures.counts["acked"] += 1
        self.figures.counts["acked:" + self.cid] += 1
        if not self.pending:
            self.batch_done.set()

    # -- actions
    def connect(self, deadline: float) -> bool:
        """Connect (again), retrying until ``deadline``; whether it worked."""
        while time.monotonic() < deadline:
            try:
                self.client.connect(self.url, transports=self.transports, eio=self.eio,
                                    wait_timeout=10.0)
                return True
            except ConnectionError as exc:
                self.figures.counts["connect_failures"] += 1
                log.info("%s: connect failed: %s", self.cid, exc)
                runtime.sleep(self.rng.uniform(0.2, 1.0))
        return False

    def wait_up(self, timeout: float) -> bool:
        """Wait until the client is connected (by its own reconnection, say)."""
        return self.up.wait(timeout) and self.client.connected

    def _emit(self, event: str, *args: Any) -> None:
        self.n += 1
        n = self.n
        self.pending.append(n)
        try:
            self.client.emit(event, (self.cid, n, *args),
                             callback=lambda *values: self._on_ack(n, *values))
            self.figures.counts["sent"] += 1
            self.figures.counts["sent:" + self.cid] += 1
        except Disconnected:
            if n in self.pending:
                self.pending.remove(n)

    def burst(self, size: int, meanwhile: Optional[Callable[[], None]] = None) -> None:
        """``size`` numbered messages (some to a room) at once, then wait for their acks;
        ``meanwhile()`` runs while they are in flight (a drop, say)."""
        self.batch_done.clear()
        for _ in range(size):
            if self.rooms and self.rng.random() < 0.3:
                self._emit("to-room", self.rng.choice(sorted(self.rooms)))
            else:
                self._emit("msg")
        if meanwhile is not None:
            meanwhile()
        if self.pending and not self.batch_done.wait(self.ack_timeout):
            if self.client.connected:
                self.figures.fail("ack_timeout: %s waited %ss for %s"
                                  % (self.cid, self.ack_timeout, list(self.pending)))
            self.pending.clear()

    def rooms_step(self) -> None:
        """Join a room, or leave one; the ack lists the socket's rooms."""
        leave = self.rooms and self.rng.random() < 0.4
        room = self.rng.choice(sorted(self.rooms)) if leave else "room-%d" % self.rng.randrange(
            ROOMS)
        try:
            rooms = self.client.call("leave" if leave else "join", room, timeout=self.ack_timeout)
        except Disconnected:
            return
        except Exception as exc:  # AckTimeout
            if self.client.connected:
                self.figures.fail("room_ack: %s %s %s: %s" % (self.cid, leave, room, exc))
            return
        self.figures.counts["room_ops"] += 1
        if not isinstance(rooms, list) or (room in rooms) == bool(leave):
            self.figures.fail("room_state: %s %s %s → %r" % (self.cid, "leave" if leave
                                                             else "join", room, rooms))
            return
        if leave:
            self.rooms.discard(room)
        else:
            self.rooms.add(room)

    def drop(self, how: str, silence: float) -> None:
        """Lose the connection: ``clean`` (disconnect, then connect again), ``reset`` (RST on
        the websocket; a polling client abandons its connections without a close packet)
        or ``silence`` (stop reading and writing until the server's ping timeout has
        passed); the client's own reconnection brings the last two back."""
        engine = self.client._engine
        if engine is None or engine.closed:
            return
        self.figures.counts["drop_" + how] += 1
        if how == "clean":
            self.client.disconnect()
            runtime.sleep(self.rng.uniform(0, 0.5))
            self.connect(time.monotonic() + 30)
            return
        if how == "reset":
            ws = engine._ws
            if engine.transport == "websocket" and ws is not None:
                sock = ws._sock
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()  # the reader fails: "transport error", then reconnection
            else:
                engine._close("transport error")
            return
        for greenlet in engine._greenlets:  # silence: nothing read, nothing written
            greenlet.kill(block=False)
        runtime.sleep(silence)
        engine._close("transport error")

    def leave(self) -> None:
        """Go for good."""
        self.client.disconnect()


def _stats(base: str, query: str = "") -> Dict[str, Any]:
    host, _, port = base.split("//", 1)[1].partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", STATS_PATH + ("?" + query if query else ""))
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def wait_quiet(url: str, timeout: float, settle: float, sessions: int = 0,
               fds: Optional[int] = None) -> Dict[str, Any]:
    """Poll the server's figures until at most ``sessions`` sessions (and, if given, at
    most ``fds`` open descriptors) are left, or timeout; then wait ``settle`` seconds more
    (the heartbeat schedule holds a closed session until its next due time, up to a ping
    interval and timeout). Descriptors can outlive the sessions: an idle keep-alive
    connection is closed after ``keepalive_timeout`` (5 s + 1 s), a websocket that never
    finished its upgrade after ``upgrade_timeout`` (10 s)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = _stats(url, "gc=0")
        if (stats["sessions"] <= sessions and (fds is None or stats["fds"] <= fds)
                or time.monotonic() > deadline):
            runtime.sleep(settle)  # a time the server's state does not announce
            return stats
        runtime.sleep(0.25)  # polling the server's state: there is no event to await


class ServerProc:
    """``bench/soak.py --serve`` in a subprocess, its output in a temporary file."""

    def __init__(self, ping_interval: float, ping_timeout: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(self.port),
             "--ping-interval", str(ping_interval), "--ping-timeout", str(ping_timeout)],
            stdout=self._log, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the soak server did not start: %s" % self.stop()) from None
                runtime.sleep(0.05)  # waiting for a port: no event to await

    def stop(self) -> str:
        """Stop it; what it logged."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


def log_problems(text: str) -> List[str]:
    """The lines of a server log that show an unhandled exception or an ERROR record."""
    return [line for line in text.splitlines()
            if "Traceback" in line or re.match(r"(ERROR|CRITICAL) ", line)]


def run(clients: int = 200, duration: float = 30.0, url: Optional[str] = None,
        ping_interval: float = 1.0, ping_timeout: float = 1.0, drop_rate: float = 0.03,
        pause: float = 1.0, seed: Optional[int] = None, until_eof: bool = False,
        ack_timeout: float = 30.0, warm_up: float = 10.0) -> Dict[str, Any]:
    """Run the soak and return its figures (see ``failures()``).

    :param clients: client slots (half Engine.IO 3, half 4; a third per transport list)
    :param duration: seconds of churn (with ``until_eof``: until stdin closes instead)
    :param url: a running soak server; None starts one (and checks its memory and state)
    :param drop_rate: chance that a slot drops its connection at each step
    :param pause: mean seconds between a slot's steps
    :param warm_up: seconds of the same churn before the server's memory is first measured
        (own server only), after which every client leaves and comes back
    """
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    server = None if url else ServerProc(ping_interval, ping_timeout)
    base = url or server.url  # type: ignore[union-attr]
    figures = Figures()
    prefix = "s%x-" % rng.randrange(1 << 32)
    slots = [Slot(base, "%s%d" % (prefix, i), 3 if i % 2 else 4, TRANSPORTS[(i // 2) % 3],
                  figures, random.Random(rng.random()), ack_timeout) for i in range(clients)]
    silence = ping_interval + ping_timeout + 1.0
    result: Dict[str, Any] = {"seed": seed, "clients": clients, "duration": duration}

    def connect_all() -> None:
        deadline = time.monotonic() + 60 + clients * 0.05
        runtime.joinall([runtime.spawn(slot.connect, deadline) for slot in slots],
                        timeout=deadline - time.monotonic() + 30)

    def churn(slot: Slot, stop: Any) -> None:
        while not stop.is_set():
            if not slot.wait_up(ack_timeout):
                if stop.is_set():
                    break
                figures.counts["reconnect_waits"] += 1
                client = slot.client
                if client._wanted and client._reconnecting is None and not client.connected:
                    figures.counts["reconnection_stalled"] += 1  # it will not try again
                slot.client.disconnect()  # ends its own attempts, so that one engine is left
                if not slot.connect(time.monotonic() + 30):
                    continue
            how = None
            if slot.rng.random() < drop_rate and not stop.is_set():
                how = slot.rng.choice(DROPS)
            if slot.rng.random() < 0.6:  # a burst; half the drops happen during one
                during = how is not None and slot.rng.random() < 0.5
                slot.burst(slot.rng.randint(1, 5),
                           functools.partial(slot.drop, how, silence) if during else None)
                how = None if during else how
            else:
                slot.rooms_step()
            if how is not None:
                slot.drop(how, silence)
            stop.wait(slot.rng.expovariate(1.0 / pause) if pause > 0 else 0)

    def phase(seconds: Optional[float]) -> float:
        """Every slot churns for ``seconds`` (None: until stdin closes), then leaves."""
        stop = runtime.Event()
        began = time.monotonic()
        workers = [runtime.spawn(churn, slot, stop) for slot in slots]
        if seconds is None:
            # a blocking read, in a real thread: the hub must go on meanwhile
            gevent.get_hub().threadpool.spawn(sys.stdin.read).get()
        else:
            stop.wait(seconds)
        stop.set()
        took = time.monotonic() - began
        runtime.joinall(workers, timeout=ack_timeout + silence + 30)
        figures.counts["stuck_workers"] += sum(1 for w in workers if not w.dead)
        for worker in workers:
            worker.kill(block=False)
        for slot in slots:
            slot.leave()
        return took

    try:
        if server is not None and warm_up > 0:  # the start: after the same load, everyone gone
            connect_all()
            # one numbered message each, so that the server's ledger has every slot already
            runtime.joinall([runtime.spawn(slot.burst, 1) for slot in slots],
                            timeout=ack_timeout + 30)
            phase(warm_up)
            result["warm_up_sessions_left"] = wait_quiet(base, silence + 20, silence)["sessions"]
            start = _stats(base)
            result.update(rss_start_kb=start["rss_kb"], objects_start=start["objects"],
                          fds_start=start["fds"])
        elif server is not None:
            start = _stats(base)
            result.update(rss_start_kb=start["rss_kb"], objects_start=start["objects"],
                          fds_start=start["fds"])
        connect_all()
        done = runtime.Event()
        peak = [0]

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _stats(base, "gc=0")["rss_kb"])
                done.wait(1.0)

        sampler = runtime.spawn(sample) if server is not None else None
        result["churn_seconds"] = round(phase(None if until_eof else duration), 1)
        done.set()
        if sampler is not None:
            sampler.join(timeout=5)
        ledger = _stats(base, "gc=0&ledger=" + prefix)["ledger"]
        result.update(_compare(slots, figures, ledger))
        if server is not None:
            wait_quiet(base, silence + 30, silence, fds=start["fds"])
            end = _stats(base)
            grown = Counter(end["types"])
            grown.subtract(start["types"])
            result["objects_grown"] = dict(grown.most_common(8))
            result.update(server_reasons=end["reasons"],
                          rss_peak_kb=max(peak[0], end["rss_kb"]), rss_end_kb=end["rss_kb"],
                          objects_end=end["objects"], fds_end=end["fds"],
                          sessions_left=end["sessions"],
                          sockets_left=end["sockets"], rooms_left=end["rooms"],
                          room_members_left=end["room_members"])
    finally:
        for slot in slots:
            try:
                slot.leave()
            except Exception:  # noqa: BLE001 - a cleanup that must reach every slot
                log.exception("leaving failed")
        if server is not None:
            problems = log_problems(server.stop())
            result["server_log_problems"] = len(problems)
            result["server_log_sample"] = problems[:10]
    result["reconnects"] = sum(max(0, s.connects - 1) for s in slots)
    result["disconnect_reasons"] = dict(figures.reasons)
    result.update({k: v for k, v in figures.counts.items() if ":" not in k})
    result["errors"] = figures.errors
    result["broken"] = failures(result, own_server=server is not None)
    return result


def _compare(slots: Iterable[Slot], figures: Figures, ledger: Dict[str, List[int]]
             ) -> Dict[str, int]:
    """Client-side counts against the server's ledger, per slot."""
    lost = over = disorder = 0
    for slot in slots:
        acked = figures.counts["acked:" + slot.cid]
        sent = figures.counts["sent:" + slot.cid]
        _, seen, out_of_order = ledger.get(slot.cid, [0, 0, 0])
        if seen < acked:  # acked, yet the server never counted it
            lost += acked - seen
        if seen > sent:  # counted more often than sent
            over += seen - sent
        disorder += out_of_order
    return {"lost": lost, "server_extra": over, "server_out_of_order": disorder}


def failures(figures: Dict[str, Any], own_server: bool = True) -> List[str]:
    """The invariants a run's ``figures`` break (empty when all hold)."""
    broken = ["%s = %s" % (key, figures.get(key, 0)) for key in (
        "lost", "server_extra", "server_out_of_order", "wrong_ack", "duplicate_ack",
        "ack_out_of_order", "ack_timeout", "room_duplicate", "room_out_of_order", "room_state",
        "room_ack", "stuck_workers", "reconnection_stalled") if figures.get(key)]
    if own_server:
        for key in ("sessions_left", "sockets_left", "rooms_left", "room_members_left",
                    "server_log_problems"):
            if figures.get(key, 1):
                broken.append("%s = %s" % (key, figures.get(key)))
        if figures.get("fds_end", 1 << 20) > figures.get("fds_start", 0):
            broken.append("fds_end %s > fds_start %s" % (figures.get("fds_end"),
                                                         figures.get("fds_start")))
        if figures.get("objects_end", 1 << 40) > figures.get("objects_start", 0) + OBJECTS_SLACK:
            broken.append("objects_end %s > objects_start %s + %d" % (
                figures.get("objects_end"), figures.get("objects_start"), OBJECTS_SLACK))
        start, end = figures.get("rss_start_kb", 0), figures.get("rss_end_kb", 1 << 40)
        if end > start * (1 + RSS_SLACK):
            broken.append("rss_end_kb %s > %s + %d %%" % (end, start, RSS_SLACK * 100))
    return broken


def _report(figures: Dict[str, Any]) -> str:
    lines = ["%-22s %s" % (key, value) for key, value in figures.items()
             if key not in ("errors", "broken")]
    lines += ["error: " + e for e in figures.get("errors", [])]
    broken = figures["broken"]
    lines.append("verdict: " + ("all invariants hold" if not broken else "; ".join(broken)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help="only run the soak server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="with --serve")
    parser.add_argument("--log-level", default="WARNING", help="the server's logging level")
    parser.add_argument("--max-http-buffer-size", type=int, default=1_000_000,
                        help="the server's message size limit (with --serve)")
    parser.add_argument("--url", default=None, help="use this running soak server")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of churn")
    parser.add_argument("--until-eof", action="store_true",
                        help="churn until stdin closes instead of --duration")
    parser.add_argument("--ping-interval", type=float, default=1.0)
    parser.add_argument("--ping-timeout", type=float, default=1.0)
    parser.add_argument("--drop-rate", type=float, default=0.03,
                        help="chance of a drop after each step of a client")
    parser.add_argument("--pause", type=float, default=None,
                        help="mean seconds between a client's steps (default: clients / 200, "
                        "at least 1, so that the message rate suits 2 cores)")
    parser.add_argument("--warm-up", type=float, default=10.0,
                        help="seconds of churn before the server's memory is first measured")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    fmt = "%(levelname)s %(name)s %(message)s"  # log_problems() reads the level first
    if args.serve:
        logging.basicConfig(level=getattr(logging, args.log_level.upper()), format=fmt)
        build_server(args.port, args.host, args.ping_interval, args.ping_timeout,
                     args.max_http_buffer_size).serve_forever()
        return
    logging.basicConfig(level=logging.WARNING, format=fmt)
    figures = run(args.clients, args.duration, args.url, args.ping_interval, args.ping_timeout,
                  args.drop_rate, args.pause if args.pause is not None else max(
                      1.0, args.clients / 200), args.seed, args.until_eof, warm_up=args.warm_up)
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        sys.stdout.write(_report(figures) + "\n")
    sys.exit(1 if figures["broken"] else 0)


if __name__ == "__main__":
    main()

"""A Socket.IO server exercising the server API beyond the conformance contract.

Driven from the outside by tests/interop/api_scenario.js (socket.io-client 2 and 4),
tests/interop/test_api_clients.py and raw clients. Everything the server observes
(disconnect reasons, rooms at ``disconnecting``, ``error`` events, the outcome of
``call()``) is kept by socket id and read back by another client with ``observed``,
which waits for the record instead of polling.

Run: python tests/interop/api_app.py --port 8000 [--ping-interval 1 --ping-timeout 1
     --max-http-buffer-size 100000 --connect-timeout 1 --origins localhost:*
     --refuse-websocket]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from typing import Any, Dict, List  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402

from sio_core import Server  # noqa: E402
from sio_core.errors import AckTimeout, Disconnected  # noqa: E402

log = logging.getLogger("api_app")

#: seconds ``observed`` waits for a record, and the app waits for a writable transport
WAIT = 5.0


class Records:
    """What the server saw, by kind and socket id; readers wait until it is there."""

    def __init__(self) -> None:
        self._values: Dict[str, Dict[str, List[Any]]] = {}
        self._changed = Event()

    def add(self, kind: str, sid: str, value: Any) -> None:
        """Record ``value`` for ``(kind, sid)`` and wake the readers."""
        self._values.setdefault(kind, {}).setdefault(sid, []).append(value)
        changed, self._changed = self._changed, Event()
        changed.set()

    def wait(self, kind: str, sid: str, timeout: float = WAIT) -> List[Any]:
        """The values of ``(kind, sid)``, waiting up to ``timeout`` for a first one."""
        deadline = time.monotonic() + timeout
        while not self._values.get(kind, {}).get(sid):
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._changed.wait(left)
        return list(self._values[kind][sid])


def wait_writable(socket: Any) -> bool:
    """Wait until a packet sent now would go out at once (the session exposes no event)."""
    deadline = time.monotonic() + WAIT
    while not socket.conn.session.writable():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.005)
    return True


def handshake_of(socket: Any) -> Dict[str, Any]:
    """The handshake fields and the werkzeug request, as JSON."""
    hs, req = socket.handshake, socket.request
    return {
        "query": hs.query, "auth": hs.auth, "address": hs.address, "url": hs.url,
        "issued": hs.issued, "time": hs.time, "xdomain": hs.xdomain, "secure": hs.secure,
        "header": hs.headers.get("x-api-test"), "host": hs.headers.get("host"),
        "item": hs["url"] == hs.url,
        "request": {"path": req.path, "method": req.method, "q": req.args.get("q"),
                    "remote_addr": req.remote_addr, "header": req.headers.get("X-Api-Test")},
    }


def build(args: argparse.Namespace) -> Server:
    """The server described in the module docstring, listening on ``args.port``."""
    options: Dict[str, Any] = dict(
        ping_interval=args.ping_interval, ping_timeout=args.ping_timeout,
        max_http_buffer_size=args.max_http_buffer_size, connect_timeout=args.connect_timeout,
        origins=args.origins or "*")
    if args.refuse_websocket:
        options["allow_request"] = lambda environ: "transport=websocket" not in \
            environ.get("QUERY_STRING", "")
    io = Server(**options)
    records = Records()

    def track(socket: Any) -> None:
        """Record this socket's disconnect reason, its rooms when leaving, its errors."""

        @socket.on("disconnecting")
        def on_disconnecting(reason):
            records.add("disconnecting", socket.id, [reason, sorted(socket.rooms)])

        @socket.on("disconnect")
        def on_disconnect(reason):
            log.info("disconnect %s: %s", socket.id, reason)
            records.add("reason", socket.id, reason)

        @socket.on("error")
        def on_error(exc):
            records.add("error", socket.id, [type(exc).__name__, str(exc)])

        @socket.on("echo")
        def echo(*values):
            socket.emit("echo", *values)

        @socket.on("ack-echo")
        def ack_echo(*values):
            values[-1](*values[:-1])

        @socket.on("join")
        def join(room, ack):
            socket.join(room)
            ack(sorted(socket.rooms))

        @socket.on("observed")
        def observed(kind, sid, ack):
            ack(records.wait(kind, sid))

        @socket.on("handshake")
        def handshake(ack):
            ack(handshake_of(socket))

        @socket.on("nsp-clients")
        def nsp_clients(ack):
            got: List[Any] = []
            plain = socket.nsp.clients(lambda err, ids: got.append([err, sorted(ids)]))
            ack({"name": socket.nsp.name, "plain": sorted(plain), "callback": got,
                 "room": sorted(socket.nsp.to("members").clients())})

    def on_connection(socket: Any) -> None:
        track(socket)

        @socket.on("volatile")
        def volatile(room):
            writable = wait_writable(socket)
            socket.volatile.emit("vol", "socket", writable)
            wait_writable(socket)
            io.volatile.to(room).emit("vol", "room")
            socket.emit("vol-done")

        @socket.on("compress")
        def compress(room):
            socket.compress(False).emit("compressed", "socket")
            io.compress(False).to(room).emit("compressed", "room")
            io.to(room).compress(True).emit("compressed", "room-true")

        @socket.on("local")
        def local(room, ack):
            socket.local.to(room).emit("local-msg", "socket.local", socket.id)
            io.local.to(room).emit("local-msg", "io.local", socket.id)
            ack()

        @socket.on("except")
        def except_(room, excluded, ack):
            io.to(room).except_(excluded).emit("except-msg", "io", excluded)
            socket.to(room).except_(excluded).emit("except-msg", "socket", excluded)
            io.except_([excluded, socket.id]).to(room).emit("except-msg", "list", excluded)
            ack()

        @socket.on("boom")
        def boom(text):
            raise ValueError(text)

        @socket.on("call-me")
        def call_me(answers):
            started = time.monotonic()
            try:
                value = socket.call("question", "why?", timeout=answers.get("timeout", 30))
                outcome = ["answer", value]
            except (Disconnected, AckTimeout) as exc:
                outcome = [type(exc).__name__, str(exc)]
            records.add("call", socket.id, outcome + [round(time.monotonic() - started, 3)])

        @socket.on("ask")
        def ask(ack):
            ack(socket.call("answer-me", "how much?", timeout=WAIT))

        @socket.on("ack-timeout")
        def ack_timeout(seconds, ack):
            started = time.monotonic()

            def done(err, *values):
                ack([type(err).__name__, str(err), list(values),
                     round(time.monotonic() - started, 3)])

            socket.timeout(seconds).emit("never-acked", "please", callback=done)

        @socket.on("broadcast-ack")
        def broadcast_ack(room, seconds, ack):
            started = time.monotonic()

            def done(err, responses):
                ack([None if err is None else [type(err).__name__, str(err)],
                     sorted(responses, key=str), round(time.monotonic() - started, 3)])

            io.to(room).timeout(seconds).emit("poll", "vote?", callback=done)

        @socket.on("disconnect-me")
        def disconnect_me(close):
            socket.disconnect(close)

        @socket.on("close-conn")
        def close_conn():
            socket.conn.close()

        @socket.on("shutdown")
        def shutdown():
            gevent.spawn(io.close)

    io.on("connection", on_connection)
    dynamic_namespaces(io, track)
    io.listen(args.port, args.host)
    return io


def dynamic_namespaces(io: Server, track: Any) -> None:
    """``/dyn-*`` (regex), ``/fn-*`` (``fn(name, auth)``), ``/next-*`` (``fn(name, auth, next)``).

    Names ending in ``-refused`` are refused by the callables.
    """

    def welcome(socket: Any) -> None:
        track(socket)
        socket.emit("dyn-welcome", socket.nsp.name, socket.nsp.parent is not None)

    io.of(re.compile(r"/dyn-[\w-]+")).on("connection", welcome)
    io.of(lambda name, auth: name.startswith("/fn-") and not name.endswith("-refused"),
          welcome)
    io.of(lambda name, auth, next: next(None, name.startswith("/next-")
                                        and not name.endswith("-refused")), welcome)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ping-interval", type=float, default=2.0)
    parser.add_argument("--ping-timeout", type=float, default=2.0)
    parser.add_argument("--max-http-buffer-size", type=int, default=100_000)
    parser.add_argument("--connect-timeout", type=float, default=45.0)
    parser.add_argument("--origins", action="append", default=None)
    parser.add_argument("--refuse-websocket", action="store_true",
                        help="allow_request refuses websocket handshakes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    build(args).serve_forever()


if __name__ == "__main__":
    main()

"""The servers the official client test suites expect, written with this project's API.

The socketio/socket.io monorepo tests its clients (``packages/socket.io-client/test`` and
``packages/engine.io-client/test``, mocha in node mode) against a server described in
their ``test/support`` folders. This script serves the same contract, so that those suites
can be run against us by hand (see docs/conformance.md):

Run: python examples/client_suite_servers.py socket.io-client   (port 3210)
     python examples/client_suite_servers.py engine.io-client   (port 3000, path /engine.io)

socket.io-client: ping interval 2 s, a 10 ms delay in ``allow_request``, namespaces ``/foo``
(``getId``), ``/timeout_socket``, ``/valid``, ``/asd``, ``/abc`` (emits ``handshake``),
``/no`` (refused), ``/`` refused when the query has ``fail``, and the events the suite's
``/`` handlers answer. engine.io-client: ping interval 0.5 s, ``max_http_buffer_size``
100, handshakes with ``deny`` in the query refused, four Set-Cookie headers on the
handshake, ``hi`` sent on open and every message echoed (``give binary``, ``give utf8`` and
``sendHeaders`` answered specially).
"""
from gevent import monkey

monkey.patch_all()

import datetime  # noqa: E402
import json  # noqa: E402
from typing import Any, Callable, Dict, Iterable, List, Optional  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402

import gevent  # noqa: E402
from _cli import parse_args  # noqa: E402

from sio_core import Server  # noqa: E402
from sio_core.engineio import EngineOptions  # noqa: E402
from sio_core.server.engine import Connection, EngineHandler, EngineServer  # noqa: E402
from sio_core.serving import run  # noqa: E402
from sio_core.wsgi.app import WSGIApp  # noqa: E402

# -- socket.io-client ---------------------------------------------------------------------------


def _now() -> str:
    """A date as JSON.stringify writes a JavaScript Date."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")[
        :-6] + "Z"


def _handshake(socket: Any) -> Dict[str, Any]:
    h = socket.handshake
    return {name: getattr(h, name) for name in h.__slots__}


def socketio_client_server(port: int, host: str = "127.0.0.1") -> Server:
    """The server of ``packages/socket.io-client/test/support/server.ts``."""

    def slow_allow(environ: Dict[str, Any]) -> bool:
        gevent.sleep(0.01)  # the suite's server delays every handshake by 10 ms
        return True

    io = Server(ping_interval=2.0, origins="*", allow_request=slow_allow,
                connection_state_recovery=True)  # as the suite's server: every emit has an offset

    @io.of("/foo").on("connection")
    def on_foo(socket: Any) -> None:
        socket.on("getId", lambda cb: cb(socket.id))

    for name in ("/timeout_socket", "/valid", "/asd"):
        io.of(name)

    @io.of("/abc").on("connection")
    def on_abc(socket: Any) -> None:
        socket.emit("handshake", _handshake(socket))

    @io.use
    def main_auth(socket: Any, next: Callable[..., None]) -> None:
        if socket.handshake.query.get("fail"):
            next(Exception("Auth failed (main namespace)"))
        else:
            next()

    io.of("/no").use(lambda socket, next: next(Exception("Auth failed (custom namespace)")))

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        state = {"abuff1": False, "blob1": False, "blob2": False}

        def on(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            def register(fn: Callable[..., Any]) -> Callable[..., Any]:
                socket.on(event, fn)
                return fn
            return register

        on("hi")(lambda *a: socket.emit("hi"))
        on("echo")(lambda arg, cb: cb(arg))

        @on("ack")
        def ack(*args: Any) -> None:
            def answered(a: Any = None, b: Any = None, *rest: Any) -> None:
                if a == 5 and isinstance(b, dict) and b.get("test"):
                    socket.emit("got it")
            socket.emit("ack", callback=answered)

        on("getAckDate")(lambda data, cb: cb(_now()))
        on("getDate")(lambda *a: socket.emit("takeDate", _now()))
        on("getDateObj")(lambda *a: socket.emit("takeDateObj", {"date": _now()}))

        @on("getUtf8")
        def get_utf8(*args: Any) -> None:
            for text in ("てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"):
                socket.emit("takeUtf8", text)

        on("false")(lambda *a: socket.emit("false", False))
        on("doge")(lambda *a: socket.emit("doge", b"asdfasdf"))

        @on("buffa")
        def buffa(a: Any) -> None:
            if isinstance(a, bytes):
                socket.emit("buffack")

        def json_with_binary(answer: str) -> Callable[[Any], None]:
            def handler(a: Any) -> None:
                if (a.get("hello"), isinstance(a.get("message"), bytes), a.get("goodbye")) == (
                        "lol", True, "gotcha"):
                    socket.emit(answer)
            return handler

        on("jsonbuff")(json_with_binary("jsonbuff-ack"))
        on("jsonblob")(json_with_binary("jsonblob-ack"))

        @on("abuff1")
        def abuff1(a: Any) -> None:
            state["abuff1"] = isinstance(a, bytes)

        @on("abuff2")
        def abuff2(a: Any) -> None:
            if state["abuff1"]:
                socket.emit("abuff2-ack")

        @on("blob")
        def blob(a: Any) -> None:
            if isinstance(a, bytes):
                socket.emit("back")

        @on("blob1")
        def blob1(a: Any) -> None:
            state["blob1"] = isinstance(a, bytes)

        @on("blob2")
        def blob2(a: Any) -> None:
            state["blob2"] = state["blob1"] and a == "second"

        @on("blob3")
        def blob3(a: Any) -> None:
            if isinstance(a, bytes) and state["blob1"] and state["blob2"]:
                socket.emit("blob3-ack")

        on("getbin")(lambda *a: socket.emit("takebin", b"asdfasdf"))
        on("getHandshake")(lambda cb: cb(_handshake(socket)))
        on("getId")(lambda cb: cb(socket.id))

    io.listen(port, host)
    return io


# -- engine.io-client ---------------------------------------------------------------------------

#: the Set-Cookie headers the suite's server adds to every handshake
COOKIES = ["1=1; Max-Age=86400", "2=2; Path=/; HttpOnly; Secure; SameSite=Strict", "3=3; Max-Age=0",
           "4=4; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]


class _Echo(EngineHandler):
    """Send ``hi`` on open and echo every message, as the suite's server does."""

    def __init__(self) -> None:
        #: the environ of the request being handled, per greenlet (for ``sendHeaders``)
        self.requests: Dict[Any, Dict[str, Any]] = {}

    def on_connect(self, conn: Connection) -> None:
        conn.send("hi")

    def on_message(self, conn: Connection, data: Any) -> None:
        if data == "give binary":
            conn.send(bytes(range(5)))
        elif data == "give utf8":
            conn.send("пойду спать всем спокойной ночи")
        elif data == "sendHeaders":
            environ = self.requests.get(gevent.getcurrent()) if conn.transport == "polling" \
                else None
            headers = None if environ is None else {
                k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                if k.startswith("HTTP_")}
            conn.send(json.dumps(headers))
        else:
            conn.send(data)


def engineio_client_app() -> Callable[..., Iterable[bytes]]:
    """The server of ``packages/engine.io-client/test/support/hooks.js`` as a WSGI app."""
    handler = _Echo()
    options = EngineOptions(ping_interval=0.5, max_http_buffer_size=100)

    def allow(environ: Dict[str, Any]) -> bool:
        return "deny" not in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)

    engine_app = WSGIApp(EngineServer(options, handler), path="/engine.io", origins="*",
                         allow_request=allow)

    def app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        handshake = "sid" not in query

        def start(status: str, headers: List[Any], exc_info: Optional[Any] = None) -> Any:
            if handshake and status.startswith("200"):
                headers = headers + [("Set-Cookie", c) for c in COOKIES]
            return start_response(status, headers, exc_info)

        current = gevent.getcurrent()
        handler.requests[current] = environ
        try:
            return engine_app(environ, start)
        finally:
            handler.requests.pop(current, None)

    app.check_websocket = engine_app.check_websocket  # type: ignore[attr-defined]
    return app


def _options(parser: Any) -> None:
    parser.add_argument("suite", choices=["socket.io-client", "engine.io-client"])


def main() -> None:
    args = parse_args(__doc__, 0, _options)
    if args.suite == "socket.io-client":
        socketio_client_server(args.port or 3210, args.host).serve_forever()
    else:
        run(engineio_client_app(), args.host, args.port or 3000)


if __name__ == "__main__":
    main()

"""A small Socket.IO server for the JSON wire tests (``test_json_wire_sockets.py``).

Run: python tests/transports/json_app.py --port N [--json stdlib|default]

Events on ``/``: ``ack-echo`` acks its arguments; ``broadcast(payload)`` sends
``bcast`` to every other client; ``engine-raw(text)`` sends ``text`` as a raw Engine.IO
message, then acks; ``unencodable`` tries every way of sending a value with no JSON form
and acks what each raised; ``return-unencodable`` returns one as its ack;
``reason-of(socket_id)`` waits until that socket has gone and acks the reason.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, DefaultDict, List  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402

from sio_core import Server, runtime  # noqa: E402


class NoJson:
    """A value that has no JSON form."""


def _ignore(*values: Any) -> None:
    """A callback that is never reached: the emit it belongs to raises first."""


def _outcome(fn: Callable[[], Any]) -> str:
    try:
        fn()
    except Exception as exc:  # the test wants to see exactly what was raised
        return type(exc).__name__
    return "sent"


def build(args: argparse.Namespace) -> Server:
    """The server, listening on ``args.host:args.port``."""
    io = Server(origins="*", json=json if args.json == "stdlib" else None)
    reasons: DefaultDict[str, Any] = defaultdict(runtime.AsyncResult)

    def on_connection(socket: Any) -> None:
        socket.on("ack-echo", lambda *args: args[-1](*args[:-1]))
        socket.on("broadcast", lambda payload: socket.broadcast.emit("bcast", payload))

        @socket.on("engine-raw")
        def engine_raw(text: str, ack: Any) -> None:
            socket.conn.send(text)
            ack("sent")

        @socket.on("unencodable")
        def unencodable(ack: Any) -> None:
            bad = NoJson()
            outcomes: List[str] = [
                _outcome(lambda: socket.emit("never", bad)),
                _outcome(lambda: socket.emit("never", bad, callback=_ignore)),
                _outcome(lambda: socket.timeout(1).emit("never", bad, callback=_ignore)),
                _outcome(lambda: socket.call("never", bad, timeout=1)),
                _outcome(lambda: socket.broadcast.emit("never", bad)),
                _outcome(lambda: io.timeout(1).emit("never", bad, callback=_ignore)),
                _outcome(lambda: io.emit("never", [1, bad])),
                _outcome(lambda: ack(bad)),
            ]
            ack(outcomes, len(socket.acks))

        socket.on("return-unencodable", lambda ack: NoJson())
        socket.on("reason-of", lambda sid, ack: ack(reasons[sid].get(timeout=5)))
        socket.on("disconnect", lambda reason: reasons[socket.id].set(reason))

    io.on("connection", on_connection)
    io.listen(args.port, args.host)
    return io


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", choices=["stdlib", "default"], default="default",
                        help="JSON back end: the standard library, or orjson when installed")


def main() -> None:
    build(parse_args(__doc__, 8000, _options)).serve_forever()


if __name__ == "__main__":
    main()

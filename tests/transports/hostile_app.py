"""A small Socket.IO server for the hostile-client tests (``test_hostile.py``).

Run: python tests/transports/hostile_app.py --port N [--max-queue N] [--ping-timeout S]

Events on ``/`` (and ``/chat``): ``echo`` answers through the ack when one is asked
for, else emits ``echo`` back; ``blast(count, size)`` broadcasts ``count`` messages of
``size`` characters to every client and then acks ``count``; ``count`` acks the number
of open Engine.IO sessions; ``reason-of(socket_id)`` waits until that socket has
disconnected and acks the reason the server gave.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, DefaultDict  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402

from sio_core import Server, runtime  # noqa: E402


def build(args: argparse.Namespace) -> Server:
    """The server, listening on ``args.host:args.port``."""
    io = Server(max_queue=args.max_queue, origins="*", ping_timeout=args.ping_timeout)
    reasons: DefaultDict[str, Any] = defaultdict(runtime.AsyncResult)

    def on_connection(socket: Any) -> None:
        @socket.on("echo")
        def echo(*values: Any) -> None:
            if values and callable(values[-1]):
                values[-1](*values[:-1])
            else:
                socket.emit("echo", *values)

        @socket.on("blast")
        def blast(count: int, size: int, ack: Any) -> None:
            for index in range(count):
                socket.nsp.emit("blob", index, "x" * size)
                # a burst over time (2 s for 400): the writers drain between emits, and a
                # reader that is only slow (a loaded machine) stays well within max_queue
                runtime.sleep(0.005)
            ack(count)

        socket.on("count", lambda ack: ack(io.engine.clients_count))
        socket.on("reason-of", lambda sid, ack: ack(reasons[sid].get(timeout=5)))
        socket.on("disconnect", lambda reason: reasons[socket.id].set(reason))

    io.on("connection", on_connection)
    io.of("/chat").on("connection", on_connection)
    io.listen(args.port, args.host)
    return io


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-queue", type=int, default=10_000,
                        help="packets a session may hold unsent before it is closed")
    parser.add_argument("--ping-timeout", type=float, default=20.0,
                        help="also how long a closed session's writer may stay blocked")


def main() -> None:
    build(parse_args(__doc__, 8000, _options)).serve_forever()


if __name__ == "__main__":
    main()

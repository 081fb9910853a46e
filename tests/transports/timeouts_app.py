"""A Socket.IO server with short HTTP-edge deadlines, for ``test_timeouts.py``.

Run: python tests/transports/timeouts_app.py --port N [--headers-timeout S]
[--request-timeout S] [--keepalive-timeout S] [--upgrade-timeout S] [--nofile N]

It is the standalone ``Server(port, ...)``, so the options travel the way a user's do.
``echo`` acks its arguments back; ``--nofile`` caps the process's descriptors
(``RLIMIT_NOFILE``) before it listens.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402

from sio_core import Server  # noqa: E402


def build(args: argparse.Namespace) -> Server:
    """The server, listening on ``args.host:args.port``."""
    if args.nofile:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    io = Server(origins="*", headers_timeout=args.headers_timeout,
                request_timeout=args.request_timeout,
                keepalive_timeout=args.keepalive_timeout,
                upgrade_timeout=args.upgrade_timeout, ping_interval=args.ping_interval)

    def on_connection(socket: Any) -> None:
        socket.on("echo", lambda *values: values[-1](*values[:-1]))

    io.on("connection", on_connection)
    io.listen(args.port, args.host)
    return io


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headers-timeout", type=float, default=60.0)
    parser.add_argument("--request-timeout", type=float, default=300.0)
    parser.add_argument("--keepalive-timeout", type=float, default=5.0)
    parser.add_argument("--upgrade-timeout", type=float, default=10.0)
    parser.add_argument("--ping-interval", type=float, default=25.0)
    parser.add_argument("--nofile", type=int, default=0,
                        help="RLIMIT_NOFILE of the server process (0: unchanged)")


def main() -> None:
    build(parse_args(__doc__, 8000, _options)).serve_forever()


if __name__ == "__main__":
    main()

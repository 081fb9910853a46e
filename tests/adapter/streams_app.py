"""The conformance app on a RedisStreamsAdapter, plus the cluster events, for the
multi-node tests of tests/adapter/test_redis_streams.py.

Run: python tests/adapter/streams_app.py --port N --redis URL [--recovery S] [--max-len N]

Beyond the conformance and cluster events: ``socket-emit`` (sid, payload, ack) calls
``emit("direct", payload)`` on the socket object of that id that this node served, even
after it dropped (a direct emit while its client is away). ``--slow-recovery S``: the
connect middlewares run for a recovered socket too, and one of them waits S seconds (the
stream goes on meanwhile).
"""
import gevent
from gevent import monkey

monkey.patch_all()

import dataclasses  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402
from cluster_app import add_cluster_events  # noqa: E402
from conformance_app import build  # noqa: E402

from sio_core.adapter.redis_streams import RedisStreamsAdapter  # noqa: E402


def _options(parser) -> None:
    parser.add_argument("--redis", required=True, help="Redis URL")
    parser.add_argument("--channel", default="socket.io")
    parser.add_argument("--recovery", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--max-len", type=int, default=10_000)
    parser.add_argument("--request-timeout", type=float, default=2.0)
    parser.add_argument("--slow-recovery", type=float, default=None, metavar="SECONDS")


def main() -> None:
    args = parse_args(__doc__, 0, _options)
    adapter = RedisStreamsAdapter.factory(url=args.redis, channel=args.channel,
                                          max_len=args.max_len,
                                          request_timeout=args.request_timeout)
    io = build(args.port, args.host, adapter=adapter, recovery=args.recovery)
    add_cluster_events(io, args.port)
    if args.slow_recovery is not None:
        io.recovery = dataclasses.replace(io.recovery, skip_middlewares=False)

        @io.use
        def slow_when_recovered(socket, next):
            if socket.recovered:
                gevent.sleep(args.slow_recovery)  # a middleware that waits for something
            next()

    served = {}  # socket id -> the Socket this node served (a test app: never pruned)

    @io.on("connection")
    def remember(socket):
        served[socket.id] = socket

        @socket.on("socket-emit")
        def socket_emit(sid, payload, ack):
            target = served.get(sid)
            if target is not None:
                target.emit("direct", payload)
            ack(target is not None)

    io.serve_forever()


if __name__ == "__main__":
    main()

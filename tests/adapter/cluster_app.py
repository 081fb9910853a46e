"""The conformance app plus cluster-wide operations, for the multi-node tests.

Run: python tests/adapter/cluster_app.py --port N --redis URL [--channel P]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from conformance_app import build  # noqa: E402

from sio_core import AckTimeout  # noqa: E402
from sio_core.adapter.redis import BrokerUnavailable, RedisAdapter  # noqa: E402


def add_cluster_events(io) -> None:
    """Events driving cluster-wide broadcasts, queries and remote operations."""

    @io.on("connection")
    def on_connection(socket):
        def guarded(fn):
            def run(*args):
                ack = args[-1] if args and callable(args[-1]) else None
                try:
                    fn(*args)
                except BrokerUnavailable as exc:
                    if ack is not None:
                        ack({"error": "broker unavailable", "detail": str(exc)})
            return run

        socket.on("local-bcast", guarded(lambda payload: io.local.emit("lbcast", payload)))
        socket.on("volatile-bcast", guarded(lambda payload: io.volatile.emit("vbcast", payload)))
        socket.on("bcast-except", guarded(
            lambda room, payload: io.except_(room).emit("exc", payload)))
        socket.on("to-rooms", guarded(lambda rooms, payload: io.to(rooms).emit("multi", payload)))
        socket.on("sockets-join", guarded(
            lambda room, new_room, ack: (io.in_(room).sockets_join(new_room), ack(True))))
        socket.on("sockets-leave", guarded(
            lambda room, old_room, ack: (io.in_(room).sockets_leave(old_room), ack(True))))
        socket.on("disconnect-room", guarded(
            lambda room, ack: (io.in_(room).disconnect_sockets(), ack(True))))
        socket.on("fetch", guarded(
            lambda room, ack: ack(sorted(s.id for s in io.in_(room).fetch_sockets()))))
        socket.on("list-room", guarded(lambda room, ack: ack(sorted(io.in_(room).all_sockets()))))
        socket.on("my-rooms", lambda ack: ack(sorted(socket.rooms)))
        socket.on("emit-safe", guarded(lambda payload, ack: (io.emit("safe", payload), ack("ok"))))
        # many broadcasts from one handler, without a pause: one batch for the publisher
        socket.on("burst", guarded(
            lambda count: [io.emit("seq", n) for n in range(count)]))

        @socket.on("ask-all")
        @guarded
        def ask_all(seconds, ack):
            def done(err, responses):
                ack({"error": str(err) if err else None,
                     "responses": sorted(map(str, responses))})
            io.timeout(seconds).emit("poll", callback=done)

        @socket.on("call-sid")
        @guarded
        def call_sid(sid, ack):
            try:
                ack({"answer": io.to(sid).timeout(3).call("poll")})
            except AckTimeout as exc:
                ack({"error": "timeout", "partial": exc.responses})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--channel", default="socket.io")
    parser.add_argument("--request-timeout", type=float, default=2.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    adapter = RedisAdapter.factory(url=args.redis, channel=args.channel,
                                   request_timeout=args.request_timeout)
    io = build(args.port, args.host, adapter=adapter)
    add_cluster_events(io)
    io.serve_forever()


if __name__ == "__main__":
    main()

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
from sio_core.server.engine import default_generate_id  # noqa: E402


def add_cluster_events(io, port: int = 0) -> None:
    """Events driving cluster-wide broadcasts, queries and remote operations."""

    @io.on("connection")
    def on_connection(socket):
        socket.on("node", lambda ack: ack(port))  # which node serves this socket
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

        def ask(targets, seconds, ack):
            def done(err, responses):
                ack({"error": str(err) if err else None,
                     "responses": sorted(map(str, responses))})
            targets.timeout(seconds).emit("poll", callback=done)

        socket.on("ask-all", guarded(lambda seconds, ack: ask(io, seconds, ack)))
        socket.on("ask-room", guarded(lambda room, seconds, ack: ask(io.to(room), seconds, ack)))

        @socket.on("call-sid")
        @guarded
        def call_sid(sid, ack):
            try:
                ack({"answer": io.to(sid).timeout(3).call("poll")})
            except AckTimeout as exc:
                ack({"error": "timeout", "partial": exc.responses})

    chat = io.of("/chat")

    @chat.on("connection")
    def on_chat(socket):
        """``/chat`` has an adapter of its own: its rooms and broadcasts cross nodes too."""
        socket.on("join", lambda room, ack: (socket.join(room), ack(sorted(socket.rooms))))
        socket.on("broadcast", lambda payload: socket.broadcast.emit("bcast", payload))
        socket.on("to-room", lambda room, payload: chat.to(room).emit("room-msg", payload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--channel", default="socket.io")
    parser.add_argument("--request-timeout", type=float, default=2.0)
    parser.add_argument("--adapter-form", choices=["factory", "instance"], default="factory",
                        help="RedisAdapter.factory(...) or a template RedisAdapter(...)")
    parser.add_argument("--sid-prefix", default=None,
                        help="session ids start with '<prefix>-' (nginx routes on it)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    options = dict(url=args.redis, channel=args.channel, request_timeout=args.request_timeout)
    if args.adapter_form == "instance":
        adapter = RedisAdapter(**options)
    else:
        adapter = RedisAdapter.factory(**options)
    generate_id = None
    if args.sid_prefix:
        prefix = args.sid_prefix + "-"
        generate_id = lambda environ: prefix + default_generate_id(environ)  # noqa: E731
    io = build(args.port, args.host, adapter=adapter, generate_id=generate_id)
    add_cluster_events(io, args.port)
    io.serve_forever()


if __name__ == "__main__":
    main()

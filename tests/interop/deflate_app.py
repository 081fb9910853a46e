"""A Socket.IO server with permessage-deflate offered, for the deflate interop tests.

Run: python tests/interop/deflate_app.py --port 8000 [--options JSON]

Events: ``extensions`` acks with the Sec-WebSocket-Extensions the server answered on this
session's websocket (null on polling, or when none was agreed); ``ack-echo`` acks with its
arguments; ``ask-big`` (size, compress=true) emits ``big`` with a JSON object of about
``size`` bytes, through ``socket.compress(compress)``; ``bcast-big`` (size, compress)
broadcasts it to every socket of ``/`` through ``io.compress(compress)``.
On ``/early`` a middleware emits ``big`` through ``socket.compress(compress)`` before the
socket is admitted (queued until the CONNECT answer), ``size`` and ``compress`` taken from
the CONNECT's auth.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402

from sio_core import Server  # noqa: E402
from sio_core.transports.wsconn import DEFLATE_KEY  # noqa: E402


def big(size: int) -> dict:
    """A JSON object of about ``size`` bytes."""
    return {"items": ["item-%06d" % i for i in range(size // 14)]}


def build(port: int, options: dict) -> Server:
    io = Server(per_message_deflate=options or True, origins="*", ping_interval=5,
                ping_timeout=5)

    @io.on("connection")
    def on_connection(socket):
        @socket.on("extensions")
        def extensions(ack):
            deflate = socket.environ.get(DEFLATE_KEY)
            ack(None if deflate is None else deflate.params.header())

        @socket.on("ack-echo")
        def ack_echo(*args):
            args[-1](*args[:-1])

        @socket.on("ask-big")
        def ask_big(size, compress=True):
            socket.compress(compress).emit("big", big(size))

        @socket.on("bcast-big")
        def bcast_big(size, compress):
            io.compress(compress).emit("big", big(size))

    @io.of("/early").use
    def emit_before_admission(socket, next):
        auth = socket.handshake.auth
        socket.compress(auth.get("compress", True)).emit("big", big(auth.get("size", 0)))
        next()

    io.listen(port)
    return io


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--options", default="{}", help="per_message_deflate, as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    build(args.port, json.loads(args.options)).serve_forever()


if __name__ == "__main__":
    main()

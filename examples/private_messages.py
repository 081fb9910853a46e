"""Private messages: every socket sits in a room named by its own id, so ``io.to(id)`` reaches it.

When a client connects, everyone else gets ``user connected`` with ``{"id": <its socket id>}``
(``socket.broadcast.emit``), so clients learn each other's ids; when it leaves, everyone
else gets ``user disconnected`` with the same payload.

A client sends a private message with ``say to someone`` and two arguments, the target's
socket id and a text; the target alone receives ``my message`` with
``{"from": <sender's socket id>, "text": <the text>}``. The sender learns its own id from
``socket.id`` once connected.

Client side (socket.io-client)::

    socket.on("user connected", ({ id }) => socket.emit("say to someone", id, "hi!"));
    socket.on("my message", ({ from, text }) => console.log(from, "says", text));

Run: python examples/private_messages.py --port 3000 [--host 127.0.0.1]
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

from _cli import serve  # noqa: E402

from sio_core import Server  # noqa: E402

log = logging.getLogger(__name__)


def build(port: int, host: str = "127.0.0.1") -> Server:
    """Create the server, listening on ``host:port`` at once.

    :param port: TCP port (0 picks a free one)
    :param host: interface to bind
    """
    io = Server(port, host=host)

    @io.on("connection")
    def on_connection(socket):
        socket.broadcast.emit("user connected", {"id": socket.id})

        @socket.on("say to someone")
        def say_to_someone(target_id, text):
            log.info("%s says %r to %s", socket.id, text, target_id)
            io.to(target_id).emit("my message", {"from": socket.id, "text": text})

        @socket.on("disconnect")
        def on_disconnect(reason):
            socket.broadcast.emit("user disconnected", {"id": socket.id})

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

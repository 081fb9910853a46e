"""Broadcasting: to everyone but the sender (``socket.broadcast``) or to everyone (``io.emit``).

When a client connects:

1. every *other* client gets ``user connected`` with ``{"id": <newcomer's socket id>}``;
2. then every client, the newcomer included, gets ``this`` with
   ``{"will": "be received by everyone"}``.

When a client disconnects, everyone left gets ``user disconnected`` with
``{"id": <its socket id>}``.

Client side (socket.io-client)::

    socket.on("user connected", ({ id }) => console.log(id, "arrived"));
    socket.on("this", (data) => console.log(data.will));
    socket.on("user disconnected", ({ id }) => console.log(id, "left"));

Run: python examples/broadcasting.py --port 3000 [--host 127.0.0.1]
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
        io.emit("this", {"will": "be received by everyone"})

        @socket.on("disconnect")
        def on_disconnect(reason):
            log.info("%s left: %s", socket.id, reason)
            io.emit("user disconnected", {"id": socket.id})

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

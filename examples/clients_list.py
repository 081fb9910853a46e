"""Listing the sockets of a namespace or of a room, answered through acks.

Everything happens on the ``/chat`` namespace. Client events, each ending with an ack
callback that receives a sorted list of socket ids:

- ``join`` ``room`` [ack] — join ``room``; the ack gets the socket's rooms.
- ``clients`` ack — every socket of ``/chat``, the socket.io 2 way:
  ``chat.clients(lambda err, ids: ...)``.
- ``room clients`` ``room``, ack — the sockets in ``room``: ``chat.in_(room).clients(...)``.
- ``all sockets`` ack — every socket of ``/chat``, the socket.io 4 way:
  ``chat.all_sockets()`` (a set).

Client side (socket.io-client)::

    const chat = io("http://127.0.0.1:3000/chat");
    chat.emit("join", "general");
    chat.emit("room clients", "general", (ids) => console.log(ids));

Run: python examples/clients_list.py --port 3000 [--host 127.0.0.1]
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
    chat = io.of("/chat")

    def answer(ack):
        """A socket.io 2 style ``clients`` callback that passes the ids to ``ack``."""
        def callback(error, ids):
            if error is not None:
                log.error("listing clients failed: %s", error)
                ids = []
            ack(sorted(ids))
        return callback

    @chat.on("connection")
    def on_connection(socket):
        @socket.on("join")
        def join(room, ack=None):
            socket.join(room)
            if ack is not None:
                ack(sorted(socket.rooms))

        @socket.on("clients")
        def clients(ack):
            chat.clients(answer(ack))

        @socket.on("room clients")
        def room_clients(room, ack):
            chat.in_(room).clients(answer(ack))

        @socket.on("all sockets")
        def all_sockets(ack):
            ack(sorted(chat.all_sockets()))

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

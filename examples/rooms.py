"""Rooms: join and leave them, and emit to a room, to a room but the sender, or to all but a room.

Every socket joins ``some room`` when it connects (besides the room named by its own id).
Client events (``ack`` is the client's optional ack callback):

- ``join`` ``room`` [ack] — join ``room``; the others already in it get ``joined`` with
  ``{"room": room, "id": <socket id>}``; the ack gets the sorted list of the socket's rooms.
- ``leave`` ``room`` [ack] — leave ``room``; the ack gets the sorted list of its rooms.
- ``to room`` ``room, text`` — everyone in ``room``, the sender included if it is a member,
  gets ``some event`` (``io.to(room).emit``).
- ``to others`` ``room, text`` — the same but never the sender (``socket.to(room).emit``).
- ``except room`` ``room, text`` — everyone *not* in ``room`` gets it
  (``io.except_(room).emit``).

``some event`` carries ``{"room": room, "from": <sender's socket id>, "text": text}``.

Client side (socket.io-client)::

    socket.emit("join", "game", (rooms) => console.log(rooms));
    socket.on("some event", ({ room, from, text }) => console.log(room, from, text));
    socket.emit("to room", "game", "the game will start soon");

Run: python examples/rooms.py --port 3000 [--host 127.0.0.1]
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
        socket.join("some room")

        def message(room, text):
            return {"room": room, "from": socket.id, "text": text}

        @socket.on("join")
        def join(room, ack=None):
            socket.join(room)
            socket.to(room).emit("joined", {"room": room, "id": socket.id})
            if ack is not None:
                ack(sorted(socket.rooms))

        @socket.on("leave")
        def leave(room, ack=None):
            socket.leave(room)
            if ack is not None:
                ack(sorted(socket.rooms))

        @socket.on("to room")
        def to_room(room, text):
            io.to(room).emit("some event", message(room, text))

        @socket.on("to others")
        def to_others(room, text):
            socket.to(room).emit("some event", message(room, text))

        @socket.on("except room")
        def except_room(room, text):
            io.except_(room).emit("some event", message(room, text))

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

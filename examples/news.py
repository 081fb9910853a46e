"""The first example of the socket.io docs: the server greets with news and logs the reply.

Every client that connects to ``/`` gets a ``news`` event at once, carrying
``{"hello": "world"}``. A client can then emit ``my other event`` with any payload
(the docs send ``{"my": "data"}``); the server only writes it to its log.

Client side (socket.io-client)::

    const socket = io("http://127.0.0.1:3000");
    socket.on("news", (data) => {
      console.log(data);                          // {hello: "world"}
      socket.emit("my other event", { my: "data" });
    });

Run: python examples/news.py --port 3000 [--host 127.0.0.1]
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
        socket.emit("news", {"hello": "world"})

        @socket.on("my other event")
        def on_my_other_event(data):
            log.info("my other event from %s: %r", socket.id, data)

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

"""Namespaces: two channels, ``/chat`` and ``/news``, over one server (and one connection).

``/chat``: a client that connects gets ``a message`` with
``{"that": "only", "/chat": "will get"}`` for itself, then every socket of ``/chat``,
the newcomer included, gets ``a message`` with ``{"everyone": "in", "/chat": "will get"}``.

``/news``: a client that connects gets ``item`` with ``{"news": "item"}``.

Nothing is sent on ``/``; events of one namespace never reach the other.

Client side (socket.io-client; both sockets share one connection)::

    const chat = io("http://127.0.0.1:3000/chat");
    const news = io("http://127.0.0.1:3000/news");
    chat.on("a message", (data) => console.log("chat", data));
    news.on("item", (data) => console.log("news", data));

Run: python examples/namespaces.py --port 3000 [--host 127.0.0.1]
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
    news = io.of("/news")

    @chat.on("connection")
    def on_chat(socket):
        socket.emit("a message", {"that": "only", "/chat": "will get"})
        chat.emit("a message", {"everyone": "in", "/chat": "will get"})

    @news.on("connection")
    def on_news(socket):
        socket.emit("item", {"news": "item"})

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

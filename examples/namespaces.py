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

The page at ``/`` does exactly that with the served client bundle and lists what each
namespace received.

Run: python examples/namespaces.py --port 3000 [--host 127.0.0.1]
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

from _cli import page_app, serve  # noqa: E402

from sio_core import Server  # noqa: E402

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>namespaces</title>
<style>body{font:15px system-ui,sans-serif;margin:2em} li{font-family:monospace}</style>
</head>
<body>
<h1>Two namespaces, one connection</h1>
<h2>/chat</h2><ul id="chat"></ul>
<h2>/news</h2><ul id="news"></ul>
<p id="status">connecting…</p>
<script src="/socket.io/socket.io.js"></script>
<script>
  function show(list, data) {
    const item = document.createElement("li");
    item.textContent = JSON.stringify(data);
    document.getElementById(list).appendChild(item);
  }
  const chat = io("/chat");
  const news = io("/news");
  chat.on("a message", (data) => show("chat", data));
  news.on("item", (data) => show("news", data));
  news.on("connect", () => {
    document.getElementById("status").textContent =
      chat.io === news.io ? "one connection for both" : "two connections";
  });
</script>
</body>
</html>
"""


def build(port: int, host: str = "127.0.0.1") -> Server:
    """Create the server, listening on ``host:port`` at once.

    :param port: TCP port (0 picks a free one)
    :param host: interface to bind
    """
    io = Server(page_app(PAGE)).listen(port, host)
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

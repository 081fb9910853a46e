"""Using Socket.IO like a plain WebSocket: ``send()`` and the ``message`` event, no event names.

Whatever a client sends with ``socket.send(...)`` (a ``message`` event, any number of
arguments) comes straight back to it as a ``message`` with the same arguments. If the
client also passed an ack callback, the ack is called with no arguments once the echo is
on its way. Connections and disconnections are logged.

Client side (socket.io-client)::

    socket.on("message", (data) => console.log("echo:", data));
    socket.send("hello");                    // → message "hello"

Run: python examples/websocket_like.py --port 3000 [--host 127.0.0.1]
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
        log.info("%s connected", socket.id)

        @socket.on("message")
        def on_message(*args):
            ack = args[-1] if args and callable(args[-1]) else None  # JSON is never callable
            socket.send(*(args[:-1] if ack is not None else args))
            if ack is not None:
                ack()

        @socket.on("disconnect")
        def on_disconnect(reason):
            log.info("%s disconnected: %s", socket.id, reason)

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

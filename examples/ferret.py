"""Acknowledgements, both ways: an event can carry a function that the other side calls back.

Client to server: emit ``ferret`` with a name and an ack callback; the server acks with
``"woot"``::

    socket.emit("ferret", "tobi", (answer) => console.log(answer));   // "woot"

Server to client: right after connecting, the server emits ``ferret`` with ``"tobi"`` and
an ack id, and waits up to 5 s (``socket.call``) for the client's answer, which it logs
(a timeout or a disconnect is logged too). Answer it like this::

    socket.on("ferret", (name, ack) => ack("woot"));

Run: python examples/ferret.py --port 3000 [--host 127.0.0.1]
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

import gevent  # noqa: E402
from _cli import serve  # noqa: E402

from sio_core import AckTimeout, Disconnected, Server  # noqa: E402

log = logging.getLogger(__name__)


def ask_ferret(socket) -> None:
    """Ask the client about its ferret and log the answer."""
    try:
        answer = socket.call("ferret", "tobi", timeout=5)
    except AckTimeout:
        log.info("%s did not answer about its ferret in time", socket.id)
    except Disconnected:
        log.info("%s left before answering about its ferret", socket.id)
    else:
        log.info("%s answered about its ferret: %r", socket.id, answer)


def build(port: int, host: str = "127.0.0.1") -> Server:
    """Create the server, listening on ``host:port`` at once.

    :param port: TCP port (0 picks a free one)
    :param host: interface to bind
    """
    io = Server(port, host=host)

    @io.on("connection")
    def on_connection(socket):
        @socket.on("ferret")
        def ferret(name, ack=None):
            log.info("%s asked about ferret %r", socket.id, name)
            if ack is not None:
                ack("woot")

        # call() blocks until the answer comes; in a greenlet of its own, it does not
        # hold up this socket's other events meanwhile
        gevent.spawn(ask_ferret, socket)

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

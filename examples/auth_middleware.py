"""Authentication middleware: ``io.use`` admits or refuses each connection to ``/``.

A client proves who it is with a token, which the middleware looks for in two places:

- ``socket.handshake.auth["token"]`` — the auth payload of socket.io-client 3/4
  (``io(url, {auth: {token: "abc123"}})``);
- ``socket.handshake.query["token"]`` — the query string, the only way for
  socket.io-client 2 (``io(url, {query: {token: "abc123"}})``); newer clients may use it too.

Known tokens (a stand-in for a real user store): ``abc123`` is alice, ``xyz789`` is bob.
An admitted client gets ``welcome`` with ``{"user": <name>}``. Any other token is refused
with the message ``not authorized`` and the data ``{"content": "Please retry later"}``:
socket.io-client 3/4 emit ``connect_error`` with ``err.message`` and ``err.data``;
socket.io-client 2 emits ``error`` with the data.

Client side (socket.io-client 4)::

    const socket = io("http://127.0.0.1:3000", { auth: { token: "abc123" } });
    socket.on("welcome", ({ user }) => console.log("hello", user));
    socket.on("connect_error", (err) => console.log(err.message, err.data));

Run: python examples/auth_middleware.py --port 3000 [--host 127.0.0.1]
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

from _cli import serve  # noqa: E402

from sio_core import ConnectionRefusedError, Server  # noqa: E402

log = logging.getLogger(__name__)

#: token → user name
USERS = {"abc123": "alice", "xyz789": "bob"}


def build(port: int, host: str = "127.0.0.1") -> Server:
    """Create the server, listening on ``host:port`` at once.

    :param port: TCP port (0 picks a free one)
    :param host: interface to bind
    """
    io = Server(port, host=host)

    @io.use
    def authenticate(socket, next):
        handshake = socket.handshake
        token = handshake.auth.get("token") or handshake.query.get("token")
        user = USERS.get(token) if isinstance(token, str) else None
        if user is None:
            log.info("refused %s from %s", socket.id, handshake.address)
            next(ConnectionRefusedError("not authorized", data={"content": "Please retry later"}))
            return
        socket.data["user"] = user
        next()

    @io.on("connection")
    def on_connection(socket):
        log.info("%s is %s", socket.id, socket.data["user"])
        socket.emit("welcome", {"user": socket.data["user"]})

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

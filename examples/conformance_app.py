"""The conformance app: a Socket.IO server whose behaviour is fixed by a written contract.

Run: python examples/conformance_app.py --port 8000
     python examples/conformance_app.py --port 8001 --redis redis://127.0.0.1:6379/0
         (instances sharing a Redis and a --channel share rooms, broadcasts and clients)
     python examples/conformance_app.py --port 8000 --recovery 120
         (connection state recovery with a 120 s window, middlewares skipped on recovery)
     python examples/conformance_app.py --port 8000 --admin
         (the Admin UI's namespace /admin, no auth: open the dashboard on this server)
     python examples/conformance_app.py --port 8000 --deflate
         (permessage-deflate offered on websocket, threshold 1024 bytes)
"""
from gevent import monkey

monkey.patch_all()

from collections import OrderedDict  # noqa: E402

from _cli import parse_args  # noqa: E402

from sio_core import Server  # noqa: E402

#: how many disconnect reasons ``disconnect-reason-of`` remembers (the oldest go first)
REMEMBERED = 100_000


def build(port: int, host: str = "127.0.0.1", adapter=None, ping_interval: float = 2.0,
          ping_timeout: float = 2.0, generate_id=None, recovery=None,
          admin: bool = False, deflate: bool = False) -> Server:
    """Create the conformance server listening on ``host:port``.

    The contract's heartbeat is 2 s / 2 s; tests of heartbeats over time shorten it.
    ``generate_id`` makes Engine.IO session ids (e.g. tagged with the node, for a proxy).
    ``recovery``: seconds of connection state recovery (off when None); the ``welcome``
    event then carries ``recovered`` too.
    ``admin``: the Admin UI namespace ``/admin`` (no authentication, development mode).
    ``deflate``: permessage-deflate offered on websocket (threshold 1024 bytes).
    """
    options = dict(ping_interval=ping_interval, ping_timeout=ping_timeout,
                   max_http_buffer_size=1_000_000,
                   origins="*", path="/socket.io")
    if adapter is not None:
        options["adapter"] = adapter
    if generate_id is not None:
        options["generate_id"] = generate_id
    if recovery is not None:
        options["connection_state_recovery"] = {"max_disconnection_duration": recovery,
                                                "skip_middlewares": True}
    if deflate:
        options["per_message_deflate"] = {"threshold": 1024}
    io = Server(**options)
    if admin:
        io.instrument(auth=False, mode="development")
    state = {"last_reason": None}
    reasons = OrderedDict()  # socket id -> disconnect reason, the most recent REMEMBERED

    @io.on("connection")
    def on_connection(socket):
        if recovery is None:
            socket.emit("welcome", {"id": socket.id})
        else:
            socket.emit("welcome", {"id": socket.id, "recovered": socket.recovered})
        last_error = [None]  # the message of the last event the middleware refused

        @socket.use
        def refuse_forbidden(packet, next):
            if packet[0] == "forbidden":
                next(Exception("forbidden event"))
            else:
                next()

        @socket.on("error")
        def on_error(err):
            last_error[0] = getattr(err, "message", None) or str(err)

        @socket.on("last-error")
        def last_error_of(ack):
            ack(last_error[0])

        @socket.on("echo")
        def echo(*args):
            socket.emit("echo", *args)

        @socket.on("ack-echo")
        def ack_echo(*args):
            args[-1](*args[:-1])

        @socket.on("ask-client")
        def ask_client(*args):
            socket.emit("question", "how many?",
                        callback=lambda *answer: socket.emit("answer-was", *answer))

        @socket.on("join")
        def join(room, ack=None):
            socket.join(room)
            if ack is not None:
                ack(sorted(socket.rooms))

        @socket.on("leave")
        def leave(room, ack=None):
            socket.leave(room)
            if ack is not None:
                ack(sorted(socket.rooms))

        @socket.on("to-room")
        def to_room(room, payload):
            io.to(room).emit("room-msg", payload)

        @socket.on("to-others-in-room")
        def to_others(room, payload):
            socket.to(room).emit("room-msg", payload)

        @socket.on("broadcast")
        def broadcast(payload):
            socket.broadcast.emit("bcast", payload)

        @socket.on("private")
        def private(target, payload):
            io.to(target).emit("private", {"from": socket.id, "payload": payload})

        @socket.on("list-clients")
        def list_clients(ack):
            ack(sorted(io.sockets.all_sockets()))

        @socket.on("disconnect-me")
        def disconnect_me(ack=None):
            if ack is not None:
                ack()
            socket.disconnect(True)

        @socket.on("message")
        def message(*args):
            first = args[0] if args and not callable(args[0]) else ""
            socket.send("echo:" + str(first))

        @socket.on("last-disconnect-reason")
        def last_reason(ack):
            ack(state["last_reason"])

        @socket.on("disconnect-reason-of")
        def reason_of(target, ack):
            ack(reasons.get(target))

        @socket.on("disconnect")
        def on_disconnect(reason):
            state["last_reason"] = reason
            reasons[socket.id] = reason
            if len(reasons) > REMEMBERED:
                reasons.popitem(last=False)

    chat = io.of("/chat")

    @chat.use
    def auth(socket, next):
        token = socket.handshake.auth.get("token") or socket.handshake.query.get("token")
        if token == "secret":
            next()
        else:
            next(Exception("not authorized"))

    @chat.on("connection")
    def on_chat(socket):
        @socket.on("echo")
        def echo(*args):
            socket.emit("echo", *args)

    io.listen(port, host)
    return io


def _options(parser) -> None:
    parser.add_argument("--ping-interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--ping-timeout", type=float, default=2.0, help="seconds")
    parser.add_argument("--redis", default=None,
                        help="Redis URL: share rooms and broadcasts with other instances")
    parser.add_argument("--channel", default="socket.io", help="Redis channel prefix")
    parser.add_argument("--recovery", type=float, default=None, metavar="SECONDS",
                        help="connection state recovery with this window")
    parser.add_argument("--admin", action="store_true",
                        help="the Admin UI namespace /admin (no auth, development mode)")
    parser.add_argument("--deflate", action="store_true",
                        help="permessage-deflate on websocket (threshold 1024 bytes)")


def main() -> None:
    args = parse_args(__doc__, 8000, _options)
    adapter = None
    if args.redis:
        from sio_core.adapter.redis import RedisAdapter

        adapter = RedisAdapter(url=args.redis, channel=args.channel)
    build(args.port, args.host, adapter=adapter, ping_interval=args.ping_interval,
          ping_timeout=args.ping_timeout, recovery=args.recovery, admin=args.admin,
          deflate=args.deflate).serve_forever()


if __name__ == "__main__":
    main()

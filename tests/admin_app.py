"""The conformance app with the Admin UI set as a test asks, for tests/test_admin.py and
tests/js/test_admin_ui.py; its sockets also take ``set-data`` (key, value[, ack]), which
sets ``socket.data[key]``.

    python tests/admin_app.py --port N [--auth USER:BCRYPT_HASH] [--mode production]
        [--read-only] [--redis URL] [--server-id NAME] [--stats-interval SECONDS]
"""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from _cli import parse_args  # noqa: E402
from conformance_app import build  # noqa: E402


def _options(parser) -> None:
    parser.add_argument("--auth", default=None, help="USER:BCRYPT_HASH for basic auth")
    parser.add_argument("--mode", default="development")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--redis", default=None)
    parser.add_argument("--server-id", default=None)
    parser.add_argument("--stats-interval", type=float, default=2.0)


def main() -> None:
    args = parse_args(__doc__, 8000, _options)
    adapter = None
    if args.redis:
        from sio_core.adapter.redis import RedisAdapter

        adapter = RedisAdapter(url=args.redis, channel="admin-test")
    io = build(args.port, args.host, adapter=adapter)

    @io.on("connection")
    def data_events(socket):
        @socket.on("set-data")
        def set_data(key, value, ack=None):
            socket.data[key] = value  # the dashboard hears socket_updated
            if ack is not None:
                ack()

    auth = False
    if args.auth:
        user, _, hashed = args.auth.partition(":")
        auth = {"type": "basic", "username": user, "password": hashed}
    io.instrument(auth=auth, mode=args.mode, read_only=args.read_only,
                  server_id=args.server_id, stats_interval=args.stats_interval)
    io.serve_forever()


if __name__ == "__main__":
    main()

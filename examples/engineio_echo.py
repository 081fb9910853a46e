"""An Engine.IO-only echo server: every message goes back to its sender unchanged.

Run: python examples/engineio_echo.py --port 8000
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402

from sio_core.engineio import EngineOptions  # noqa: E402
from sio_core.server.engine import EngineHandler, EngineServer  # noqa: E402
from sio_core.serving import run  # noqa: E402
from sio_core.wsgi.app import WSGIApp  # noqa: E402


class Echo(EngineHandler):
    """Send each message back as it came: text as text, bytes as bytes."""

    def on_message(self, conn, data):
        conn.send(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ping-interval", type=float, default=25.0)
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    parser.add_argument("--max-http-buffer-size", type=int, default=1_000_000)
    parser.add_argument("--origins", default="*",
                        help="'*' (default), 'same' for same-origin only, or a comma list")
    parser.add_argument("--transports", default="polling,websocket")
    parser.add_argument("--no-upgrades", action="store_true")
    parser.add_argument("--cookie", default=None, help="session cookie name (default: none)")
    parser.add_argument("--compression-threshold", type=int, default=1024)
    parser.add_argument("--path", default="/socket.io")
    parser.add_argument("--per-message-deflate", default=None, metavar="JSON",
                        help="offer permessage-deflate: 'true' or a JSON object of options")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    options = EngineOptions(
        ping_interval=args.ping_interval, ping_timeout=args.ping_timeout,
        max_http_buffer_size=args.max_http_buffer_size,
        transports=tuple(args.transports.split(",")), allow_upgrades=not args.no_upgrades,
        cookie=args.cookie, compression_threshold=args.compression_threshold,
        per_message_deflate=json.loads(args.per_message_deflate or "false"),
    )
    origins = {"*": "*", "same": None}.get(args.origins, args.origins.split(","))
    app = WSGIApp(EngineServer(options, Echo()), path=args.path, origins=origins)
    run(app, args.host, args.port)


if __name__ == "__main__":
    main()

"""A bare RFC 6455 echo server on sio_core's websocket edge, for outside websocket suites.

Run: python tests/transports/rfc6455_echo_app.py --port 9001 [--max-size N] [--deflate [JSON]]

Any path accepts a websocket upgrade and every message comes back as it came (text as
text, binary as binary). Frames, control frames, the close handshake, the message limit
and the UTF-8 check are all ``sio_core.transports.wsconn.WebSocket``'s; there is no
Engine.IO in between, so a generic client such as the Autobahn fuzzingclient can talk
to it. docs/conformance.md says how that suite was run against it.

``--deflate`` offers permessage-deflate (RFC 7692) as ``Server(per_message_deflate=...)``
would: the offer is answered before the 101 (``check_websocket``), messages of the
threshold and more are echoed compressed. Its optional value is a JSON object of
``sio_core.websocket.DeflateOptions`` fields (``--deflate '{"threshold": 0}'``).
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, Iterable, Optional  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402

from sio_core.serving import run  # noqa: E402
from sio_core.transports.wsconn import (  # noqa: E402
    ConnectionClosed,
    WebSocket,
    WebSocketError,
    accept_deflate,
)
from sio_core.websocket import DeflateOptions  # noqa: E402

log = logging.getLogger("rfc6455_echo")


def echo_app(max_size: int, deflate: Optional[DeflateOptions] = None
             ) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that echoes on every websocket and answers 400 to anything else;
    with ``deflate``, permessage-deflate is agreed with the clients that offer it."""

    def check_websocket(environ: Dict[str, Any]) -> None:
        """The serving edge's pre-101 check: accept, agreeing permessage-deflate."""
        accept_deflate(environ, deflate)

    def app(environ: Any, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "wsgi.websocket" not in environ:
            start_response("400 Bad Request", [("Content-Length", "0")])
            return []
        ws = WebSocket.from_environ(environ, max_size)
        try:
            while True:
                message = ws.receive()
                if message is None:
                    break
                ws.send([message])
        except ConnectionClosed:
            pass
        except WebSocketError as exc:
            log.info("closing: %s", exc)
            ws.close(exc.code)
        except OSError:
            pass
        finally:
            ws.close(1000)
            ws.shutdown()
        return []

    app.check_websocket = check_websocket  # type: ignore[attr-defined]
    return app


def main() -> None:
    def options(parser: Any) -> None:
        parser.add_argument("--max-size", type=int, default=64 * 2 ** 20,
                            help="largest message, in bytes")
        parser.add_argument("--deflate", nargs="?", const="true", default=None,
                            help="offer permessage-deflate (optionally a JSON object of "
                                 "DeflateOptions fields)")

    args = parse_args(__doc__, 9001, options)
    deflate = (None if args.deflate is None
               else DeflateOptions.from_option(json.loads(args.deflate)))
    run(echo_app(args.max_size, deflate), args.host, args.port)


if __name__ == "__main__":
    main()

"""What the three Flask-SocketIO-style examples share: their command line, the jQuery file
their pages load, and the ``SocketIO.run()`` call.

None of the examples calls ``gevent.monkey.patch_all()``: like Flask-SocketIO's own
examples, they leave it to ``SocketIO.run()`` (see the README, "Moving from Flask-SocketIO").
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import Any, Callable, Optional

import flask

__all__ = ["parse_args", "serve_jquery", "run"]

log = logging.getLogger(__name__)
# before any SocketIO(logger=True) exists: it then logs through this configuration alone
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

HERE = os.path.dirname(os.path.abspath(__file__))
#: where the pages look for jQuery when ``--jquery`` is not given
DEFAULT_JQUERY = os.path.join(HERE, "static", "jquery.min.js")


def parse_args(doc: Optional[str],
               extra: Optional[Callable[[argparse.ArgumentParser], None]] = None
               ) -> argparse.Namespace:
    """Parse ``--host``, ``--port``, ``--jquery``, ``--interval`` (and ``extra``'s options).

    :param doc: the example's docstring, for ``--help``
    :param extra: adds the example's own options to the parser
    """
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--jquery", default=DEFAULT_JQUERY,
                        help="jQuery's jquery.min.js, e.g. from `npm install jquery` "
                             "(default: static/jquery.min.js beside the example)")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between two messages of the background task")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def serve_jquery(app: flask.Flask, path: str) -> None:
    """Serve the file at ``path`` as ``/jquery.min.js``, where the templates load it.

    :param app: the example's app
    :param path: a copy of jQuery's ``jquery.min.js``
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        log.warning("no jQuery at %s: the page will not work. Get it with `npm install "
                    "jquery` and pass --jquery node_modules/jquery/dist/jquery.min.js", path)

    @app.route("/jquery.min.js")
    def jquery() -> Any:
        return flask.send_file(path, mimetype="text/javascript")


def run(socketio: Any, app: flask.Flask, args: argparse.Namespace) -> None:
    """Serve ``app`` with ``socketio.run`` on ``args.host:args.port`` (blocks).

    :param socketio: the example's ``SocketIO``
    :param app: the example's app
    :param args: what ``parse_args`` returned
    """
    serve_jquery(app, args.jquery)
    socketio.run(app, host=args.host, port=args.port)

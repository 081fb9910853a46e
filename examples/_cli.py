"""Command line shared by the examples: ``--host``, ``--port`` and logging."""
from __future__ import annotations

import argparse
import logging
from typing import Any, Callable, Iterable, Optional


def parse_args(doc: Optional[str], default_port: int = 3000,
               extra: Optional[Callable[[argparse.ArgumentParser], None]] = None
               ) -> argparse.Namespace:
    """Parse the example's options and set up logging."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return args


def serve(build: Callable[[int, str], Any], doc: Optional[str], default_port: int = 3000) -> None:
    """Run ``build(port, host).serve_forever()`` with the parsed options."""
    args = parse_args(doc, default_port)
    build(args.port, args.host).serve_forever()


def page_app(html: str) -> Callable[[dict, Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app serving ``html`` at ``/`` (GET and HEAD) and 404 everywhere else."""
    page = html.encode("utf-8")

    def app(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO", "/") == "/" and method in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Length", str(len(page)))])
            return [page] if method == "GET" else []
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    return app

"""Command line shared by the examples: ``--host``, ``--port`` and logging."""
from __future__ import annotations

import argparse
import logging
from typing import Any, Callable, Optional


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

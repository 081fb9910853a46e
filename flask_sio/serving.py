"""Serving a Flask app and its Socket.IO on gevent, with an optional code reloader."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from typing import Any, Dict, Iterable

import flask

from sio_core import Server
from sio_core.server import runtime
from sio_core.serving import make_server, serve_forever

__all__ = ["serve", "watch_files"]

log = logging.getLogger(__name__)

_CHILD = "FLASK_SIO_RELOADER_CHILD"
_RESTART = 3


def _source_files(extra: Iterable[str]) -> Dict[str, float]:
    found: Dict[str, float] = {}
    paths = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    for path in [*paths, *extra]:
        if path and os.path.isfile(path):
            try:
                found[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return found


def watch_files(interval: float = 1.0, extra_files: Iterable[str] = ()) -> None:
    """Exit the process with the restart code when a loaded source file changes."""
    extra = list(extra_files)
    seen = _source_files(extra)
    while True:
        runtime.sleep(interval)
        for path, mtime in _source_files(extra).items():
            if seen.get(path, mtime) != mtime:
                log.info(" * Detected change in %r, reloading", path)
                os._exit(_RESTART)
            seen[path] = mtime


def _run_parent() -> None:
    """Run the program in a child process, again each time it asks to restart."""
    args = [sys.executable, *sys.orig_argv[1:]] if hasattr(sys, "orig_argv") else \
        [sys.executable, *sys.argv]
    env = dict(os.environ, **{_CHILD: "1"})
    while True:
        code = subprocess.call(args, env=env, close_fds=False)
        if code != _RESTART:
            sys.exit(code)
        time.sleep(0.2)


def serve(app: flask.Flask, server: Server, host: str, port: int, use_reloader: bool = False,
          log_output: bool = False, reloader_options: Any = None, **kwargs: Any) -> None:
    """Serve until interrupted; with ``use_reloader``, restart on source changes."""
    if use_reloader and os.environ.get(_CHILD) != "1":
        log.info(" * Restarting with the flask_sio reloader")
        _run_parent()
        return
    runtime.check_monkey_patch("SocketIO.run")
    if use_reloader:
        options = dict(reloader_options or {})
        runtime.spawn(watch_files, options.get("interval", 1.0), options.get("extra_files", ()))
    http = make_server(app, host, port, websocket_check=server.check_websocket,
                       log_output=log_output, **kwargs)
    server.http_server = http
    logging.getLogger(__name__).info(" * Serving Flask app %r with Socket.IO on http://%s:%d",
                                     app.name, host, http.server_port)
    try:
        serve_forever(http)
    except KeyboardInterrupt:
        pass

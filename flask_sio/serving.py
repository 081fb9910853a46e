"""Serving a Flask app and its Socket.IO on gevent, with an optional code reloader."""
from __future__ import annotations

import fnmatch
import logging
import os
import subprocess
import sys
import time
from typing import Any, Dict, Iterable, Mapping, Tuple

import flask

from sio_core import Server, runtime
from sio_core.serving import TIMEOUT_KEYWORDS, make_server, serve_forever

__all__ = ["serve", "watch_files", "server_keywords", "IGNORED_RUN_KEYWORDS",
           "SERVER_KEYWORDS", "RELOADER_KEYWORDS"]

log = logging.getLogger(__name__)

_CHILD = "FLASK_SIO_RELOADER_CHILD"
_RESTART = 3

#: ``run()`` keywords of Flask-SocketIO that only mean something to werkzeug's server
IGNORED_RUN_KEYWORDS = frozenset({"allow_unsafe_werkzeug"})

#: keywords gevent's ``WSGIServer`` takes: the listen backlog, a greenlet pool, a base
#: environ, and the TLS settings of ``ssl.wrap_socket``/``SSLContext.wrap_socket``; and
#: ``headers_timeout``, ``request_timeout``, ``keepalive_timeout`` (sio_core's deadlines)
#: and ``http_parser`` (sio_core's lean HTTP path or pywsgi alone)
SERVER_KEYWORDS = frozenset({
    "backlog", "spawn", "environ", "ssl_context", "keyfile", "certfile", "server_side",
    "cert_reqs", "ssl_version", "ca_certs", "do_handshake_on_connect",
    "suppress_ragged_eofs", "ciphers", "http_parser",
}) | TIMEOUT_KEYWORDS

#: ``reloader_options`` keys of werkzeug's reloader that ours honours
RELOADER_KEYWORDS = frozenset({"interval", "extra_files", "exclude_patterns"})

#: ``reloader_options`` keys of werkzeug's reloader that mean nothing to ours
_IGNORED_RELOADER_KEYWORDS = frozenset({"reloader_type"})


def _check(names: Iterable[str], allowed: frozenset, ignored: frozenset, what: str) -> None:
    unknown = sorted(set(names) - allowed - ignored)
    if unknown:
        raise TypeError("%s got unexpected keyword(s) %s; accepted: %s" % (
            what, ", ".join(unknown), ", ".join(sorted(allowed))))
    for name in sorted(set(names) & ignored):
        log.debug("%s: %r means nothing on gevent, ignored", what, name)


def server_keywords(kwargs: Mapping[str, Any], reloader_options: Mapping[str, Any]
                    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Vet ``run()``'s extra keywords: (gevent server keywords, reloader options).

    Flask-SocketIO's werkzeug-only keywords are dropped (logged at DEBUG); werkzeug's
    ``ssl_context=(certfile, keyfile)`` becomes gevent's ``certfile``/``keyfile``.

    :param kwargs: the extra keywords given to ``SocketIO.run``
    :param reloader_options: its ``reloader_options``
    :raises TypeError: on a keyword neither gevent nor Flask-SocketIO knows
    :raises ValueError: on werkzeug's ``ssl_context="adhoc"``
    """
    _check(kwargs, SERVER_KEYWORDS, IGNORED_RUN_KEYWORDS, "SocketIO.run()")
    _check(reloader_options, RELOADER_KEYWORDS, _IGNORED_RELOADER_KEYWORDS,
           "SocketIO.run(reloader_options=)")
    server = {k: v for k, v in kwargs.items() if k in SERVER_KEYWORDS}
    context = server.get("ssl_context")
    if context is None:
        server.pop("ssl_context", None)
    elif isinstance(context, (tuple, list)):
        server["certfile"], server["keyfile"] = context
        del server["ssl_context"]
    elif isinstance(context, str):
        raise ValueError("ssl_context=%r is werkzeug's; pass an ssl.SSLContext or "
                         "(certfile, keyfile)" % context)
    reloader = {k: v for k, v in reloader_options.items() if k in RELOADER_KEYWORDS}
    return server, reloader


def _excluded(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def _source_files(extra: Iterable[str], exclude: Iterable[str] = ()) -> Dict[str, float]:
    found: Dict[str, float] = {}
    paths = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
    for path in [*paths, *extra]:
        if path and os.path.isfile(path) and not _excluded(path, exclude):
            try:
                found[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return found


def watch_files(interval: float = 1.0, extra_files: Iterable[str] = (),
                exclude_patterns: Iterable[str] = ()) -> None:
    """Exit the process with the restart code when a loaded source file changes.

    :param interval: seconds between two looks at the files
    :param extra_files: files to watch besides the loaded modules
    :param exclude_patterns: ``fnmatch`` patterns of paths not to watch
    """
    extra, exclude = list(extra_files), list(exclude_patterns)
    seen = _source_files(extra, exclude)
    while True:
        runtime.sleep(interval)
        for path, mtime in _source_files(extra, exclude).items():
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
          log_output: bool = False, reloader_options: Any = None, monkey_patch: bool = True,
          **kwargs: Any) -> None:
    """Serve until interrupted; with ``use_reloader``, restart on source changes.

    Unless the program has done it, the standard library is monkey-patched with gevent
    first, when nothing loaded so far would break (``runtime.patch_if_safe``); when
    something would, or with ``monkey_patch=False``, it is left alone with a warning.

    :param monkey_patch: whether serving may patch the standard library for the program
    :param reloader_options: ``watch_files`` keywords (``interval``, ``extra_files``,
        ``exclude_patterns``)
    :param kwargs: gevent ``WSGIServer`` keywords, vetted by ``server_keywords``
    """
    if use_reloader and os.environ.get(_CHILD) != "1":
        log.info(" * Restarting with the flask_sio reloader")
        _run_parent()
        return
    if monkey_patch:
        runtime.patch_if_safe("SocketIO.run")
    else:
        runtime.check_monkey_patch("SocketIO.run")
    if use_reloader:
        runtime.spawn(watch_files, **dict(reloader_options or {}))
    http = make_server(app, host, port, websocket_check=server.check_websocket,
                       log_output=log_output, **kwargs)
    server.http_server = http
    logging.getLogger(__name__).info(" * Serving Flask app %r with Socket.IO on http://%s:%d",
                                     app.name, host, http.server_port)
    try:
        serve_forever(http)
    except KeyboardInterrupt:
        pass

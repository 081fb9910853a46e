"""Options of the extension: keyword arguments and ``SOCKETIO_*`` config keys → sio_core options."""
from __future__ import annotations

import logging
import warnings
from typing import Any, Dict, Mapping, Optional, Tuple

from sio_core.debug import ForwardTo

__all__ = ["ENGINEIO_LOGGERS", "EXTENSION_KEYS", "IGNORED", "IgnoredOptionWarning",
           "SOCKETIO_LOGGERS", "read_options", "server_options", "wire_loggers"]

#: options understood by the extension itself (not passed to sio_core)
EXTENSION_KEYS = {"manage_session", "message_queue", "channel", "async_mode",
                  "always_connect", "namespaces", "write_only", "client_manager", "serializer"}

#: Flask-SocketIO options accepted without effect → (the value that describes what
#: flask_sio does anyway, or ``...`` for none; why another value is not honoured)
IGNORED = {
    "async_handlers": (False, "the handlers of one connection run one at a time, in the "
                              "order its events arrive"),
    "monitor_clients": (True, "the heartbeat always closes connections that stop answering"),
}


class IgnoredOptionWarning(UserWarning):
    """A Flask-SocketIO option that flask_sio accepts but cannot honour."""

#: Flask-SocketIO / python-socketio option names → sio_core Server option names
RENAMED = {"cors_allowed_origins": "origins", "resource": "path"}

#: sio_core Server options passed through unchanged (``logger`` and ``engineio_logger``
#: turn on the protocol trace there, see ``sio_core.debug``; ``wire_loggers`` does the rest)
PASSTHROUGH = {"logger", "engineio_logger", "path", "origins", "cors_credentials",
               "ping_interval", "ping_timeout", "max_http_buffer_size", "allow_upgrades",
               "http_compression", "compression_threshold", "cookie", "transports",
               "serve_client", "json", "connect_timeout", "allow_request", "adapter",
               "max_queue", "generate_id", "upgrade_timeout", "connection_state_recovery",
               "per_message_deflate"}


def read_options(config: Mapping[str, Any], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Merge ``SOCKETIO_<NAME>`` config keys under keyword arguments (keywords win)."""
    merged: Dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith("SOCKETIO_"):
            merged[key[len("SOCKETIO_"):].lower()] = value
    merged.update(kwargs)
    return merged


def server_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """The sio_core ``Server`` keyword arguments among ``options``.

    Options in ``IGNORED`` given another value than flask_sio's own behaviour are
    warned about (``IgnoredOptionWarning``, once per option and value).

    :raises TypeError: on an option nobody understands
    :raises ValueError: on an ``async_mode`` other than gevent, a ``serializer`` other
        than ``"default"``
    """
    out: Dict[str, Any] = {}
    for key, value in options.items():
        name = RENAMED.get(key, key)
        if name in PASSTHROUGH:
            out[name] = value
        elif key in IGNORED:
            same, why = IGNORED[key]
            if value != same:
                warnings.warn("SocketIO option %s=%r is ignored: %s" % (key, value, why),
                              IgnoredOptionWarning, stacklevel=3)
        elif key not in EXTENSION_KEYS:
            raise TypeError("unknown SocketIO option %r" % key)
    mode = options.get("async_mode")
    if mode not in (None, "gevent", "gevent_uwsgi"):
        raise ValueError("flask_sio runs on gevent only; async_mode=%r is not supported" % mode)
    if options.get("serializer", "default") != "default":
        raise ValueError("flask_sio speaks JSON only; serializer=%r is not supported"
                         % options["serializer"])
    if "path" in out:
        out["path"] = "/" + str(out["path"]).strip("/")
    if out.get("origins") == []:
        out["origins"] = None
    interval = out.get("ping_interval")
    if isinstance(interval, (tuple, list)):  # python-socketio's (interval, grace) form
        out["ping_interval"] = interval[0]
    return out


#: the loggers of the Socket.IO layer, which ``logger=`` turns on: connections,
#: events received and emitted, refusals, namespaces, rooms
SOCKETIO_LOGGERS = ("flask_sio", "sio_core.socketio", "sio_core.server.core",
                    "sio_core.server.namespace", "sio_core.server.socket",
                    "sio_core.server.client", "sio_core.server.broadcast", "sio_core.adapter")

#: the loggers of the Engine.IO layer, which ``engineio_logger=`` turns on: sessions,
#: transports, HTTP requests refused
ENGINEIO_LOGGERS = ("sio_core.engineio", "sio_core.server.engine", "sio_core.transports",
                    "sio_core.wsgi", "sio_core.serving")


def _wire(option: Any, names: Tuple[str, ...]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        for earlier in [h for h in logger.handlers if getattr(h, "flask_sio_option", False)]:
            logger.removeHandler(earlier)  # from an earlier SocketIO: the last one wins
        handler: Optional[logging.Handler] = None
        if isinstance(option, logging.Logger):
            handler = ForwardTo(option)
            logger.setLevel(option.getEffectiveLevel())
            logger.propagate = False  # the given logger's own parents see it once
        else:
            logger.setLevel(logging.INFO)
            logger.propagate = True
            if not logging.root.handlers:  # nothing configured: print to stderr
                handler = logging.StreamHandler()
        if handler is not None:
            handler.flask_sio_option = True  # type: ignore[attr-defined]
            logger.addHandler(handler)


def wire_loggers(options: Mapping[str, Any]) -> None:
    """Turn on logging as Flask-SocketIO's ``logger`` and ``engineio_logger`` do.

    ``True`` logs the layer at INFO (to stderr when the application configured no
    logging); a ``logging.Logger`` receives the layer's records, filtered by its
    level; false values leave the logging configuration as it is. The same options,
    passed on to ``sio_core.Server``, also turn on the layer's protocol trace at DEBUG
    (``sio_core.debug``: every packet, as ``SIO_DEBUG`` does).
    """
    for key, names in (("logger", SOCKETIO_LOGGERS), ("engineio_logger", ENGINEIO_LOGGERS)):
        if options.get(key):
            _wire(options[key], names)

"""The client's sockets: gevent's, whether or not the program is monkey-patched.

In a patched program they are the standard library's names anyway; in an unpatched one the
client's hub thread needs them to wait cooperatively, so that one connection's read never
stops its heartbeat or its writer.
"""
from __future__ import annotations

import gevent.socket
import gevent.ssl

__all__ = ["create_connection", "ssl_context"]

create_connection = gevent.socket.create_connection


def ssl_context() -> gevent.ssl.SSLContext:
    """A client TLS context checking the server's certificate and name, as
    ``ssl.create_default_context()`` does, with gevent's cooperative sockets."""
    context = gevent.ssl.SSLContext(gevent.ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()
    return context

"""Dispatch: from a Socket.IO event to the Flask handler registered for it, run in context."""
from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence, Set, Tuple

import flask

from sio_core import ConnectionRefusedError, Server
from sio_core.server import Ack
from sio_core.socketio import ack_values

from .context import context_of, forget, report_to_test_client
from .handler import HandlerTable, Registered

if TYPE_CHECKING:  # pragma: no cover
    from sio_core import Socket

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

#: events that the catch-all event handler ``"*"`` never sees
_LIFECYCLE = ("connect", "disconnect")

#: the handlers of a namespace without any
_NO_HANDLERS: Dict[str, Registered] = {}

#: how many (namespace, event, number of values) a handler table keeps the call of
_MAX_CALLS = 256

#: a found handler: the callable and the values to call it with
_Call = Tuple[Callable[..., Any], Sequence[Any]]


def _any_namespace(name: str, auth: Any) -> bool:
    """The matcher of the catch-all namespace ``"*"``: every name exists."""
    return True


def _handled(fn: Callable[..., Any], on_error: Callable[[Exception], Any], *values: Any) -> Any:
    """``fn(*values)``; what it raises, a refusal of the connection aside, goes to
    ``on_error(exc)``, whose return value is then the result."""
    try:
        return fn(*values)
    except ConnectionRefusedError:
        raise
    except Exception as exc:
        return on_error(exc)


class Dispatcher:
    """Runs one app's handlers for the events of its server's sockets.

    Each handler runs inside a request context built from the connection's handshake
    (see ``context.SocketContext.run``); an exception it raises goes to the namespace's
    error handler, if any; what a handler returns is the ack, when the client asked.

    :param app: the Flask app whose context handlers run in
    :param server: the app's sio_core server
    :param handlers: the handlers registered on the extension (read at each event)
    :param manage_session: keep a Flask session per socket (else the app's, per event)
    :param always_connect: admit connections before the connect handler runs (it
        may then disconnect them)
    """

    def __init__(self, app: flask.Flask, server: Server, handlers: HandlerTable,
                 manage_session: bool = True, always_connect: bool = False) -> None:
        self.app = app
        self.server = server
        self.handlers = handlers
        #: whether handlers get a session of their own, kept with the socket
        self.manage_session = manage_session
        #: admit connections before the connect handler runs
        self.always_connect = always_connect
        #: namespaces served through this dispatcher
        self.bound: Set[str] = set()

    def bind(self, namespace: str) -> None:
        """Serve ``namespace`` (``"*"``: any name) through the registered handlers."""
        if namespace in self.bound:
            return
        self.bound.add(namespace)
        nsp = self.server.of(_any_namespace if namespace == "*" else namespace)
        nsp.use(self._admit)
        nsp.on("connection", self._on_connection)

    # -- finding and running handlers -------------------------------------------------------

    def _find(self, socket: "Socket", event: str, values: Sequence[Any]) -> Optional[_Call]:
        """What handles ``event`` on ``socket``'s namespace, with the values it gets.

        In the namespace's own handlers, then in those of the catch-all namespace
        ``"*"``: a handler registered for the event comes first, then a class-based
        namespace (its ``trigger_event(event, sid, *values)``, where a connect carries
        ``(environ, auth)``), then the catch-all event ``"*"`` (which gets the event name
        first; never for ``connect`` and ``disconnect``).
        """
        table = self.handlers
        for name in (socket.nsp.name, "*"):
            handlers = table.events.get(name, _NO_HANDLERS)
            registered = handlers.get(event)
            if registered is not None:
                return registered.target(len(values)), values
            namespace = table.namespaces.get(name)
            if namespace is not None:
                if event == "connect":
                    values = (socket.environ, *values)
                return namespace.trigger_event, (event, socket.id, *values)
            if "*" in handlers and event not in _LIFECYCLE:
                values = (event, *values)
                return handlers["*"].target(len(values)), values
        return None

    def _run(self, socket: "Socket", event: str, args: Sequence[Any], found: _Call,
             cache: bool = False) -> Any:
        """Run a found handler in context; on an exception, the namespace's error handler
        (in the same context, as in Flask-SocketIO: same ``g`` and ``request``, and the
        teardown functions see no exception when it handled it).

        :param cache: keep what is called for the next such event (the handler takes the
            event's values as they are; the table forgets it when a handler changes)
        """
        fn, values = found
        table = self.handlers
        on_error = table.error_handlers.get(socket.nsp.name, table.default_error_handler)
        if on_error is not None:
            fn = functools.partial(_handled, fn, on_error)
        if cache and len(table.calls) < _MAX_CALLS:
            table.calls[(socket.nsp.name, event, len(values))] = fn
        return context_of(self.app, socket).run(socket, event, args, fn, values,
                                                self.manage_session)

    # -- connecting -----------------------------------------------------------------------

    def _run_connect(self, socket: "Socket") -> Optional[ConnectionRefusedError]:
        """Run the connect handler: None to admit ``socket``, else the refusal."""
        auth = socket.handshake.auth if socket.protocol == 5 else None
        found = self._find(socket, "connect", (auth,))
        if found is None:
            return None
        try:
            result = self._run(socket, "connect", (auth,), found)
        except ConnectionRefusedError as exc:
            return exc
        if result is False:
            return ConnectionRefusedError("Connection rejected by server")
        return None

    def _admit(self, socket: "Socket", next: Callable[..., None]) -> None:
        """The namespace middleware: the connect handler decides on the connection."""
        if self.always_connect:
            next()  # admitted first; the handler runs once the client knows
            return
        try:
            refusal = self._run_connect(socket)
        except Exception as exc:
            report_to_test_client(socket, exc)
            raise  # the connection is refused
        if refusal is None:
            next()
        else:
            next(refusal)

    def _on_connection(self, socket: "Socket") -> None:
        log.info("%s connected to %s", socket.id, socket.nsp.name)
        socket.on_any(functools.partial(self._on_event, socket))
        socket.on("disconnect", lambda reason: self._guarded(socket, self._on_disconnect,
                                                             socket, reason))
        if self.always_connect and self._run_connect(socket) is not None:
            socket.disconnect()

    # -- events and disconnection -----------------------------------------------------------

    @staticmethod
    def _guarded(socket: "Socket", fn: Callable[..., None], *args: Any) -> None:
        """``fn(*args)``; what escapes it goes to the test client driving ``socket``, if
        any (as Flask-SocketIO's test client raises it in the test), else on up."""
        try:
            fn(*args)
        except Exception as exc:
            if not report_to_test_client(socket, exc):
                raise

    def _on_event(self, socket: "Socket", event: str, *values: Any) -> None:
        """Every event of ``socket``: its handler, run in context, whose return value is
        the ack when the client asked; what escapes goes where ``_guarded`` sends it."""
        try:
            args = list(values)
            ack = args.pop() if args and isinstance(args[-1], Ack) else None
            if log.isEnabledFor(logging.INFO):
                log.info("received event %r from %s [%s]", event, socket.id, socket.nsp.name)
            fn = self.handlers.calls.get((socket.nsp.name, event, len(args)))
            if fn is not None:  # a handler registered for the event, found before
                result = context_of(self.app, socket).run(socket, event, args, fn, args,
                                                          self.manage_session)
            else:
                found = self._find(socket, event, args)
                if found is None:
                    return
                result = self._run(socket, event, args, found, cache=found[1] is args)
            if ack is not None and not ack.sent:
                ack(*ack_values(result))
        except Exception as exc:
            if not report_to_test_client(socket, exc):
                raise

    def _on_disconnect(self, socket: "Socket", reason: str) -> None:
        log.info("%s disconnected from %s (%s)", socket.id, socket.nsp.name, reason)
        try:
            found = self._find(socket, "disconnect", (reason,))
            if found is not None:
                self._run(socket, "disconnect", (reason,), found)
        finally:
            forget(socket)

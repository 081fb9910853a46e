"""``SocketIOClient``: the Socket.IO side of the Python client, and its public API."""
from __future__ import annotations

import atexit
import builtins
import http.client
import logging
import random
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import runtime
from ..engineio import ProtocolError as EngineProtocolError
from ..errors import AckTimeout, Disconnected
from ..server.jsonlib import json_functions
from ..socketio import (
    Decoder,
    Packet,
    PacketType,
    Protocol,
    ProtocolError,
    ack_result,
    ack_values,
    encode,
    protocol_for,
    recovery_auth,
    reply_pid,
)
from ..transports.wsconn import WebSocketError
from ..websocket import DeflateOptions
from .acks import PendingAcks
from .engine import EngineClient
from .errors import ConnectionError

__all__ = ["SocketIOClient", "connect", "emit_once"]

log = logging.getLogger(__name__)
#: the logger of the whole client, made verbose by ``logger=True``
package_log = logging.getLogger(__name__.rpartition(".")[0])

Handler = Callable[..., Any]

#: events a ``"*"`` handler does not get
_LIFECYCLE = ("connect", "connect_error", "disconnect")

#: the clients running a hub thread of their own, disconnected when the program exits
_THREADED: "weakref.WeakSet[SocketIOClient]" = weakref.WeakSet()


@atexit.register
def _disconnect_threaded() -> None:
    """A hub thread still running while the interpreter finalizes can crash it."""
    for client in list(_THREADED):
        try:
            client.disconnect()
        except Exception:  # exiting anyway
            log.debug("disconnecting at exit failed", exc_info=True)


#: the client's ``per_message_deflate=True``: the offer a browser makes
_CLIENT_DEFLATE = DeflateOptions(server_no_context_takeover=False)


def _cannot_connect(url: str, exc: BaseException) -> ConnectionError:
    """The ``ConnectionError`` for a failure to open the Engine.IO connection to ``url``."""
    status = body = None
    if isinstance(exc, ConnectionError):
        cause, status, body = exc.cause, exc.status, exc.body
    elif isinstance(exc, builtins.ConnectionRefusedError):
        cause = "refused"
    elif isinstance(exc, (TimeoutError, runtime.Timeout)):
        cause, exc = "timeout", TimeoutError("timed out")
    elif isinstance(exc, OSError):
        cause = "unreachable"
    else:
        cause = "protocol"
    return ConnectionError("cannot connect to %s: %s" % (url, exc), cause, url=url,
                           status=status, body=body)


def _refusal_message(data: Any) -> str:
    """The server's message in a CONNECT_ERROR's data (an object in Socket.IO 5, text in 4)."""
    if isinstance(data, dict) and "message" in data:
        return str(data["message"])
    return str(data)


class SocketIOClient:
    """A Socket.IO client (this is not ``sio_core.Client``, the server's view of one).

    It works with and without ``gevent.monkey.patch_all()``. In a patched program its
    greenlets run in the program's hub, as any other. In an unpatched one (a plain script,
    a test, a notebook) they run in a gevent hub on a thread of the client's own: the
    blocking calls (``connect``, ``emit``, ``call``, ``wait``, ``disconnect``) hand their
    work over to that thread from any thread and wait for it, and the handlers run there.

    :param reconnection: reconnect after losing the connection
    :param reconnection_attempts: give up after this many attempts (0: never)
    :param reconnection_delay: first delay in seconds, doubled per attempt
    :param reconnection_delay_max: the largest delay
    :param randomization_factor: jitter, as a fraction of the delay
    :param logger: log at INFO (True), or not (False)
    :param json: a module/object with ``dumps``/``loads``
    :param request_timeout: seconds for HTTP requests and handshakes
    :param per_message_deflate: offer websocket compression: False (default), True
        (threshold 1024; the server may keep its context, as with a browser), or a dict
        of ``sio_core.websocket.DeflateOptions`` fields (``server_no_context_takeover``
        then asks the server to compress each message afresh)
    """

    def __init__(self, reconnection: bool = True, reconnection_attempts: int = 0,
                 reconnection_delay: float = 1.0, reconnection_delay_max: float = 5.0,
                 randomization_factor: float = 0.5, logger: bool = False, json: Any = None,
                 request_timeout: float = 5.0, per_message_deflate: Any = False) -> None:
        self.reconnection = reconnection
        self.reconnection_attempts = reconnection_attempts
        self.reconnection_delay = reconnection_delay
        self.reconnection_delay_max = reconnection_delay_max
        self.randomization_factor = randomization_factor
        self.request_timeout = request_timeout
        #: permessage-deflate offered on websockets (None: not offered)
        self.per_message_deflate = DeflateOptions.from_option(
            _CLIENT_DEFLATE if per_message_deflate is True else per_message_deflate)
        self.dumps, self.loads = json_functions(json)
        if logger:
            package_log.setLevel(logging.INFO)
        self.handlers: Dict[str, Dict[str, Handler]] = {}
        self.namespaces: Dict[str, Optional[str]] = {}  # namespace → socket id once connected
        # connection state recovery, per namespace: the private session id the server gave,
        # the offset of the last event received, whether the last connection recovered
        self._pids: Dict[str, str] = {}
        self._offsets: Dict[str, str] = {}
        self._recovered: Dict[str, bool] = {}
        self._engine: Optional[EngineClient] = None
        self._protocol: Protocol = protocol_for(4)
        self._decoder = Decoder(self.loads)
        self._acks = PendingAcks()
        self._handler_queue = runtime.SerialQueue(self._handler_failed)
        self._connect_args: Optional[Dict[str, Any]] = None
        self._connected_event = runtime.Event()
        self._errors: Dict[str, Any] = {}
        self._stopped = runtime.Event()
        self._stopped.set()
        self._reconnecting: Optional[Any] = None
        self._wanted = False
        #: the hub thread of an unpatched program (None: run in the caller's hub)
        self._thread: Optional[runtime.HubThread] = None

    def _in_hub(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` where the client's greenlets live and return what it returns.

        That is right here in a monkey-patched program and in a handler; otherwise it is
        the client's hub thread (started when first needed), and this OS thread waits.
        """
        thread = self._thread
        if thread is None and runtime.is_patched():
            return fn(*args)
        if thread is not None and thread.owns_current():
            return fn(*args)
        if thread is None or thread.stopped:
            thread = self._thread = runtime.HubThread("sio-client")
            _THREADED.add(self)
        return thread.call(fn, *args)

    def _stop_thread(self) -> None:
        """Let the hub thread end once its greenlets have (the handlers left to run), and
        wait for that a while, unless we run in it: a program may exit right after."""
        thread = self._thread
        if thread is not None and not thread.owns_current():
            _THREADED.discard(self)
            thread.stop(timeout=self.request_timeout)

    # -- handlers ------------------------------------------------------------------------

    def on(self, event: str, handler: Optional[Handler] = None,
           namespace: Optional[str] = None) -> Any:
        """Register ``handler`` for ``event`` (``"*"``: any event); a decorator without it."""
        if handler is None:
            return lambda fn: self.on(event, fn, namespace) and fn
        self.handlers.setdefault(namespace or "/", {})[event] = handler
        return handler

    def event(self, handler: Optional[Handler] = None, namespace: Optional[str] = None) -> Any:
        """Decorator: the function's name is the event."""
        if handler is None:
            return lambda fn: self.event(fn, namespace)
        return self.on(handler.__name__, handler, namespace)

    def _run(self, fn: Handler, *args: Any) -> None:
        """Run ``fn(*args)`` after the handlers already queued, in order."""
        self._handler_queue.schedule(fn, *args)

    @staticmethod
    def _handler_failed(exc: Exception) -> None:
        log.exception("error in a client handler")

    def _trigger(self, namespace: str, event: str, *args: Any) -> Any:
        handlers = self.handlers.get(namespace, {})
        if event in handlers:
            return handlers[event](*args)
        if "*" in handlers and event not in _LIFECYCLE:
            return handlers["*"](event, *args)
        return None

    # -- connecting ----------------------------------------------------------------------

    def connect(self, url: str, headers: Optional[Dict[str, str]] = None,
                auth: Optional[Dict[str, Any]] = None, transports: Optional[Sequence[str]] = None,
                namespaces: Optional[Sequence[str]] = None, socketio_path: str = "socket.io",
                wait_timeout: float = 5.0, eio: int = 4) -> None:
        """Connect to ``url`` and to ``namespaces`` (default: those with handlers, or ``/``).

        It returns connected to every namespace, or raises.

        :param wait_timeout: seconds to wait for the answers of the namespaces
        :raises ConnectionError: naming the cause (its ``cause`` attribute): nothing
            listens (``refused``), no answer in time (``timeout``), an HTTP error (``http``,
            with ``status`` and ``body``), a namespace refused (``namespace``, with the
            server's message and ``data``), or the connection closed meanwhile (``closed``)
        """
        if eio not in (3, 4):
            raise ValueError("eio must be 3 or 4")
        wanted = list(namespaces or [n for n in self.handlers] or ["/"])
        args = dict(url=url, headers=dict(headers or {}), auth=auth,
                    transports=list(transports or ["polling", "websocket"]),
                    namespaces=wanted, path=socketio_path, wait_timeout=wait_timeout, eio=eio)
        try:
            self._in_hub(self._connect, args)
        except BaseException:
            self._stop_thread()
            raise

    def _connect(self, args: Dict[str, Any]) -> None:
        self._connect_args = args
        self._protocol = protocol_for(args["eio"])
        self._wanted = True
        self._stopped.clear()
        try:
            self._open()
        except BaseException:
            self._wanted = False
            if self._reconnecting is not None:  # started by a close during _open()
                self._reconnecting.kill(block=False)
                self._reconnecting = None
            self._stopped.set()
            raise

    def _open(self) -> None:
        args = self._connect_args
        assert args is not None
        self.namespaces = {n: None for n in args["namespaces"]}
        self._errors = {}
        self._connected_event.clear()
        self._decoder = Decoder(self.loads)
        engine = EngineClient(args["url"], args["path"], args["eio"], args["transports"],
                              args["headers"], self._on_message, self._on_engine_close,
                              self.request_timeout, self.per_message_deflate)
        self._engine = engine
        url = args["url"]
        try:
            engine.connect()
        except (OSError, ConnectionError, EngineProtocolError, ValueError, KeyError,
                http.client.HTTPException, WebSocketError, runtime.Timeout) as exc:
            raise _cannot_connect(url, exc) from exc
        closed = ConnectionError("the connection closed before it was established", "closed",
                                 url=url)
        try:
            for namespace in self.namespaces:
                auth = args["auth"]
                if self._protocol.revision >= 5:
                    auth = recovery_auth(auth, self._pids.get(namespace),
                                         self._offsets.get(namespace))
                request = self._protocol.connect_request(namespace, auth)
                if request is not None:
                    self._send(request)
        except Disconnected:  # closed during the handshake (or by disconnect() meanwhile)
            raise closed from None
        if not self._connected_event.wait(timeout=args["wait_timeout"]):
            engine.close()
            silent = [ns for ns, sid in self.namespaces.items()
                      if sid is None and ns not in self._errors]
            raise ConnectionError("no answer from namespace %s of %s within %ss (wait_timeout)"
                                  % (", ".join(silent), url, args["wait_timeout"]), "timeout",
                                  url=url, namespace=silent[0] if silent else None)
        if self._errors:
            engine.close()
            ns, data = next(iter(self._errors.items()))
            raise ConnectionError("namespace %s of %s refused: %s" % (
                ns, url, "; ".join(_refusal_message(d) for d in self._errors.values())),
                "namespace", url=url, namespace=ns, data=data)
        if engine.closed or not self.connected:  # a close ended the wait (or came after it)
            raise closed

    def _namespace_settled(self) -> None:
        if all(sid is not None or ns in self._errors for ns, sid in self.namespaces.items()):
            self._connected_event.set()

    # -- packets -------------------------------------------------------------------------

    def _send(self, packet: Packet) -> None:
        """Encode and send ``packet``."""
        self._send_messages(encode(packet, self.dumps).messages())

    def _send_messages(self, messages: List[Any]) -> None:
        """Send the messages of an encoded packet.

        :raises Disconnected: when the connection is closed
        """
        engine = self._engine
        if engine is None or engine.closed:
            raise Disconnected("not connected")
        for message in messages:
            engine.send(message)

    def _on_message(self, data: Any) -> None:
        try:
            packet = self._decoder.feed(data)
        except ProtocolError as exc:
            log.warning("malformed packet from the server: %s", exc)
            return
        if packet is None:
            return
        ns = packet.namespace
        ptype = packet.type
        if ptype is PacketType.CONNECT:
            engine_sid = (self._engine.sid if self._engine else None) or ""
            if ns in self.namespaces:
                self.namespaces[ns] = self._protocol.reply_socket_id(packet, engine_sid)
                pid = reply_pid(packet.data)
                self._recovered[ns] = pid is not None and self._pids.get(ns) == pid
                if pid is None:
                    self._pids.pop(ns, None)
                else:
                    self._pids[ns] = pid
                self._run(self._trigger, ns, "connect")
                self._namespace_settled()
        elif ptype is PacketType.CONNECT_ERROR:
            if ns in self.namespaces and self.namespaces[ns] is None:
                self._errors[ns] = packet.data
                self._run(self._trigger, ns, "connect_error", packet.data)
                self._namespace_settled()
            else:
                self._run(self._trigger, ns, "error", packet.data)
        elif ptype is PacketType.DISCONNECT:
            if self.namespaces.get(ns) is not None:
                self.namespaces[ns] = None
                self._acks.fail(ns)
                self._run(self._trigger, ns, "disconnect", "io server disconnect")
            if not any(self.namespaces.values()):
                self._wanted = False
                if self._engine is not None:
                    self._engine.close()
        elif ptype is PacketType.EVENT:
            data = packet.data
            if ns in self._pids and len(data) > 1 and isinstance(data[-1], str):
                self._offsets[ns] = data[-1]  # as socket.io-client: the handler still gets it
            self._run(self._handle_event, ns, data, packet.id)
        elif ptype is PacketType.ACK:
            waiter = self._acks.resolve(ns, packet.id)
            if waiter is not None:
                if waiter.callback is not None:
                    self._run(waiter.callback, *packet.data)
                else:
                    waiter.result.set(packet.data)

    def _handle_event(self, ns: str, data: List[Any], ack_id: Optional[int]) -> None:
        result = self._trigger(ns, data[0], *data[1:])
        if ack_id is not None:
            try:
                self._send(Packet(PacketType.ACK, ns, ack_values(result), ack_id))
            except Disconnected:
                pass

    def _on_engine_close(self, reason: str) -> None:
        self._acks.fail()
        for ns, sid in list(self.namespaces.items()):
            if sid is not None:
                self.namespaces[ns] = None
                self._run(self._trigger, ns, "disconnect", reason)
        if not self._connected_event.is_set():
            self._connected_event.set()
            return
        if self._wanted and self.reconnection and reason != "io client disconnect":
            if self._reconnecting is None:
                self._reconnecting = runtime.spawn(self._reconnect_loop)
        elif not self._wanted or not self.reconnection:
            self._stopped.set()

    def backoff(self, attempt: int) -> float:
        """The delay before reconnection attempt ``attempt`` (0-based), with jitter."""
        base = self.reconnection_delay * (2 ** attempt)
        jitter = random.random() * self.randomization_factor * base
        base = base - jitter if random.random() < 0.5 else base + jitter
        return max(0.0, min(base, self.reconnection_delay_max))

    def _reconnect_loop(self) -> None:
        attempt = 0
        try:
            while self._wanted:
                if self.reconnection_attempts and attempt >= self.reconnection_attempts:
                    log.warning("giving up after %d reconnection attempts", attempt)
                    break
                runtime.sleep(self.backoff(attempt))
                attempt += 1
                if not self._wanted:
                    break
                try:
                    self._open()
                    log.info("reconnected after %d attempt(s)", attempt)
                    return
                except ConnectionError as exc:
                    log.info("reconnection attempt %d failed: %s", attempt, exc)
            self._wanted = False
            self._stopped.set()
        finally:
            self._reconnecting = None

    # -- API -------------------------------------------------------------------------------

    def emit(self, event: str, data: Any = None, namespace: Optional[str] = None,
             callback: Optional[Handler] = None) -> None:
        """Emit ``event``; a tuple ``data`` sends several arguments.

        :param callback: called with the server's ack values
        :raises Disconnected: when not connected to ``namespace``
        """
        self._in_hub(self._emit, event, data, namespace, callback)

    def _emit(self, event: str, data: Any, namespace: Optional[str],
              callback: Optional[Handler]) -> None:
        ns = namespace or "/"
        if self.namespaces.get(ns) is None:
            raise Disconnected("not connected to %s" % ns)
        if callback is None:
            self._send_event(event, data, ns, None)
            return
        ack_id, _ = self._acks.expect(ns, callback)
        self._send_event(event, data, ns, ack_id)

    def _send_event(self, event: str, data: Any, ns: str, ack_id: Optional[int]) -> None:
        """Send an EVENT; a tuple ``data`` is several arguments (the rule of a handler's
        ack values). A value with no JSON form raises TypeError, and no ack waits then."""
        packet = Packet(PacketType.EVENT, ns, [event, *ack_values(data)], ack_id)
        try:
            messages = encode(packet, self.dumps).messages()
        except Exception:
            if ack_id is not None:
                self._acks.resolve(ns, ack_id)
            raise
        self._send_messages(messages)

    def send(self, data: Any, namespace: Optional[str] = None,
             callback: Optional[Handler] = None) -> None:
        """Emit a ``message`` event."""
        self.emit("message", data, namespace, callback)

    def call(self, event: str, data: Any = None, namespace: Optional[str] = None,
             timeout: float = 60.0) -> Any:
        """Emit and block until the server acks; one value comes back as itself.

        :raises AckTimeout: no answer in time
        :raises Disconnected: not connected, or the connection dropped first
        """
        return self._in_hub(self._call, event, data, namespace, timeout)

    def _call(self, event: str, data: Any, namespace: Optional[str], timeout: float) -> Any:
        ns = namespace or "/"
        if self.namespaces.get(ns) is None:
            raise Disconnected("not connected to %s" % ns)
        ack_id, waiter = self._acks.expect(ns)
        self._send_event(event, data, ns, ack_id)
        try:
            values = waiter.result.get(timeout=timeout)
        except runtime.Timeout:
            self._acks.resolve(ns, ack_id)
            raise AckTimeout("no ack for %r within %ss" % (event, timeout)) from None
        return ack_result(values)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the client is disconnected for good; returns False on timeout."""
        if self._stopped.is_set():
            return True
        return bool(self._in_hub(self._stopped.wait, timeout))

    def disconnect(self) -> None:
        """Leave every namespace and close the connection (no reconnection)."""
        thread = self._thread
        if (thread is None or thread.stopped) and not runtime.is_patched():
            return  # never connected, or disconnected already: nothing runs
        try:
            self._in_hub(self._disconnect)
        finally:
            self._stop_thread()

    def _disconnect(self) -> None:
        self._wanted = False
        if self._reconnecting is not None:
            self._reconnecting.kill(block=False)
            self._reconnecting = None
        engine = self._engine
        if engine is not None and not engine.closed:
            for ns, sid in list(self.namespaces.items()):
                if sid is not None:
                    try:
                        self._send(Packet(PacketType.DISCONNECT, ns))
                    except Disconnected:
                        pass
            engine.close()
        self._stopped.set()

    @property
    def connected(self) -> bool:
        """Whether the client is connected to at least one namespace."""
        return self._engine is not None and not self._engine.closed and any(
            self.namespaces.values())

    @property
    def stopped(self) -> bool:
        """Whether the client is disconnected for good: it will not reconnect by itself."""
        return self._stopped.is_set() or not self._wanted

    @property
    def sid(self) -> Optional[str]:
        """The socket id in ``/``."""
        return self.namespaces.get("/")

    def get_sid(self, namespace: Optional[str] = None) -> Optional[str]:
        """The socket id in ``namespace``."""
        return self.namespaces.get(namespace or "/")

    @property
    def recovered(self) -> bool:
        """Whether the last connection to ``/`` recovered its session (see
        ``is_recovered``)."""
        return self.is_recovered("/")

    def is_recovered(self, namespace: Optional[str] = None) -> bool:
        """Whether the last connection to ``namespace`` recovered the session it had: the
        server has connection state recovery on, and gave back the socket id, rooms and
        the events missed while disconnected (each event from such a server ends with its
        offset, a string, which the handlers get as their last argument)."""
        return self._recovered.get(namespace or "/", False)

    def transport(self) -> str:
        """``polling`` or ``websocket``."""
        return self._engine.transport if self._engine is not None else ""

    def sleep(self, seconds: float) -> None:
        """Sleep, cooperatively in the client's hub (in a patched program, in a handler)."""
        thread = self._thread
        if (thread is not None and thread.owns_current()) or runtime.is_patched():
            runtime.sleep(seconds)
        else:
            time.sleep(seconds)

    def __enter__(self) -> "SocketIOClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.disconnect()


def connect(url: str, **kwargs: Any) -> SocketIOClient:
    """Create a client without reconnection and connect it (``connect()`` keywords)."""
    client = SocketIOClient(reconnection=False)
    client.connect(url, **kwargs)
    return client


def emit_once(url: str, event: str, data: Any = None, namespace: str = "/",
              timeout: float = 10.0, **kwargs: Any) -> Any:
    """Connect, emit ``event`` asking for an ack, return the answer, disconnect."""
    with connect(url, namespaces=[namespace], **kwargs) as client:
        return client.call(event, data, namespace=namespace, timeout=timeout)

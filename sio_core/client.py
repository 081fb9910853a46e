"""A synchronous Socket.IO client on gevent, built on the same codecs as the server.

    from sio_core.client import Client

    with Client() as client:
        client.connect("http://127.0.0.1:5000")
        print(client.call("ack-echo", "hello", timeout=5))

It speaks Engine.IO 4 / Socket.IO 5 by default and Engine.IO 3 / Socket.IO 4 with
``eio=3``, over websocket and long-polling (with the upgrade), and reconnects with
exponential backoff when the connection is lost.
"""
from __future__ import annotations

import base64
import http.client
import json as stdjson
import logging
import os
import random
import select
import socket as socketlib
import ssl
import time
from collections import deque
from hashlib import sha1
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode, urlsplit

from . import runtime
from .engineio import Packet as EnginePacket
from .engineio import PacketType as EngineType
from .engineio import ProtocolError as EngineProtocolError
from .engineio import payload_v3, payload_v4
from .engineio.packet import decode_frame, encode_frame
from .errors import AckTimeout, Disconnected, SioError
from .server.jsonlib import json_functions
from .socketio import AckTable, Decoder, Packet, PacketType, ProtocolError, encode
from .transports.wsconn import WebSocket, WebSocketError

__all__ = ["Client", "ConnectionError", "connect", "emit_once"]

log = logging.getLogger(__name__)

Handler = Callable[..., Any]
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class ConnectionError(SioError):  # noqa: A001 - the name python-socketio users know
    """The client could not connect (refused, unreachable, timed out)."""


# -- Engine.IO, client side ---------------------------------------------------------------


def _dropped(sock: socketlib.socket) -> bool:
    """Whether the server closed this idle keep-alive connection (it reads as ready: EOF)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _Engine:
    """One Engine.IO connection: handshake, polling/websocket, upgrade, heartbeat."""

    def __init__(self, url: str, path: str, eio: int, transports: Sequence[str],
                 headers: Dict[str, str], on_message: Callable[[Any], None],
                 on_close: Callable[[str], None], timeout: float) -> None:
        parts = urlsplit(url)
        self.secure = parts.scheme in ("https", "wss")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.secure else 80)
        self.path = "/" + path.strip("/") + "/"
        self.eio = eio
        self.transports = list(transports)
        self.headers = dict(headers)
        self.on_message = on_message
        self.on_close = on_close
        self.timeout = timeout
        self.sid: Optional[str] = None
        self.transport = ""
        self.ping_interval = 25.0
        self.ping_timeout = 20.0
        self.closed = False
        self._ws: Optional[WebSocket] = None
        self._outbox: Deque[EnginePacket] = deque()
        self._wake = runtime.Event()
        self._greenlets: List[Any] = []
        self._last_seen = runtime.monotonic()
        self._pong = runtime.Event()
        self._polling_paused = runtime.Event()
        self._polling_paused.set()
        self._poll_stopped = runtime.Event()  # set once the poll loop has ended
        self._post_idle = runtime.Event()  # clear while a POST is in flight
        self._post_idle.set()

    # -- plumbing ----------------------------------------------------------------------

    def _query(self, transport: str) -> str:
        params = {"EIO": str(self.eio), "transport": transport, "t": "%x" % int(time.time() * 1e3)}
        if self.sid:
            params["sid"] = self.sid
        return self.path + "?" + urlencode(params)

    def _http(self) -> http.client.HTTPConnection:
        if self.secure:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _decode_payload(self, body: bytes) -> List[EnginePacket]:
        if self.eio == 3:
            return payload_v3.decode_payload(body)
        return payload_v4.decode_payload(body.decode("utf-8"))

    def _encode_payload(self, packets: List[EnginePacket]) -> Tuple[bytes, str]:
        if self.eio == 3:
            if any(p.binary for p in packets):
                return payload_v3.encode_binary_payload(packets), "application/octet-stream"
            return payload_v3.encode_payload(packets).encode("utf-8"), "text/plain;charset=UTF-8"
        return payload_v4.encode_payload(packets).encode("utf-8"), "text/plain;charset=UTF-8"

    def _request(self, conn: http.client.HTTPConnection, method: str, body: Optional[bytes] = None,
                 ctype: Optional[str] = None, timeout: Optional[float] = None) -> bytes:
        headers = dict(self.headers)
        if ctype:
            headers["Content-Type"] = ctype
        if conn.sock is not None and _dropped(conn.sock):
            conn.close()  # the server ended the idle keep-alive connection: open another
        if timeout is not None:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
        conn.request(method, self._query("polling"), body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise ConnectionError("HTTP %d: %s" % (response.status, data[:200].decode(
                "utf-8", "replace")))
        return data

    def _open_info(self, packet: EnginePacket) -> None:
        if packet.type is not EngineType.OPEN:
            raise ConnectionError("expected an open packet, got %r" % (packet,))
        info = stdjson.loads(packet.data)
        self.sid = info["sid"]
        self.ping_interval = info.get("pingInterval", 25000) / 1000.0
        self.ping_timeout = info.get("pingTimeout", 20000) / 1000.0
        self._upgrades = info.get("upgrades", [])

    # -- connecting ----------------------------------------------------------------------

    def connect(self) -> None:
        """Handshake, then start the reader, writer and heartbeat greenlets."""
        if self.transports[0] == "websocket":
            self._ws = self._open_websocket()
            first = self._ws.receive()
            if first is None:
                raise ConnectionError("websocket closed during the handshake")
            self._open_info(decode_frame(first, self.eio))
            self.transport = "websocket"
            self._spawn(self._ws_reader, self._ws)
        else:
            conn = self._http()
            try:
                packets = self._decode_payload(self._request(conn, "GET"))
            finally:
                conn.close()
            self._open_info(packets[0])
            self.transport = "polling"
            for packet in packets[1:]:
                self._on_packet(packet)
            self._spawn(self._poll_loop)
        self._last_seen = runtime.monotonic()
        self._spawn(self._writer)
        self._spawn(self._heartbeat)
        if self.transport == "polling" and "websocket" in self.transports and \
                "websocket" in getattr(self, "_upgrades", []):
            self._spawn(self._upgrade)

    def _spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        self._greenlets.append(runtime.spawn(fn, *args))

    def _open_websocket(self) -> WebSocket:
        sock = socketlib.create_connection((self.host, self.port), timeout=self.timeout)
        if self.secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % self._query("websocket"),
                 "Host: %s:%d" % (self.host, self.port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % item for item in self.headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        rfile = sock.makefile("rb")
        status = rfile.readline(65537).decode("latin-1")
        headers = {}
        while True:
            line = rfile.readline(65537).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(sha1((key + _WS_GUID).encode()).digest()).decode()
        if " 101 " not in status or headers.get("sec-websocket-accept") != expected:
            sock.close()
            raise ConnectionError("websocket handshake refused: %s" % status.strip())
        sock.settimeout(None)
        return WebSocket(rfile, sock, 100_000_000, client=True)

    def _upgrade(self) -> None:
        try:
            ws = self._open_websocket()
            ws.send([encode_frame(EnginePacket(EngineType.PING, "probe"), self.eio)])
            with runtime.Timeout(self.timeout):
                answer = ws.receive()
            if answer is None or decode_frame(answer, self.eio) != EnginePacket(
                    EngineType.PONG, "probe"):
                raise ConnectionError("bad probe answer %r" % (answer,))
            self._polling_paused.clear()  # the poll loop stops after its current GET
            with runtime.Timeout(self.ping_interval + self.timeout):
                self._poll_stopped.wait()
                # a POST still in flight would reach a session already on websocket
                self._post_idle.wait()
            ws.send([encode_frame(EnginePacket(EngineType.UPGRADE), self.eio)])
            self._ws = ws
            self.transport = "websocket"
            self._wake.set()
            self._spawn(self._ws_reader, ws)
        except (OSError, ConnectionError, WebSocketError, EngineProtocolError,
                runtime.Timeout) as exc:
            log.info("upgrade to websocket failed, staying on polling: %s", exc)
            self._polling_paused.set()

    # -- reading -------------------------------------------------------------------------

    def _on_packet(self, packet: EnginePacket) -> None:
        self._last_seen = runtime.monotonic()
        ptype = packet.type
        if ptype is EngineType.MESSAGE:
            self.on_message(packet.data)
        elif ptype is EngineType.PING and self.eio == 4:
            self.send_packet(EnginePacket(EngineType.PONG, packet.data))
        elif ptype is EngineType.PONG:
            self._pong.set()
        elif ptype is EngineType.CLOSE:
            self._close("transport close", notify=False)

    def _poll_loop(self) -> None:
        conn = self._http()
        try:
            while not self.closed and self.transport == "polling":
                if not self._polling_paused.is_set():
                    break
                body = self._request(conn, "GET",
                                     timeout=self.ping_interval + self.ping_timeout + 5)
                for packet in self._decode_payload(body):
                    self._on_packet(packet)
        except (OSError, ConnectionError, EngineProtocolError, http.client.HTTPException) as exc:
            if not self.closed and self.transport == "polling":
                log.info("polling failed: %s", exc)
                self._close("transport error")
        finally:
            conn.close()
            self._poll_stopped.set()

    def _ws_reader(self, ws: WebSocket) -> None:
        try:
            while not self.closed:
                message = ws.receive()
                if message is None:
                    self._close("transport close", notify=False)
                    return
                self._on_packet(decode_frame(message, self.eio))
        except (OSError, WebSocketError, EngineProtocolError) as exc:
            if not self.closed:
                log.info("websocket failed: %s", exc)
                self._close("transport error")

    # -- writing -------------------------------------------------------------------------

    def send_packet(self, packet: EnginePacket) -> None:
        """Queue a packet for the server."""
        self._outbox.append(packet)
        self._wake.set()

    def send(self, data: Union[str, bytes]) -> None:
        """Queue a message."""
        self.send_packet(EnginePacket(EngineType.MESSAGE, data))

    def _writer(self) -> None:
        conn: Optional[http.client.HTTPConnection] = None
        try:
            while not self.closed:
                if not self._outbox:
                    self._wake.wait()
                    self._wake.clear()
                    continue
                if self.transport == "websocket" and self._ws is not None:
                    packets = list(self._outbox)
                    self._outbox.clear()
                    self._ws.send([encode_frame(p, self.eio) for p in packets])
                elif self._polling_paused.is_set():
                    packets = list(self._outbox)
                    self._outbox.clear()
                    conn = conn or self._http()
                    body, ctype = self._encode_payload(packets)
                    self._post_idle.clear()
                    try:
                        self._request(conn, "POST", body, ctype)
                    finally:
                        self._post_idle.set()
                else:  # upgrading: hold packets for the websocket
                    self._wake.wait(timeout=0.05)
                    self._wake.clear()
        except (OSError, ConnectionError, http.client.HTTPException, WebSocketError) as exc:
            if not self.closed:
                log.info("sending failed: %s", exc)
                self._close("transport error")
        finally:
            if conn is not None:
                conn.close()

    # -- heartbeat and closing -----------------------------------------------------------

    def _heartbeat(self) -> None:
        """Notice a silent server within pingInterval + pingTimeout, and close.

        Protocol 4: the server pings; any packet counts as a sign of life, and the
        deadline is ``pingInterval + pingTimeout`` after the last one. Protocol 3: we ping
        every ``pingInterval`` and want the pong within ``pingTimeout``.
        """
        while not self.closed:
            now = runtime.monotonic()
            if self.eio == 3:
                self._pong.clear()
                self.send_packet(EnginePacket(EngineType.PING))
                if not self._pong.wait(timeout=self.ping_timeout):
                    self._close("ping timeout")
                    return
                runtime.sleep(max(0.0, now + self.ping_interval - runtime.monotonic()))
            else:
                left = self._last_seen + self.ping_interval + self.ping_timeout - now
                if left <= 0:
                    self._close("ping timeout")
                    return
                runtime.sleep(left)

    def _close(self, reason: str, notify: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            ws.close()
            try:
                ws._sock.close()
            except OSError:
                pass
        current = runtime.getcurrent()
        for greenlet in self._greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)
        self.on_close(reason)

    def close(self) -> None:
        """Close from our side (a close packet first, where possible)."""
        if self.closed:
            return
        try:
            if self.transport == "websocket" and self._ws is not None:
                self._ws.send([encode_frame(EnginePacket(EngineType.CLOSE), self.eio)])
            else:
                conn = self._http()
                body, ctype = self._encode_payload([EnginePacket(EngineType.CLOSE)])
                try:
                    self._request(conn, "POST", body, ctype)
                finally:
                    conn.close()
        except (OSError, ConnectionError, http.client.HTTPException, WebSocketError):
            pass
        self._close("io client disconnect")


# -- Socket.IO, client side ---------------------------------------------------------------


class _Waiter:
    __slots__ = ("result", "callback")

    def __init__(self, callback: Optional[Handler] = None) -> None:
        self.result = runtime.AsyncResult()
        self.callback = callback


class Client:
    """A Socket.IO client.

    :param reconnection: reconnect after losing the connection
    :param reconnection_attempts: give up after this many attempts (0: never)
    :param reconnection_delay: first delay in seconds, doubled per attempt
    :param reconnection_delay_max: the largest delay
    :param randomization_factor: jitter, as a fraction of the delay
    :param logger: log at INFO (True), or not (False)
    :param json: a module/object with ``dumps``/``loads``
    :param request_timeout: seconds for HTTP requests and handshakes
    """

    def __init__(self, reconnection: bool = True, reconnection_attempts: int = 0,
                 reconnection_delay: float = 1.0, reconnection_delay_max: float = 5.0,
                 randomization_factor: float = 0.5, logger: bool = False, json: Any = None,
                 request_timeout: float = 5.0) -> None:
        self.reconnection = reconnection
        self.reconnection_attempts = reconnection_attempts
        self.reconnection_delay = reconnection_delay
        self.reconnection_delay_max = reconnection_delay_max
        self.randomization_factor = randomization_factor
        self.request_timeout = request_timeout
        self.dumps, self.loads = json_functions(json)
        if logger:
            log.setLevel(logging.INFO)
        self.handlers: Dict[str, Dict[str, Handler]] = {}
        self.namespaces: Dict[str, Optional[str]] = {}  # namespace → socket id once connected
        self._engine: Optional[_Engine] = None
        self._decoder = Decoder(self.loads)
        self._acks: Dict[str, AckTable] = {}
        self._ack_ids = 0
        self._inbox: Deque[Tuple[Handler, Tuple[Any, ...]]] = deque()
        self._worker: Optional[Any] = None
        self._connect_args: Optional[Dict[str, Any]] = None
        self._connected_event = runtime.Event()
        self._errors: Dict[str, Any] = {}
        self._stopped = runtime.Event()
        self._stopped.set()
        self._reconnecting: Optional[Any] = None
        self._wanted = False

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
        self._inbox.append((fn, args))
        if self._worker is None:
            self._worker = runtime.spawn(self._drain)

    def _drain(self) -> None:
        try:
            while self._inbox:
                fn, args = self._inbox.popleft()
                try:
                    fn(*args)
                except Exception:
                    log.exception("error in a client handler")
        finally:
            self._worker = None

    def _trigger(self, namespace: str, event: str, *args: Any) -> Any:
        handlers = self.handlers.get(namespace, {})
        if event in handlers:
            return handlers[event](*args)
        if "*" in handlers and event not in ("connect", "connect_error", "disconnect"):
            return handlers["*"](event, *args)
        return None

    # -- connecting ----------------------------------------------------------------------

    def connect(self, url: str, headers: Optional[Dict[str, str]] = None,
                auth: Optional[Dict[str, Any]] = None, transports: Optional[Sequence[str]] = None,
                namespaces: Optional[Sequence[str]] = None, socketio_path: str = "socket.io",
                wait_timeout: float = 5.0, eio: int = 4) -> None:
        """Connect to ``url`` and to ``namespaces`` (default: those with handlers, or ``/``).

        :raises ConnectionError: when the server cannot be reached or refuses a namespace
        """
        if eio not in (3, 4):
            raise ValueError("eio must be 3 or 4")
        wanted = list(namespaces or [n for n in self.handlers] or ["/"])
        self._connect_args = dict(url=url, headers=dict(headers or {}), auth=auth,
                                  transports=list(transports or ["polling", "websocket"]),
                                  namespaces=wanted, path=socketio_path,
                                  wait_timeout=wait_timeout, eio=eio)
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
        engine = _Engine(args["url"], args["path"], args["eio"], args["transports"],
                         args["headers"], self._on_message, self._on_engine_close,
                         self.request_timeout)
        self._engine = engine
        try:
            engine.connect()
        except (OSError, EngineProtocolError, ValueError, KeyError, http.client.HTTPException,
                WebSocketError) as exc:
            raise ConnectionError("cannot connect to %s: %s" % (args["url"], exc)) from None
        try:
            for namespace in self.namespaces:
                if args["eio"] == 3:
                    if namespace != "/":
                        query = urlencode(args["auth"] or {})
                        self._send(Packet(PacketType.CONNECT,
                                          namespace + ("?" + query if query else "")))
                else:
                    self._send(Packet(PacketType.CONNECT, namespace, args["auth"]))
        except Disconnected:  # closed during the handshake (or by disconnect() meanwhile)
            raise ConnectionError("the connection closed before it was established") from None
        if not self._connected_event.wait(timeout=args["wait_timeout"]):
            engine.close()
            raise ConnectionError("no answer from every namespace within %ss"
                                  % args["wait_timeout"])
        if self._errors:
            engine.close()
            raise ConnectionError("refused: %s" % self._errors)
        if engine.closed:  # its close ended the wait (or came right after the answers)
            raise ConnectionError("the connection closed before it was established")

    def _namespace_settled(self) -> None:
        if all(sid is not None or ns in self._errors for ns, sid in self.namespaces.items()):
            self._connected_event.set()

    # -- packets -------------------------------------------------------------------------

    def _send(self, packet: Packet, messages: Optional[List[Any]] = None) -> None:
        """Send ``packet`` (or its ``messages``, already encoded)."""
        engine = self._engine
        if engine is None or engine.closed:
            raise Disconnected("not connected")
        for message in messages or encode(packet, self.dumps).messages():
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
            sid = (packet.data or {}).get("sid") if isinstance(packet.data, dict) else None
            if sid is None:  # protocol 4: ids are derived from the engine sid
                engine_sid = self._engine.sid if self._engine else ""
                sid = engine_sid if ns == "/" else "%s#%s" % (ns, engine_sid)
            if ns in self.namespaces:
                self.namespaces[ns] = sid
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
                self._fail_acks(ns)
                self._run(self._trigger, ns, "disconnect", "io server disconnect")
            if not any(self.namespaces.values()):
                self._wanted = False
                if self._engine is not None:
                    self._engine.close()
        elif ptype is PacketType.EVENT:
            self._run(self._handle_event, ns, packet.data, packet.id)
        elif ptype is PacketType.ACK:
            table = self._acks.get(ns)
            waiter = table.resolve(packet.id) if table else None
            if waiter is not None:
                if waiter.callback is not None:
                    self._run(waiter.callback, *packet.data)
                else:
                    waiter.result.set(packet.data)

    def _handle_event(self, ns: str, data: List[Any], ack_id: Optional[int]) -> None:
        result = self._trigger(ns, data[0], *data[1:])
        if ack_id is not None:
            values = list(result) if isinstance(result, tuple) else (
                [] if result is None else [result])
            try:
                self._send(Packet(PacketType.ACK, ns, values, ack_id))
            except Disconnected:
                pass

    def _fail_acks(self, ns: Optional[str] = None) -> None:
        for name in list(self._acks) if ns is None else [ns]:
            table = self._acks.get(name)
            for waiter in (table.drain() if table else []):
                if waiter.callback is None:
                    waiter.result.set_exception(Disconnected("disconnected before the ack"))

    def _on_engine_close(self, reason: str) -> None:
        self._fail_acks()
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

    @staticmethod
    def _args(data: Any) -> List[Any]:
        if data is None:
            return []
        return list(data) if isinstance(data, tuple) else [data]

    def emit(self, event: str, data: Any = None, namespace: Optional[str] = None,
             callback: Optional[Handler] = None) -> None:
        """Emit ``event``; a tuple ``data`` sends several arguments.

        :param callback: called with the server's ack values
        :raises Disconnected: when not connected to ``namespace``
        """
        ns = namespace or "/"
        if self.namespaces.get(ns) is None:
            raise Disconnected("not connected to %s" % ns)
        ack_id = None
        if callback is not None:
            ack_id = self._ack_ids = self._ack_ids + 1
        packet = Packet(PacketType.EVENT, ns, [event, *self._args(data)], ack_id)
        messages = encode(packet, self.dumps).messages()  # TypeError here: nothing waits
        if callback is not None:
            self._acks.setdefault(ns, AckTable()).register(ack_id, _Waiter(callback))
        self._send(packet, messages)

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
        ns = namespace or "/"
        if self.namespaces.get(ns) is None:
            raise Disconnected("not connected to %s" % ns)
        ack_id = self._ack_ids = self._ack_ids + 1
        packet = Packet(PacketType.EVENT, ns, [event, *self._args(data)], ack_id)
        messages = encode(packet, self.dumps).messages()  # TypeError here: nothing waits
        waiter = _Waiter()
        table = self._acks.setdefault(ns, AckTable())
        table.register(ack_id, waiter)
        self._send(packet, messages)
        try:
            values = waiter.result.get(timeout=timeout)
        except runtime.Timeout:
            table.resolve(ack_id)
            raise AckTimeout("no ack for %r within %ss" % (event, timeout)) from None
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the client is disconnected for good; returns False on timeout."""
        return self._stopped.wait(timeout=timeout)

    def disconnect(self) -> None:
        """Leave every namespace and close the connection (no reconnection)."""
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
    def sid(self) -> Optional[str]:
        """The socket id in ``/``."""
        return self.namespaces.get("/")

    def get_sid(self, namespace: Optional[str] = None) -> Optional[str]:
        """The socket id in ``namespace``."""
        return self.namespaces.get(namespace or "/")

    def transport(self) -> str:
        """``polling`` or ``websocket``."""
        return self._engine.transport if self._engine is not None else ""

    def sleep(self, seconds: float) -> None:
        """Sleep cooperatively."""
        runtime.sleep(seconds)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.disconnect()


def connect(url: str, **kwargs: Any) -> Client:
    """Create a client without reconnection and connect it (``connect()`` keywords)."""
    client = Client(reconnection=False)
    client.connect(url, **kwargs)
    return client


def emit_once(url: str, event: str, data: Any = None, namespace: str = "/",
              timeout: float = 10.0, **kwargs: Any) -> Any:
    """Connect, emit ``event`` asking for an ack, return the answer, disconnect."""
    with connect(url, namespaces=[namespace], **kwargs) as client:
        return client.call(event, data, namespace=namespace, timeout=timeout)

"""One Engine.IO connection from the client side: handshake, polling or websocket, the
upgrade, the heartbeat."""
from __future__ import annotations

import http.client
import json
import logging
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Union
from urllib.parse import urlencode, urlsplit

from .. import debug, runtime
from ..debug import trace
from ..engineio import EngineOptions
from ..engineio import Packet as EnginePacket
from ..engineio import PacketType as EngineType
from ..engineio import ProtocolError as EngineProtocolError
from ..engineio.packet import decode_frame, encode_frame
from ..transports.wsconn import WebSocket, WebSocketError
from ..websocket import DeflateOptions
from . import polling
from .errors import ConnectionError
from .handshake import open_websocket

__all__ = ["EngineClient"]

log = logging.getLogger(__name__)

#: the server's options when its open packet leaves one out
_DEFAULTS = EngineOptions()


class EngineClient:
    """One Engine.IO connection: handshake, polling/websocket, upgrade, heartbeat.

    :param url: the server's URL (``http``, ``https``, ``ws`` or ``wss``)
    :param path: the Engine.IO path (``socket.io``)
    :param eio: Engine.IO revision, 3 or 4
    :param transports: the transports to use, the first one to connect
    :param headers: extra request headers
    :param on_message: called with each message's data
    :param on_close: called with the reason once the connection is closed
    :param timeout: seconds for HTTP requests and handshakes
    """

    def __init__(self, url: str, path: str, eio: int, transports: Sequence[str],
                 headers: Dict[str, str], on_message: Callable[[Any], None],
                 on_close: Callable[[str], None], timeout: float,
                 deflate: Optional[DeflateOptions] = None) -> None:
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
        #: permessage-deflate offered on the websocket (None: not offered)
        self.deflate = deflate
        self.sid: Optional[str] = None
        self.transport = ""
        self.ping_interval = _DEFAULTS.ping_interval
        self.ping_timeout = _DEFAULTS.ping_timeout
        self.closed = False
        self._upgrades: List[str] = []
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
        return polling.http_connection(self.host, self.port, self.secure, self.timeout)

    def _request(self, conn: http.client.HTTPConnection, method: str,
                 packets: Optional[List[EnginePacket]] = None,
                 timeout: Optional[float] = None) -> List[EnginePacket]:
        """A polling GET (``packets`` None) or a POST of ``packets``; the packets answered."""
        body = ctype = None
        if packets is not None:
            body, ctype = polling.encode_payload(self.eio, packets)
        answer = polling.request(conn, method, self._query("polling"), self.headers, body,
                                 ctype, timeout)
        return polling.decode_payload(self.eio, answer) if packets is None else []

    def _websocket(self) -> WebSocket:
        return open_websocket(self.host, self.port, self.secure, self._query("websocket"),
                              self.headers, self.timeout, self.deflate)

    def _open_info(self, packet: EnginePacket) -> None:
        if packet.type is not EngineType.OPEN:
            raise ConnectionError("expected an open packet, got %r" % (packet,))
        info = json.loads(packet.data)
        self.sid = info["sid"]
        self.ping_interval = info.get("pingInterval", _DEFAULTS.ping_interval * 1000) / 1000.0
        self.ping_timeout = info.get("pingTimeout", _DEFAULTS.ping_timeout * 1000) / 1000.0
        self._upgrades = info.get("upgrades", [])

    # -- connecting ----------------------------------------------------------------------

    def connect(self) -> None:
        """Handshake, then start the reader, writer and heartbeat greenlets."""
        if self.transports[0] == "websocket":
            self._ws = ws = self._websocket()
            try:
                first = ws.receive()
                if first is None:
                    raise ConnectionError("websocket closed during the handshake", "closed")
                self._open_info(decode_frame(first, self.eio))
            except BaseException:  # no descriptor left open by a failed attempt
                ws.shutdown()
                ws.close_socket()
                raise
            self.transport = "websocket"
            self._spawn(self._ws_reader, self._ws)
        else:
            conn = self._http()
            try:
                packets = self._request(conn, "GET")
            finally:
                conn.close()
            self._open_info(packets[0])
            self.transport = "polling"
            for packet in packets[1:]:
                self._on_packet(packet)
            self._spawn(self._poll_loop)
        self._last_seen = runtime.monotonic()
        if trace.client:
            debug.engine_opened(self.sid, self.transport, self.eio, debug.client_log)
        self._spawn(self._writer)
        self._spawn(self._heartbeat)
        if self.transport == "polling" and "websocket" in self.transports and \
                "websocket" in self._upgrades:
            self._spawn(self._upgrade)

    def _spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        self._greenlets.append(runtime.spawn(fn, *args))

    def _upgrade(self) -> None:
        try:
            ws = self._websocket()
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
            if trace.client:
                debug.engine_upgraded(self.sid, self.transport, debug.client_log)
            self._wake.set()
            self._spawn(self._ws_reader, ws)
        except (OSError, ConnectionError, WebSocketError, EngineProtocolError,
                runtime.Timeout) as exc:
            log.info("upgrade to websocket failed, staying on polling: %s", exc)
            self._polling_paused.set()

    # -- reading -------------------------------------------------------------------------

    def _on_packet(self, packet: EnginePacket) -> None:
        if trace.client:
            debug.engine_packets(self.sid, self.transport, "recv", (packet,), debug.client_log)
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
                packets = self._request(conn, "GET",
                                        timeout=self.ping_interval + self.ping_timeout + 5)
                for packet in packets:
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
        finally:
            if self.closed:  # not an upgrade hand-over: the descriptor goes now, not at GC
                ws.close_socket()

    # -- writing -------------------------------------------------------------------------

    def send_packet(self, packet: EnginePacket) -> None:
        """Queue a packet for the server."""
        if trace.client:
            debug.engine_packets(self.sid, self.transport, "send", (packet,), debug.client_log)
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
                    self._post_idle.clear()
                    try:
                        self._request(conn, "POST", packets)
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
            ws.shutdown()  # the reader blocked on it wakes up now
            ws.close_socket()  # its descriptor goes now, even if the hub stops first
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
                try:
                    self._request(conn, "POST", [EnginePacket(EngineType.CLOSE)])
                finally:
                    conn.close()
        except (OSError, ConnectionError, http.client.HTTPException, WebSocketError):
            pass
        self._close("io client disconnect")

"""HTTP long-polling: the GET that waits for packets and the POST that delivers them."""
from __future__ import annotations

import logging
import socket as socketlib
from typing import Any, BinaryIO, Callable, List, Optional

from .. import debug, runtime
from ..debug import trace
from ..engineio import (
    CloseReason,
    EngineQuery,
    OverlappingRequest,
    Packet,
    PacketType,
    PayloadTooLarge,
    ProtocolError,
    RequestError,
    SessionState,
    UnreadableBody,
    payload_v3,
    payload_v4,
)
from ..http import Request, Response, compress, ok_response, payload_response
from ..server.engine import Connection

__all__ = ["handle_get", "handle_post", "encode_packets", "read_body"]

log = logging.getLogger(__name__)

_NOOP = Packet(PacketType.NOOP)
_TEXT = "text/plain; charset=UTF-8"


def encode_packets(packets: List[Packet], version: int, query: EngineQuery, req: Request,
                   compression_threshold: int) -> Response:
    """Frame ``packets`` as the polling payload this client asked for."""
    if query.jsonp is not None:
        text = payload_v4.encode_payload(packets) if version == 4 else \
            payload_v3.encode_payload(packets)
        body = payload_v3.jsonp_wrap(text, query.jsonp).encode()
        ctype = "text/javascript; charset=UTF-8"
    elif version == 4:
        body = payload_v4.encode_payload(packets).encode("utf-8")
        ctype = _TEXT
    elif not query.b64 and any(p.binary for p in packets):
        body = payload_v3.encode_binary_payload(packets)
        ctype = "application/octet-stream"
    else:
        body = payload_v3.encode_payload(packets).encode("utf-8")
        ctype = _TEXT
    if compression_threshold >= 0:
        body, encoding = compress(body, req.accept_encoding, compression_threshold)
    else:
        encoding = None
    response = payload_response(body, ctype)
    if encoding:
        response = response.with_headers([("Content-Encoding", encoding)])
    return response


def _threshold(conn: Connection) -> int:
    opts = conn.engine.options
    return opts.compression_threshold if opts.http_compression else -1


def _peer_gone(sock: Any) -> bool:
    """Whether the client closed its end of ``sock`` (readable with nothing to read)."""
    try:
        return sock.recv(1, socketlib.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _watch_peer(sock: Any, on_gone: Callable[[], None]) -> Any:
    """Watch the GET's connection while it waits; ``on_gone()`` if the client drops it."""
    if sock is None:
        return None
    try:
        fileno = sock.fileno()
    except (OSError, AttributeError):
        return None

    def readable() -> None:
        if _peer_gone(sock):
            on_gone()

    return runtime.watch_readable(fileno, readable)


def handle_get(conn: Connection, query: EngineQuery, req: Request,
               peer: Optional[Any] = None) -> Response:
    """Answer a polling GET: at once if packets wait, else when some arrive or the interval ends.

    :param peer: the client's socket, when the WSGI server lets the edge find it: watched
        while the GET waits, so that a client dropping it closes the session at once
    :raises RequestError: on an overlapping GET (the session is closed) or a wrong transport
    """
    session = conn.session
    try:
        session.begin_get()
    except OverlappingRequest:
        conn.close(CloseReason.TRANSPORT_ERROR)  # the GET in flight answers with a close
        raise
    try:
        packets = session.poll(runtime.monotonic())
        if not packets and not session.closed:
            deadline = runtime.monotonic() + conn.engine.options.ping_interval
            waiter = runtime.Event()
            conn.waiter = waiter

            def dropped() -> None:
                # the client gave up on this GET: whatever it would carry is lost, so the
                # session ends here rather than losing messages silently
                log.info("closing %s: the client dropped its pending GET", conn.sid)
                conn.close(CloseReason.TRANSPORT_CLOSE, notify=False)

            watch = _watch_peer(peer, dropped)
            try:
                while not packets and not session.closed:
                    now = runtime.monotonic()
                    remaining = deadline - now
                    if remaining <= 0:
                        packets = [_NOOP]
                        break
                    if session.noop_due is not None and session.state is SessionState.UPGRADING:
                        remaining = min(remaining, max(0.0, session.noop_due - now))
                    waiter.wait(timeout=remaining)
                    waiter.clear()
                    packets = session.poll(runtime.monotonic())
            finally:
                if watch is not None:
                    watch.cancel()
                if conn.waiter is waiter:
                    conn.waiter = None
        if not packets:  # closed while waiting, with nothing left to say
            packets = [_NOOP]
    finally:
        session.end_get()
    if session.closed and not session.outbox:
        conn.engine.forget(conn)
    if trace.engine_packets:
        debug.engine_packets(conn.sid, "polling", "send", packets)
    return encode_packets(packets, session.version, query, req, _threshold(conn))


def read_body(stream: BinaryIO, length: Optional[int], limit: int) -> bytes:
    """Read a request body of at most ``limit`` bytes from ``stream`` (``wsgi.input``).

    :raises PayloadTooLarge: when it is longer
    :raises UnreadableBody: when it is cut short or its chunked framing is broken
    """
    try:
        if length is not None and length >= 0:
            if length > limit:
                raise PayloadTooLarge("body of %d bytes exceeds max_http_buffer_size=%d"
                                      % (length, limit))
            body = stream.read(length) if length else b""
            if len(body) != length:
                raise UnreadableBody("body shorter than its Content-Length")
            return body
        chunks = []
        total = 0
        while True:
            chunk = stream.read(min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge("body exceeds max_http_buffer_size=%d" % limit)
        return b"".join(chunks)
    except (OSError, ValueError) as exc:
        # the WSGI server's reader: the client closed mid-body, or sent broken chunks
        raise UnreadableBody("unreadable request body: %s" % exc) from None


def handle_post(conn: Connection, query: EngineQuery, req: Request,
                body_stream: BinaryIO) -> Response:
    """Take a polling POST: decode its payload and hand the packets to the session in order.

    :param body_stream: the request body (``wsgi.input``), read up to ``max_http_buffer_size``

    A malformed payload is answered ``ok``, as engine.io answers it, and closes the session
    with a close packet, which a waiting GET carries to the client.

    :raises RequestError: on overlap, oversize or unreadable bodies (the session is closed)
    """
    session = conn.session
    try:
        session.begin_post()
    except OverlappingRequest:
        conn.close(CloseReason.TRANSPORT_ERROR)  # the GET in flight answers with a close
        raise
    try:
        try:
            body = read_body(body_stream, req.content_length,
                             conn.engine.options.max_http_buffer_size)
        except RequestError as exc:
            # the packets of this body are lost: the session ends, so the client knows
            log.info("closing %s: %s", conn.sid, exc)
            conn.close(CloseReason.TRANSPORT_ERROR, notify=False)
            raise
        try:
            if query.jsonp is not None:
                body = payload_v3.jsonp_unwrap(body)
            if session.version == 3:
                packets = payload_v3.decode_payload(body)
            else:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError("payload is not valid UTF-8") from None
                packets = payload_v4.decode_payload(text)
            if trace.engine_packets:
                debug.engine_packets(conn.sid, "polling", "recv", packets)
            now = runtime.monotonic()
            for packet in packets:
                conn.receive(packet, now)
        except ProtocolError as exc:
            log.info("closing %s: malformed payload: %s", conn.sid, exc)
            # the close packet only for a GET waiting now; else the session is gone at
            # once and the next GET hears it is unknown (engine.io's answers, both)
            conn.close(exc.reason, notify=session.getting)
            return ok_response()
    finally:
        session.end_post()
    conn.received()
    return ok_response()

"""What differs between Socket.IO protocol 4 (Engine.IO 3) and 5 (Engine.IO 4)."""
from __future__ import annotations

import secrets
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlencode

from .packet import Packet, PacketType

__all__ = ["Protocol", "V4", "V5", "protocol_for"]


class Protocol:
    """Policy of one protocol revision."""

    #: Socket.IO protocol revision
    revision = 0
    #: the server connects ``/`` without being asked
    implicit_root = False

    def socket_id(self, namespace: str, engine_sid: str) -> str:
        """The id of a new socket."""
        raise NotImplementedError

    def connect_reply(self, namespace: str, socket_id: str,
                      pid: Optional[str] = None) -> Packet:
        """The CONNECT answering a successful namespace connection; ``pid``: the private
        session id of connection state recovery (protocol 5 only)."""
        raise NotImplementedError

    def refusal(self, namespace: str, message: str, data: Any = None) -> Packet:
        """The packet refusing a namespace connection."""
        raise NotImplementedError

    def split_connect(self, packet: Packet
                      ) -> Tuple[str, Dict[str, str], Optional[Dict[str, Any]]]:
        """``(namespace, query, auth)`` of a client's CONNECT packet."""
        raise NotImplementedError

    def connect_request(self, namespace: str,
                        auth: Optional[Dict[str, Any]] = None) -> Optional[Packet]:
        """The CONNECT a client sends to join ``namespace`` (the inverse of
        ``split_connect``); None when the server connects it without being asked."""
        raise NotImplementedError

    def reply_socket_id(self, reply: Packet, engine_sid: str) -> str:
        """The socket id a client learns from the server's CONNECT ``reply``."""
        raise NotImplementedError


class V4(Protocol):
    """Socket.IO protocol 4, spoken by socket.io-client 1.x/2.x."""

    revision = 4
    implicit_root = True

    def socket_id(self, namespace: str, engine_sid: str) -> str:
        return engine_sid if namespace == "/" else "%s#%s" % (namespace, engine_sid)

    def connect_reply(self, namespace: str, socket_id: str,
                      pid: Optional[str] = None) -> Packet:
        return Packet(PacketType.CONNECT, namespace)

    def refusal(self, namespace: str, message: str, data: Any = None) -> Packet:
        return Packet(PacketType.CONNECT_ERROR, namespace, message if data is None else data)

    def split_connect(self, packet: Packet
                      ) -> Tuple[str, Dict[str, str], Optional[Dict[str, Any]]]:
        namespace, _, query = packet.namespace.partition("?")
        return namespace or "/", dict(parse_qsl(query, keep_blank_values=True)), None

    def connect_request(self, namespace: str,
                        auth: Optional[Dict[str, Any]] = None) -> Optional[Packet]:
        if namespace == "/":
            return None
        query = urlencode(auth or {})  # protocol 4 has no auth payload: the query carries it
        return Packet(PacketType.CONNECT, namespace + ("?" + query if query else ""))

    def reply_socket_id(self, reply: Packet, engine_sid: str) -> str:
        return self.socket_id(reply.namespace, engine_sid)


class V5(Protocol):
    """Socket.IO protocol 5, spoken by socket.io-client 3.x/4.x."""

    revision = 5

    def socket_id(self, namespace: str, engine_sid: str) -> str:
        return secrets.token_urlsafe(15)

    def connect_reply(self, namespace: str, socket_id: str,
                      pid: Optional[str] = None) -> Packet:
        if pid is None:
            return Packet(PacketType.CONNECT, namespace, {"sid": socket_id})
        return Packet(PacketType.CONNECT, namespace, {"sid": socket_id, "pid": pid})

    def refusal(self, namespace: str, message: str, data: Any = None) -> Packet:
        payload: Dict[str, Any] = {"message": message}
        if data is not None:
            payload["data"] = data
        return Packet(PacketType.CONNECT_ERROR, namespace, payload)

    def split_connect(self, packet: Packet
                      ) -> Tuple[str, Dict[str, str], Optional[Dict[str, Any]]]:
        namespace, _, query = packet.namespace.partition("?")
        return namespace or "/", dict(parse_qsl(query, keep_blank_values=True)), packet.data

    def connect_request(self, namespace: str,
                        auth: Optional[Dict[str, Any]] = None) -> Optional[Packet]:
        return Packet(PacketType.CONNECT, namespace, auth)

    def reply_socket_id(self, reply: Packet, engine_sid: str) -> str:
        sid = reply.data.get("sid") if isinstance(reply.data, dict) else None
        if isinstance(sid, str):
            return sid
        # a reply without one (no conforming server sends it): protocol 4's id
        return _BY_ENGINE[3].socket_id(reply.namespace, engine_sid)


_BY_ENGINE = {3: V4(), 4: V5()}


def protocol_for(engine_version: int) -> Protocol:
    """The Socket.IO protocol a client of Engine.IO ``engine_version`` speaks."""
    return _BY_ENGINE[engine_version]

"""Reading the Engine.IO query and building the open packet."""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Dict, Mapping, NamedTuple, Optional, Sequence, Tuple

from .errors import BadRequest, TransportUnknown, UnsupportedProtocolVersion
from .packet import SUPPORTED_VERSIONS, Packet, PacketType

__all__ = ["EngineQuery", "parse_query", "open_packet"]


class EngineQuery(NamedTuple):
    """The Engine.IO parameters of one request."""

    #: protocol revision, 3 or 4
    version: int
    #: ``polling`` or ``websocket``
    transport: str
    #: session id, None on a handshake
    sid: Optional[str]
    #: protocol 3 client asked for base64 binary (``b64=1``)
    b64: bool
    #: JSONP callback index (``j``), None unless JSONP polling
    jsonp: Optional[str]


def parse_query(query: Mapping[str, str], transports: Sequence[str]) -> EngineQuery:
    """Validate the Engine.IO query parameters.

    :param query: the request's query parameters (first value of each)
    :param transports: the enabled transports
    :raises UnsupportedProtocolVersion: when ``EIO`` is missing or not 3 or 4
    :raises TransportUnknown: when ``transport`` is missing or not enabled
    """
    raw_version = query.get("EIO")
    if raw_version not in ("3", "4"):
        raise UnsupportedProtocolVersion(
            "Unsupported protocol version EIO=%s; this server speaks EIO=%s"
            % (raw_version if raw_version is not None else "(missing)",
               " and EIO=".join(str(v) for v in SUPPORTED_VERSIONS))
        )
    transport = query.get("transport")
    if transport is None or transport not in transports:
        raise TransportUnknown()
    jsonp = query.get("j")
    if jsonp is not None and (transport != "polling" or not jsonp.isascii()
                              or not jsonp.isdigit()):
        raise BadRequest("bad JSONP index")
    sid = query.get("sid") or None
    return EngineQuery(int(raw_version), transport, sid, query.get("b64") in ("1", "true"), jsonp)


def open_packet(
    sid: str,
    version: int,
    upgrades: Sequence[str],
    ping_interval: float,
    ping_timeout: float,
    max_payload: int,
) -> Packet:
    """The open packet of a new session, shaped for ``version``.

    :param sid: the new session id
    :param version: protocol revision, 3 or 4
    :param upgrades: transports the client may upgrade to
    :param ping_interval: seconds between heartbeats
    :param ping_timeout: seconds to wait for a heartbeat
    :param max_payload: largest payload accepted (sent in protocol 4 only)
    """
    if not _PLAIN_ID.fullmatch(sid):
        sid_json = json.dumps(sid)
    else:  # the usual ids: nothing to escape
        sid_json = '"' + sid + '"'
    return Packet(PacketType.OPEN, '{"sid":' + sid_json + _open_tail(
        version >= 4, tuple(upgrades), ping_interval, ping_timeout, max_payload))


#: an id that JSON quotes as it is
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~-]*")


@functools.lru_cache(maxsize=16)
def _open_tail(with_max_payload: bool, upgrades: Tuple[str, ...], ping_interval: float,
               ping_timeout: float, max_payload: int) -> str:
    """What follows the sid in an open packet: the same for every session of a server."""
    info: Dict[str, Any] = {
        "upgrades": list(upgrades),
        "pingInterval": round(ping_interval * 1000),
        "pingTimeout": round(ping_timeout * 1000),
    }
    if with_max_payload:
        info["maxPayload"] = max_payload
    return "," + json.dumps(info, separators=(",", ":"))[1:]

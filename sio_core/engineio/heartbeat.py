"""Heartbeat policies: who pings whom, and when a silent peer is given up on.

Protocol 3: the client pings every ``ping_interval``; the server answers with a pong
and gives up after ``ping_interval + ping_timeout`` without a ping.
Protocol 4: the server pings every ``ping_interval``; the client answers with a pong
and the server gives up ``ping_timeout`` after a ping that got no pong. Any other packet
that arrives while the pong is due restarts that ``ping_timeout`` once per ping (the
client is evidently alive; engine.io does the same since 6.6.12 or a little earlier).

A policy is shared by every session of one version; the session keeps two numbers,
``ping_due`` (when to send the next ping) and ``deadline`` (when to give up).
"""
from __future__ import annotations

import math
from typing import Tuple

__all__ = ["Heartbeat", "ClientPings", "ServerPings", "heartbeat_for"]

NEVER = math.inf


class Heartbeat:
    """Base policy; subclasses decide the schedule. Times are seconds."""

    __slots__ = ("interval", "timeout")

    #: whether the server sends pings under this policy
    server_pings = False

    def __init__(self, interval: float, timeout: float) -> None:
        self.interval = interval
        self.timeout = timeout

    def start(self, now: float) -> Tuple[float, float]:
        """``(ping_due, deadline)`` of a session opened at ``now``."""
        raise NotImplementedError

    def on_ping(self, now: float, ping_due: float, deadline: float) -> Tuple[float, float]:
        """Schedule after a ping from the client."""
        return ping_due, deadline

    def on_pong(self, now: float, ping_due: float, deadline: float) -> Tuple[float, float]:
        """Schedule after a pong from the client."""
        return ping_due, deadline

    def on_ping_sent(self, now: float) -> Tuple[float, float]:
        """Schedule after the server sent a ping."""
        return NEVER, now + self.timeout

    def on_packet(self, now: float, deadline: float, extended: bool) -> Tuple[float, bool]:
        """Deadline after any other packet from the client (not a ping or pong).

        :param deadline: the current deadline
        :param extended: whether it was already extended since the last ping
        :returns: ``(deadline, extended)``
        """
        return deadline, extended


class ClientPings(Heartbeat):
    """Protocol 3: the client pings, the server answers."""

    __slots__ = ()

    def start(self, now: float) -> Tuple[float, float]:
        return NEVER, now + self.interval + self.timeout

    def on_ping(self, now: float, ping_due: float, deadline: float) -> Tuple[float, float]:
        return NEVER, now + self.interval + self.timeout


class ServerPings(Heartbeat):
    """Protocol 4: the server pings, the client answers."""

    __slots__ = ()
    server_pings = True

    def start(self, now: float) -> Tuple[float, float]:
        return now + self.interval, NEVER

    def on_pong(self, now: float, ping_due: float, deadline: float) -> Tuple[float, float]:
        return now + self.interval, NEVER

    def on_packet(self, now: float, deadline: float, extended: bool) -> Tuple[float, bool]:
        if extended or deadline == NEVER or now >= deadline:  # not waiting, or too late
            return deadline, extended
        return now + self.timeout, True


def heartbeat_for(version: int, interval: float, timeout: float) -> Heartbeat:
    """The heartbeat policy of protocol ``version``."""
    return (ClientPings if version == 3 else ServerPings)(interval, timeout)

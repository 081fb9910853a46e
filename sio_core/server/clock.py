"""Where the glue reads the time and arms its timers.

``EngineServer(clock=...)`` takes any object with these three methods; the server's heartbeat,
connect timeout and ack deadlines all go through it. The default is the event loop's own
clock, so production pays nothing for the indirection; tests pass a clock they move by hand
and so prove that a timer did not fire without sleeping.
"""
from __future__ import annotations

from .. import runtime

__all__ = ["Clock"]


class Clock:
    """The event loop's clock.

    ``monotonic()`` returns seconds on a monotonic clock; ``call_later(delay, fn, *args)``
    calls ``fn(*args)`` after ``delay`` seconds without a greenlet (``fn`` must not block)
    and returns a handle whose ``cancel()`` stops it; ``wait(event, timeout)`` blocks until
    ``event`` is set or ``timeout`` seconds have passed and returns whether it was set.
    """

    monotonic = staticmethod(runtime.monotonic)
    call_later = staticmethod(runtime.call_later)

    @staticmethod
    def wait(event: runtime.Event, timeout: float) -> bool:
        """Wait for ``event`` at most ``timeout`` seconds; whether it was set."""
        return event.wait(timeout)

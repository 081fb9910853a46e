"""The one place sio_core gets its concurrency from: gevent.

Everything that spawns, waits or locks, in the glue (``sio_core.server``,
``sio_core.adapter``) as in the edges (transports, serving, the Redis adapter, the
client), goes through these names, so the pure layers stay pure and the glue stays
testable. It imports nothing of sio_core: every tier imports it downward.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, List, Optional, Tuple

import gevent
import gevent.monkey
from gevent.event import AsyncResult, Event
from gevent.lock import BoundedSemaphore, RLock
from gevent.queue import Queue
from greenlet import greenlet  # type: ignore[import-untyped]

__all__ = [
    "AsyncResult", "Event", "Lock", "RLock", "Queue", "Timeout", "Greenlet", "SerialQueue",
    "spawn", "spawn_later", "sleep", "monotonic", "kill", "joinall",
    "in_hub_thread", "run_in_hub", "check_monkey_patch", "patch_blockers", "patch_if_safe",
    "set_hub_thread", "HubThread", "is_patched",
    "call_later", "call_soon", "TimerHandle", "getcurrent", "watch_readable",
    "ReadableWatch", "run_now", "Batch",
]

log = logging.getLogger(__name__)

#: A mutex between greenlets (``with lock:``; ``locked()`` says whether one holds it).
#: gevent has no class named Lock: its mutex is a semaphore of one, and the bounded kind
#: raises on a release without an acquire instead of letting two holders in. It does not
#: record its owner, so it is no ``threading.Lock`` for OS threads: the code that takes it
#: runs in the hub's thread (see ``run_in_hub``).
Lock = BoundedSemaphore
Timeout = gevent.Timeout
Greenlet = gevent.Greenlet
spawn = gevent.spawn
spawn_later = gevent.spawn_later
getcurrent = gevent.getcurrent
sleep = gevent.sleep
kill = gevent.kill
joinall = gevent.joinall
monotonic = time.monotonic

# the OS thread id, even when gevent has patched threading to report greenlet ids
_os_thread_id = gevent.monkey.get_original("_thread", "get_ident")
_hub_thread = _os_thread_id()
_hub = gevent.get_hub()
_warned_threads: set = set()


def in_hub_thread() -> bool:
    """Whether the caller runs in the thread that owns the gevent hub serving clients."""
    return _os_thread_id() == _hub_thread


def run_in_hub(fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` in the hub's thread: directly there, thread-safely from elsewhere.

    Calling into the server from a real OS thread (un-patched ``threading``, a C
    library's callback) would otherwise queue data that no greenlet wakes up for.
    """
    if in_hub_thread():
        fn(*args)
        return
    ident = _os_thread_id()
    if ident not in _warned_threads:
        _warned_threads.add(ident)
        log.warning(
            "sio_core was called from OS thread %s, not from a gevent greenlet: the call is "
            "handed to the server's thread. Call gevent.monkey.patch_all() at the very top of "
            "your program so threads become greenlets.", threading.current_thread().name,
        )
    _hand_over(_hub, fn, *args)


def _hand_over(hub: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Have ``hub``'s thread call ``fn(*args)`` at its next loop iteration; callable from
    any OS thread (the one hand-over of ``run_in_hub`` and ``HubThread``)."""
    hub.loop.run_callback_threadsafe(fn, *args)


def is_patched() -> bool:
    """Whether gevent has monkey-patched ``socket`` (blocking calls then yield to the hub)."""
    return gevent.monkey.is_module_patched("socket")


def check_monkey_patch(what: str) -> bool:
    """Log loudly, once, when gevent has not patched ``socket`` and ``threading``.

    :param what: what needs the patch, for the message
    :returns: whether both are patched
    """
    patched = _patched()
    if not patched:
        log.warning(
            "%s: gevent has not monkey-patched socket/threading. Blocking calls in handlers "
            "(requests, database drivers, time.sleep) will freeze every client, and emits from "
            "threads need a hand-over. Put `from gevent import monkey; monkey.patch_all()` "
            "first in your program.", what,
        )
    return patched


def _ssl_context_holders() -> List[str]:
    """Modules that hold the standard ``ssl.SSLContext`` itself or a subclass of it:
    patching ``ssl`` now would leave them with the blocking class (gevent warns of
    RecursionError and silent misbehaviour)."""
    ssl = sys.modules.get("ssl")
    context = getattr(ssl, "SSLContext", None)
    if context is None:
        return []
    holders = {sub.__module__ for sub in context.__subclasses__()}
    for name, module in list(sys.modules.items()):
        if module is None or name == "ssl" or name.split(".")[0] == "gevent":
            continue
        try:
            values = list(vars(module).values())
        except TypeError:
            continue
        for value in values:
            try:
                held = value is context or (isinstance(value, type) and issubclass(value, context))
            except Exception:  # an odd metaclass; not an SSLContext
                held = False
            if held:
                holders.add(name)
                break
    holders.discard("ssl")
    return sorted(h for h in holders if h.split(".")[0] != "gevent")


def patch_blockers() -> List[str]:
    """Why ``gevent.monkey.patch_all()`` would be unsafe at this point (empty: it is safe).

    Patching late is safe while the process is still single-threaded, in its main thread,
    and no module holds the standard ``ssl.SSLContext``. Modules that merely imported
    ``socket``, ``threading``, ``ssl`` or ``time`` are fine: they look the names up when
    they call them, and get gevent's.
    """
    reasons = []
    main = threading.main_thread()
    if threading.current_thread() is not main:
        reasons.append("not called from the main thread")
    others = sorted(t.name for t in threading.enumerate() if t is not main)
    if others:
        reasons.append("threads are already running (%s)" % ", ".join(others))
    holders = _ssl_context_holders()
    if holders:
        reasons.append("ssl.SSLContext is already held by %s" % ", ".join(holders))
    return reasons


def _patched() -> bool:
    return gevent.monkey.is_module_patched("socket") and gevent.monkey.is_module_patched(
        "threading")


def patch_if_safe(what: str) -> bool:
    """Monkey-patch the standard library with gevent when nothing loaded so far would break.

    Already patched: nothing to do. Safe (``patch_blockers()`` empty): ``patch_all()`` and
    log at INFO. Otherwise leave it and warn, naming what stands in the way.

    :param what: who is asking, for the messages
    :returns: whether ``socket`` and ``threading`` are patched afterwards
    """
    if _patched():
        return True
    reasons = patch_blockers()
    if reasons:
        log.warning(
            "%s: gevent has not monkey-patched the standard library, and patching it now is "
            "not safe: %s. Blocking calls in handlers (requests, database drivers, time.sleep) "
            "will freeze every client. Put `from gevent import monkey; monkey.patch_all()` "
            "first in your program, before the imports.", what, "; ".join(reasons),
        )
        return False
    gevent.monkey.patch_all()
    log.info("%s: monkey-patched the standard library with gevent (call "
             "gevent.monkey.patch_all() first in your program to do it yourself)", what)
    return True


class TimerHandle:
    """A pending ``call_later``; ``cancel()`` stops it."""

    __slots__ = ("_watcher",)

    def __init__(self, watcher: Any) -> None:
        self._watcher = watcher

    def cancel(self) -> None:
        """Stop the timer if it has not fired."""
        watcher = self._watcher
        if watcher is not None:
            self._watcher = None
            watcher.stop()
            watcher.close()


def call_later(delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
    """Call ``fn(*args)`` in the hub after ``delay`` seconds, on the event loop's own timers.

    No greenlet is created; ``fn`` must not block (spawn from it if it must).
    """
    watcher = gevent.get_hub().loop.timer(max(0.0, delay))
    handle = TimerHandle(watcher)

    def fire() -> None:
        handle._watcher = None
        watcher.close()
        fn(*args)

    watcher.start(fire)
    return handle


def call_soon(fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn(*args)`` in the hub at its next loop iteration, without a greenlet.

    ``fn`` runs in the hub itself: it must neither block nor raise.
    """
    gevent.get_hub().loop.run_callback(fn, *args)


def watch_readable(fileno: int, fn: Callable[[], Any]) -> TimerHandle:
    """Call ``fn()`` in the hub once ``fileno`` becomes readable; ``cancel()`` stops it.

    Like ``call_later``, it uses the event loop's own watchers: no greenlet is created.
    """
    watcher = gevent.get_hub().loop.io(fileno, 1)
    handle = TimerHandle(watcher)

    def fire() -> None:
        handle.cancel()
        fn()

    watcher.start(fire)
    return handle


class ReadableWatch:
    """Calls ``fn()`` in the hub whenever ``fileno`` is readable, while started.

    The event loop's own watcher: no greenlet waits. ``fn`` must neither block nor raise
    (``run_now`` gives it a greenlet for the work).
    """

    __slots__ = ("_watcher", "_fn")

    def __init__(self, fileno: int, fn: Callable[[], Any]) -> None:
        self._watcher = gevent.get_hub().loop.io(fileno, 1)
        self._fn = fn

    def start(self) -> None:
        """Watch (again)."""
        self._watcher.start(self._fn)

    def stop(self) -> None:
        """Stop watching for now."""
        self._watcher.stop()

    def close(self) -> None:
        """Stop for good (before the descriptor is closed)."""
        self._watcher.stop()
        self._watcher.close()


def run_now(fn: Callable[[], Any]) -> None:
    """Run ``fn()`` at once in a new greenlet, from a hub callback (``ReadableWatch``'s).

    A bare greenlet whose parent is the hub, switched to immediately: cheaper than
    ``spawn`` and without its wait for the next loop iteration. It lives only while ``fn``
    runs; ``fn`` may block, and must catch its exceptions.
    """
    greenlet(fn, parent=gevent.get_hub()).switch()


def set_hub_thread() -> None:
    """Record the calling thread as the one serving clients (called by the serving edge)."""
    global _hub_thread, _hub
    _hub_thread = _os_thread_id()
    _hub = gevent.get_hub()


class SerialQueue:
    """Runs the calls it is given one after another, in order, in one greenlet that
    exists only while calls are queued.

    A socket's handlers run this way: a handler that blocks (on an ack, on I/O) delays
    the next one, never the reader that queued them. Within a ``Batch`` the greenlet is
    the batch's own, lent once that greenlet is done with its other work.

    :param on_error: called with the exception when a call raises one; it runs inside the
        ``except`` block, so ``log.exception`` there logs the traceback
    """

    __slots__ = ("_calls", "worker", "_on_error")

    def __init__(self, on_error: Callable[[Exception], None]) -> None:
        # the calls waiting; None while there are none (an idle queue holds no deque)
        self._calls: Optional[Deque[Tuple[Callable[..., Any], Tuple[Any, ...]]]] = None
        #: the greenlet running the calls, None while none is queued
        self.worker: Optional[gevent.Greenlet] = None
        self._on_error = on_error

    def __len__(self) -> int:
        """How many calls wait (the running one not counted)."""
        calls = self._calls
        return len(calls) if calls is not None else 0

    def schedule(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` after every call already queued."""
        calls = self._calls
        if calls is None:
            calls = self._calls = deque()
        calls.append((fn, args))
        if self.worker is None:
            batch = _batch
            if batch is not None and batch.owner is getcurrent():
                self.worker = batch.owner  # it runs the calls when its batch ends
                batch.queues.append(self)
            else:
                self.worker = gevent.spawn(self._drain)

    def _start(self) -> None:
        self.worker = gevent.spawn(self._drain)

    def _drain(self) -> None:
        calls = self._calls
        try:
            while calls:
                fn, args = calls.popleft()
                try:
                    fn(*args)
                except Exception as exc:
                    self._on_error(exc)
        finally:
            self.worker = None
            if calls:  # queued while this greenlet was leaving
                self.worker = gevent.spawn(self._drain)
            elif self._calls is calls:
                self._calls = None


class Batch:
    """Puts off starting ``SerialQueue`` workers while the creating greenlet feeds queues.

    A reader made from a readable socket (``run_now``) hands each message to its socket's
    queue; a queue that has no worker would spawn a greenlet for every message that
    arrives alone. Within a batch, a queue scheduled from the batch's own greenlet waits
    instead, and ``run`` then runs the first such queue's calls in that greenlet (which
    has nothing else to do) and spawns workers for the others, so that each queue still
    has its own greenlet. ``start`` spawns them all, for a reader about to yield.
    Batches do not nest: a new one ends the one before, whose queues get workers.
    """

    __slots__ = ("owner", "queues")

    def __init__(self) -> None:
        global _batch
        if _batch is not None:
            _batch.start()
        #: the greenlet whose scheduling is batched
        self.owner = getcurrent()
        #: the queues that wait for this batch to end
        self.queues: List[SerialQueue] = []
        _batch = self

    def start(self) -> None:
        """Give every queue waiting so far a worker greenlet of its own."""
        queues, self.queues = self.queues, []
        for queue in queues:
            queue._start()

    def run(self) -> None:
        """End the batch: run the first waiting queue here, spawn workers for the rest."""
        global _batch
        if _batch is self:
            _batch = None
        queues, self.queues = self.queues, []
        if queues:
            for queue in queues[1:]:
                queue._start()
            queues[0]._drain()


_batch: Optional[Batch] = None


# real OS threads and locks, even where gevent has patched threading
_start_thread = gevent.monkey.get_original("_thread", "start_new_thread")
_allocate_lock = gevent.monkey.get_original("_thread", "allocate_lock")


def _nothing() -> None:
    pass


class HubThread:
    """A gevent hub on an OS thread of its own, for a program that did not monkey-patch.

    ``call(fn, *args)`` runs ``fn`` in a greenlet of that hub and blocks the calling OS
    thread until it returns, then returns its value or raises its exception. The work is
    handed over as ``run_in_hub`` hands it (the loop's thread-safe callback). ``stop()``
    lets the thread end once the greenlets it runs have ended.
    """

    __slots__ = ("hub", "ident", "stopped", "_keep", "_guard", "_running")

    def __init__(self, name: str = "gevent-hub") -> None:
        self.hub: Any = None
        #: the OS thread id of the hub's thread
        self.ident: Optional[int] = None
        self.stopped = False
        self._keep: Any = None
        self._guard = _allocate_lock()
        self._running = _allocate_lock()  # held by the thread until its hub is gone
        self._running.acquire()
        started = _allocate_lock()
        started.acquire()
        if gevent.monkey.is_module_patched("threading"):  # threading.Thread is a greenlet
            _start_thread(self._main, (started,))
        else:
            threading.Thread(target=self._main, args=(started,), name=name, daemon=True).start()
        started.acquire()

    def _main(self, started: Any) -> None:
        hub = gevent.get_hub()
        self._keep = hub.loop.async_()  # an active watcher: the loop runs until stop()
        self._keep.start(_nothing)
        self.hub = hub
        self.ident = _os_thread_id()
        started.release()
        try:
            hub.join()
        finally:
            hub.destroy(destroy_loop=True)
            self._running.release()

    def owns_current(self) -> bool:
        """Whether the caller runs in this hub's thread."""
        return _os_thread_id() == self.ident

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in a greenlet of the hub and wait for it in this OS thread.

        :raises RuntimeError: when the hub thread was stopped
        """
        outcome: List[Any] = []
        done = _allocate_lock()
        done.acquire()

        def run() -> None:
            try:
                outcome.append((True, fn(*args)))
            except BaseException as exc:  # handed to the caller's thread
                outcome.append((False, exc))
            finally:
                done.release()

        with self._guard:
            if self.stopped:
                raise RuntimeError("the hub thread is stopped")
            _hand_over(self.hub, gevent.spawn, run)
        done.acquire()
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def stop(self, timeout: float = 0.0) -> bool:
        """Let the thread end when its greenlets have; no call is accepted any more.

        :param timeout: seconds to wait for the end (not from the hub's own thread)
        :returns: whether the thread has ended
        """
        with self._guard:
            if not self.stopped:
                self.stopped = True
                _hand_over(self.hub, self._keep.close)
        if timeout <= 0 or self.owns_current() or not self._running.acquire(timeout=timeout):
            return False
        self._running.release()
        return True

"""Helpers shared by the tests: paths, free ports, servers in subprocesses, the node
runner's result, a real redis-server, ``wait_until`` and a fake clock.

Fixtures live in ``tests/conftest.py``; everything here is a plain function or class that
test modules import (``from tests.helpers import ...``).
"""
from __future__ import annotations

import heapq
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Tuple

import gevent
import pytest

__all__ = [
    "ROOT", "EXAMPLES", "INTEROP", "NODE_MODULES", "HOSTILE_APP",
    "free_port", "wait_for_port", "ServerProcess", "require_node", "node_result",
    "RedisServer", "wait_until", "FakeClock",
]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INTEROP = Path(__file__).resolve().parent / "interop"
NODE_MODULES = INTEROP / "node_modules"
HOSTILE_APP = Path(__file__).resolve().parent / "transports" / "hostile_app.py"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something accepts TCP connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            if proc.stdout:
                proc.stdout.close()
            raise RuntimeError(f"server exited with {proc.returncode}: {out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)  # polling a port: there is no event to await
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class ServerProcess:
    """An example script running in a subprocess on a free loopback port.

    Its output goes to a temporary file, not a pipe: a chatty server (a traceback per
    hostile packet) would otherwise block on a full pipe that nobody reads.
    """

    def __init__(self, script: str | Path, *args: str, port: int | None = None,
                 env: dict | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = ""
        self._log = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), "--port", str(self.port), *args],  # an
            # absolute ``script`` path replaces EXAMPLES
            cwd=str(ROOT), env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port, proc=self.proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}{self.stop()}") from None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> str:
        """Terminate the process (once) and return what it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.seek(0)
            self.output = self._log.read().decode(errors="replace")
            self._log.close()
        return self.output


def require_node() -> None:
    """Fail the test (not skip it) when node or the npm clients are missing."""
    if shutil.which("node") is None or not NODE_MODULES.is_dir():
        pytest.fail("node or tests/interop/node_modules missing: "
                    "run `npm ci --prefix tests/interop`")


def node_result(script: str, returncode: int, out: bytes, err: bytes) -> Any:
    """The JSON a node script printed on its last stdout line; an AssertionError with its
    output when it failed."""
    text = out.decode()
    if returncode != 0:
        raise AssertionError(f"{script} exited {returncode}\nstdout:\n{text[-5000:]}\n"
                             f"stderr:\n{err.decode()[-5000:]}")
    return json.loads(text.strip().splitlines()[-1])


class RedisServer:
    """A real redis-server on a free loopback port, without persistence."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (the test command installs Debian's "
                        "redis-server unless SIO_TEST_NO_BOOTSTRAP=1; see tests/bootstrap.py)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Let greenlets run until ``predicate()`` holds; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.005)  # other greenlets make the predicate true: let them run
    return True


class _FakeTimer:
    """A ``FakeClock.call_later`` timer; ``cancel()`` stops it."""

    __slots__ = ("fn", "args", "cancelled")

    def __init__(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock for ``Server(clock=...)`` / ``EngineServer(clock=...)`` that only moves when
    the test says so: ``advance(seconds)`` fires the timers that fall due, in order, and lets
    the greenlets they woke run. A test proves that a timer did *not* fire by advancing past
    its deadline, without sleeping.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._timers: List[Tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        """The clock's time."""
        return self.now

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> _FakeTimer:
        """Call ``fn(*args)`` when ``advance`` passes ``now + delay``."""
        timer = _FakeTimer(fn, args)
        heapq.heappush(self._timers, (self.now + max(0.0, delay), next(self._seq), timer))
        return timer

    def wait(self, event: Any, timeout: float) -> bool:
        """Wait until ``event`` is set, or until ``advance`` passes ``now + timeout``."""
        timer = self.call_later(timeout, event.set)
        try:
            return event.wait()
        finally:
            timer.cancel()

    @property
    def pending(self) -> int:
        """How many timers are armed and not cancelled."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds``, firing every timer due by then at its own time
        (timers armed meanwhile included) and letting the greenlets they wake run."""
        target = self.now + seconds
        timers = self._timers
        while timers and timers[0][0] <= target:
            due, _, timer = heapq.heappop(timers)
            if timer.cancelled:
                continue
            self.now = max(self.now, due)
            timer.cancelled = True
            timer.fn(*timer.args)
            gevent.idle()  # the greenlets the timer woke run before the next one fires
        self.now = target
        gevent.idle()

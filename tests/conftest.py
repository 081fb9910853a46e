"""Shared fixtures: free ports, example servers in subprocesses, the node runner."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

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


@pytest.fixture
def start_example() -> Iterator:
    """Factory fixture: ``start_example("engineio_echo.py", ...)`` → ServerProcess."""
    started: list[ServerProcess] = []

    def start(script: str, *args: str, port: int | None = None) -> ServerProcess:
        server = ServerProcess(script, *args, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def hostile_app() -> Iterator[ServerProcess]:
    """``tests/transports/hostile_app.py``: Socket.IO with a 50-packet queue per session."""
    server = ServerProcess(HOSTILE_APP, "--max-queue", "50")
    yield server
    server.stop()


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


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--fuzz-examples N``: how many examples the hostile-client fuzzer runs."""
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="examples of the hostile-client fuzzer (tests/test_fuzz_hostile.py)")


@pytest.fixture
def fuzz_examples(request: pytest.FixtureRequest) -> int | None:
    """The ``--fuzz-examples`` option (None: the fuzzer's bounded default)."""
    return request.config.getoption("--fuzz-examples")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Install the official clients from the committed lockfile when they are missing, so
    that the README's test command works on a fresh clone after the install command."""
    if NODE_MODULES.is_dir() or shutil.which("npm") is None:
        return
    subprocess.run(["npm", "ci", "--prefix", str(INTEROP), "--no-audit", "--no-fund",
                    "--silent"], check=False, timeout=600)


@pytest.fixture
def node():
    """Run a node script from tests/interop with a JSON config; return its JSON result."""
    require_node()

    def run(script: str, config: dict, timeout: float = 30.0) -> dict:
        proc = subprocess.run(
            ["node", str(INTEROP / script), json.dumps(config)],
            cwd=str(INTEROP), capture_output=True, timeout=timeout,
        )
        return node_result(script, proc.returncode, proc.stdout, proc.stderr)

    return run


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
            pytest.fail("redis-server is not installed (.ci/run installs Debian's redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    server = RedisServer()
    yield server
    server.stop()

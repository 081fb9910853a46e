"""Shared fixtures (free ports, example servers in subprocesses, the node runner, a
redis-server) and the session's bootstrap: before the first test, what the tests start
(chromium, redis-server, nginx, node and the npm clients) is checked and, when missing,
installed or named (``tests/bootstrap.py``). Plain helpers live in ``tests/helpers.py``."""
from __future__ import annotations

import json
import os
import subprocess
from typing import Iterator

import pytest

from tests import bootstrap
from tests.helpers import (
    HOSTILE_APP,
    INTEROP,
    RedisServer,
    ServerProcess,
    node_result,
    require_node,
)


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


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--fuzz-examples N``: how many examples the hostile-client fuzzer runs."""
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="examples of the hostile-client fuzzer (tests/test_fuzz_hostile.py)")


@pytest.fixture
def fuzz_examples(request: pytest.FixtureRequest) -> int | None:
    """The ``--fuzz-examples`` option (None: the fuzzer's bounded default)."""
    return request.config.getoption("--fuzz-examples")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Bring what the tests need before the first one runs (see ``tests/bootstrap.py``):
    nothing to do when everything is there; otherwise install it when this process may
    (root, ``apt-get``, ``npm``), or stop at once naming the one command to run.
    ``SIO_TEST_NO_BOOTSTRAP=1`` skips the check."""
    if os.environ.get(bootstrap.OPT_OUT) == "1":
        return
    plan = bootstrap.plan(bootstrap.look())
    if not plan.missing:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter is not None else (lambda line: None)
    if plan.blocked:
        pytest.exit(plan.blocked, returncode=pytest.ExitCode.USAGE_ERROR)
    for command in plan.commands:
        say("tests/bootstrap: " + " ".join(command))
        failure = bootstrap.run(command)
        if failure:
            pytest.exit(failure, returncode=pytest.ExitCode.USAGE_ERROR)


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


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    server = RedisServer()
    yield server
    server.stop()

"""SocketIO.run() monkey-patches the standard library for a program that did not, when
nothing it loaded would break (Flask-SocketIO's examples never call patch_all()); when
something would, it leaves it alone and says why."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import INTEROP, ServerProcess, node_result, require_node

APP = Path(__file__).with_name("unpatched_app.py")
WAIT = 5.0  # seconds

#: socket.io-client@4 over websocket: three ticks, then the ``patched`` ack, as JSON
#: (a client in this process would need gevent's patching itself)
CLIENT = r"""
const { io } = require("sio4");
const socket = io(process.argv[1], {transports: ["websocket"], reconnection: false});
const ticks = [];
function done(result) {
  socket.disconnect();
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}
const timer = setTimeout(() => done({error: "timed out", ticks}), %d);
socket.on("connect_error", (err) => { clearTimeout(timer); done({error: err.message}); });
socket.on("tick", (n) => {
  ticks.push(n);
  if (ticks.length === 3) {
    socket.emit("patched", (patched) => { clearTimeout(timer); done({ticks, patched}); });
  }
});
""" % (WAIT * 1000)


@pytest.fixture
def start_app() -> Iterator[Any]:
    """Factory: ``start_app(*args)`` → unpatched_app.py in a subprocess."""
    started = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(APP, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_run_patches_a_program_that_did_not(start_app: Any) -> None:
    require_node()
    server = start_app()
    proc = subprocess.run(["node", "-e", CLIENT, server.url], cwd=str(INTEROP),
                          capture_output=True, timeout=WAIT * 3)
    result = node_result("the client", proc.returncode, proc.stdout, proc.stderr)
    # the background task's time.sleep yields: its emits arrive, and the server answers
    ticks = result.get("ticks")
    assert result == {"ticks": ticks, "patched": {
        "socket": True, "threading": True, "time": True, "ssl": True}}
    assert ticks == list(range(ticks[0], ticks[0] + 3))
    output = server.stop()
    assert "INFO sio_core.runtime SocketIO.run: monkey-patched the standard library" \
        in output
    assert "WARNING" not in output
    assert "MonkeyPatchWarning" not in output


@pytest.mark.parametrize("args, reason", [
    (["--thread"], "threads are already running (early-worker)"),
    (["--import", "urllib3"], "ssl.SSLContext is already held by urllib3"),
])
def test_run_leaves_it_when_patching_would_break_something(start_app: Any, args: Any,
                                                           reason: str) -> None:
    server = start_app(*args)
    output = server.stop()
    assert "SocketIO.run: monkey-patched" not in output
    assert ("WARNING sio_core.runtime SocketIO.run: gevent has not monkey-patched "
            "the standard library, and patching it now is not safe: ") in output
    assert reason in output
    assert "monkey.patch_all()` first in your program" in output
    assert "MonkeyPatchWarning" not in output


def test_run_with_monkey_patch_false_leaves_it_and_warns(start_app: Any) -> None:
    server = start_app("--no-patch")
    output = server.stop()
    assert "SocketIO.run: monkey-patched" not in output
    assert ("WARNING sio_core.runtime SocketIO.run: gevent has not monkey-patched "
            "socket/threading.") in output

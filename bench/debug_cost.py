"""What the protocol trace (``sio_core.debug``, ``SIO_DEBUG``) costs, off and on.

Two measures:

- **micro**: one trace point when tracing is off (``if trace.socket_packets: ...``), in
  nanoseconds, against the same loop without it;
- **macro**: acked events per second over one websocket against ``bench/servers.py ours``
  in a subprocess, the client keeping ``--window`` events in flight: the working tree with
  tracing off, the same with ``SIO_DEBUG=engine,socket,packets`` (lines formatted, then
  written to /dev/null), and, with ``--baseline REV``, the tree of commit ``REV`` (say,
  the one before the trace points), exported by ``git archive`` to a temporary folder;
  ``--subject REV`` measures commit ``REV`` instead of the working tree (the commit that
  added the trace points against its parent: nothing else differs).

Runs alternate between the variants; the medians are printed (``--json`` for the raw
numbers). Every request goes to servers this script starts on 127.0.0.1.

    python3 bench/debug_cost.py [--runs 7] [--seconds 3] [--baseline REV] [--subject REV]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, wait_for_port  # noqa: E402
from sio_core.websocket import (  # noqa: E402
    OP_PONG,
    Close,
    FrameDecoder,
    Ping,
    encode_control,
    encode_message,
)

#: what ``on`` sets
TRACE = "engine,socket,packets"


class Client:
    """A Socket.IO client on one websocket, just enough to send acked events fast."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.sock.sendall(("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                           "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode("latin-1"))
        self.decoder = FrameDecoder(10_000_000, client=True)
        self.decoder.feed(head.split(b"\r\n\r\n", 1)[1])
        self.mask = secrets.token_bytes(4)
        assert str(self.recv()).startswith("0{")
        self.send(["40"])
        assert str(self.recv()).startswith("40{")
        self.next_id = 0

    def send(self, messages: List[str]) -> None:
        self.sock.sendall(b"".join(encode_message(m, self.mask) for m in messages))

    def recv(self) -> object:
        while True:
            event = self.decoder.next_event()
            if event is None:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("the server closed the connection")
                self.decoder.feed(data)
            elif isinstance(event, Ping):
                self.sock.sendall(encode_control(OP_PONG, event.payload, self.mask))
            elif isinstance(event, Close):
                raise ConnectionError("the server closed the websocket")
            elif event == "2":  # Engine.IO ping
                self.send(["3"])
            else:
                return event

    def acked_per_second(self, seconds: float, window: int, payload: str) -> float:
        """Send acked events for ``seconds``, ``window`` of them in flight; the rate."""
        done = 0
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            first = self.next_id
            self.next_id += window
            self.send(['42%d["ack",%s]' % (i, payload) for i in range(first, first + window)])
            for _ in range(window):
                reply = self.recv()
                assert isinstance(reply, str) and reply.startswith("43"), reply
            done += window
        return done / (time.perf_counter() - start)

    def close(self) -> None:
        self.sock.close()


def export(rev: str, into: Path) -> Path:
    """The files of commit ``rev``, written under ``into`` (read from git, no checkout)."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=str(ROOT),
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as tmp:
        tmp.write(archive)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(into, filter="data")
    return into


def measure(tree: Path, trace: Optional[str], seconds: float, window: int,
            payload: str) -> float:
    """Acked events per second against ``tree``'s ``bench/servers.py ours``."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED="1")
    env.pop("SIO_DEBUG", None)
    if trace:
        env["SIO_DEBUG"] = trace
    proc = subprocess.Popen([sys.executable, str(tree / "bench" / "servers.py"), "ours",
                             "--port", str(port)], cwd=str(tree), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        client = Client(port)
        try:
            client.acked_per_second(min(1.0, seconds), window, payload)  # warm up
            return client.acked_per_second(seconds, window, payload)
        finally:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def micro(number: int = 2_000_000) -> Dict[str, float]:
    """Nanoseconds per iteration of a loop with and without one trace point (off)."""
    from sio_core import debug

    debug.disable()
    env = {"trace": debug.trace, "debug": debug, "messages": ["2[\"x\"]"], "sid": "s"}
    guarded = "if trace.socket_packets:\n    debug.socket_sent(sid, messages)"
    best = {}
    for name, stmt in (("bare loop", "pass"), ("loop with a trace point", guarded)):
        times = timeit.repeat(stmt, globals=env, number=number, repeat=7)
        best[name] = min(times) / number * 1e9
    best["one trace point (off)"] = best["loop with a trace point"] - best["bare loop"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measure")
    parser.add_argument("--window", type=int, default=50, help="acked events in flight")
    parser.add_argument("--size", type=int, default=32, help="payload characters")
    parser.add_argument("--baseline", default=None,
                        help="a commit to measure too, e.g. the one before the trace points")
    parser.add_argument("--subject", default=None,
                        help="a commit to measure instead of the working tree")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    args = parser.parse_args()
    payload = json.dumps("x" * args.size)
    results: Dict[str, List[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        subject, tree = "working tree", ROOT
        if args.subject:
            subject, tree = args.subject, export(args.subject, Path(tmp) / "subject")
        variants = [(subject + ", tracing off", tree, None),
                    (subject + ", SIO_DEBUG=" + TRACE, tree, TRACE)]
        if args.baseline:
            variants.insert(0, ("%s (baseline)" % args.baseline,
                                export(args.baseline, Path(tmp) / "baseline"), None))
        for _ in range(args.runs):
            for name, tree, trace in variants:
                rate = measure(tree, trace, args.seconds, args.window, payload)
                results.setdefault(name, []).append(rate)
    costs = micro()
    if args.json:
        print(json.dumps({"acked_per_second": results, "micro_ns": costs}, indent=2))
        return
    print("acked events per second, one websocket, %d in flight, medians of %d runs of %gs:"
          % (args.window, args.runs, args.seconds))
    for name, rates in results.items():
        print("  %-45s %8.0f  (min %.0f, max %.0f)" % (name, statistics.median(rates),
                                                       min(rates), max(rates)))
    print("one process, best of 7:")
    for name, ns in costs.items():
        print("  %-45s %8.1f ns" % (name, ns))


if __name__ == "__main__":
    main()

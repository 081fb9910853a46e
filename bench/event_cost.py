"""Server CPU per echo and per ack, in one process: the benchmark's sio_core server and
lean websocket clients that cost next to nothing.

    python bench/event_cost.py                        # this tree, 5 runs
    python bench/event_cost.py --tree old=/tmp/old --tree new=.   # A/B, alternated

Each run starts a process (``PYTHONPATH`` = the tree) that serves ``bench/servers.py``'s
``sio_core`` application on 127.0.0.1 in a greenlet and connects ``--clients`` raw
websockets (Engine.IO 4, namespace ``/``) from greenlets of the same process. Every client
sends ``--inflight`` emits in one write and reads until all are answered, ``--rounds``
times: ``echo`` emits (answered by an ``echo`` event) then ``ack`` emits (answered by the
acknowledgement), with the payload of ``bench/load.js``. With ``--stream`` each client
instead keeps ``--inflight`` emits outstanding and sends a new one for every answer, as
``load.js``'s round-trip scenario does, its ack ids counting up from ``--ack-start``
(the benchmark's clients reach three to four digits). The process's CPU time over each
timed phase, divided by the round trips, is the figure: the clients' share (one write per
batch of emits, a loop over the answers' frame headers) is a small constant, and the
variation between loaded machines that a second process brings does not apply, so A/B
comparisons of the server's code are steadier than ``bench/run.py``'s (its rates and
CPU figures swing by tens of percent on a shared machine). Printed: per tree and kind,
the median and the least µs of CPU per round trip (the least is the least disturbed by
other processes) and every run's figure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

BENCH = Path(__file__).resolve().parent
KINDS = ("echo", "ack")
PAYLOAD = {"text": "hello", "n": 42}
MASK = b"\x5a\x17\xc3\x81"


def _masked(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    head = bytes((0x81, 0x80 | size)) if size < 126 else \
        bytes((0x81, 0xFE)) + size.to_bytes(2, "big")
    return head + MASK + bytes(byte ^ MASK[i % 4] for i, byte in enumerate(data))


def _frames(buffer: bytearray) -> int:
    """Drop the whole server frames (unmasked) at the start of ``buffer``; how many."""
    count = pos = 0
    end = len(buffer)
    while pos + 2 <= end:
        size = buffer[pos + 1] & 0x7F
        start = pos + 2
        if size == 126:
            if start + 2 > end:
                break
            size = int.from_bytes(buffer[start:start + 2], "big")
            start += 2
        elif size == 127:
            if start + 8 > end:
                break
            size = int.from_bytes(buffer[start:start + 8], "big")
            start += 8
        if start + size > end:
            break
        pos = start + size
        count += 1
    del buffer[:pos]
    return count


def _child(args: argparse.Namespace) -> None:
    """The measuring process: server and clients in one gevent hub."""
    from gevent import monkey

    monkey.patch_all()
    import socket
    import time

    import gevent

    sys.path.insert(0, str(BENCH))
    from servers import build_sio_core, free_port

    port = free_port()
    server = build_sio_core("127.0.0.1", port, None, "bench", None)
    gevent.spawn(server.serve_forever)
    gevent.sleep(0.2)

    def connect() -> Tuple[socket.socket, bytearray]:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13"
                     b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        del buffer[:buffer.index(b"\r\n\r\n") + 4]
        sock.sendall(_masked("40"))
        got = 0
        while got < 2:  # the open packet and the CONNECT answer
            got += _frames(buffer)
            if got < 2:
                buffer += sock.recv(65536)
        return sock, buffer

    clients = [connect() for _ in range(args.clients)]
    batches = {
        "echo": b"".join(_masked("42" + json.dumps(["echo", i, PAYLOAD], separators=(",", ":")))
                         for i in range(args.inflight)),
        "ack": b"".join(_masked("42%d" % (args.ack_start + i)
                                + json.dumps(["ack", args.ack_start + i, PAYLOAD],
                                             separators=(",", ":")))
                        for i in range(args.inflight)),
    }

    # --stream: one emit per answer, as load.js's keepBusy does; the ack ids count up per
    # client (a ring of pre-masked frames much longer than what is in flight)
    ring = 4096
    streams = {
        "echo": [_masked("42" + json.dumps(["echo", i, PAYLOAD], separators=(",", ":")))
                 for i in range(ring)],
        "ack": [_masked("42%d" % (args.ack_start + i)
                        + json.dumps(["ack", args.ack_start + i, PAYLOAD],
                                     separators=(",", ":"))) for i in range(ring)],
    }

    def drive(client: Tuple[socket.socket, bytearray], kind: str, rounds: int) -> None:
        sock, buffer = client
        batch = batches[kind]
        if args.stream:
            frames = streams[kind]
            total = rounds * args.inflight
            sock.sendall(b"".join(frames[:args.inflight]))
            sent, got = args.inflight, 0
            while got < total:
                buffer += sock.recv(65536)
                answered = _frames(buffer)
                got += answered
                more = min(answered, total - sent)
                if more:
                    sock.sendall(b"".join(frames[(sent + i) % ring] for i in range(more)))
                    sent += more
            return
        for _ in range(rounds):
            sock.sendall(batch)
            got = 0
            while got < args.inflight:
                buffer += sock.recv(65536)
                got += _frames(buffer)

    result: Dict[str, float] = {}
    for kind in args.kinds.split(","):
        gevent.joinall([gevent.spawn(drive, c, kind, max(1, args.rounds // 10))
                        for c in clients])  # warm-up
        started = time.process_time()
        wall = time.monotonic()
        gevent.joinall([gevent.spawn(drive, c, kind, args.rounds) for c in clients])
        cpu = time.process_time() - started
        ops = args.clients * args.inflight * args.rounds
        result[kind] = 1e6 * cpu / ops
        result[kind + "_rate"] = ops / (time.monotonic() - wall)
    print(json.dumps(result))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=[],
                        help="NAME=PATH of a source tree (repeat for A/B; default: this one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--inflight", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=100, help="batches per client and run")
    parser.add_argument("--kinds", default=",".join(KINDS), help="echo,ack (default), or one")
    parser.add_argument("--stream", action="store_true",
                        help="a new emit per answer (as bench/load.js), not lock-step batches")
    parser.add_argument("--ack-start", type=int, default=0,
                        help="first ack id (the benchmark's clients reach 3-4 digits)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return
    trees = [spec.split("=", 1) for spec in args.tree] or [["tree", str(BENCH.parent)]]
    kinds = args.kinds.split(",")
    samples: Dict[Tuple[str, str], List[float]] = {}
    for number in range(args.runs):
        for name, path in (trees if number % 2 == 0 else trees[::-1]):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
            out = subprocess.run(
                [sys.executable, str(Path(path).resolve() / "bench" / "event_cost.py")
                 if (Path(path) / "bench" / "event_cost.py").exists() else __file__,
                 "--child", "--clients", str(args.clients), "--inflight", str(args.inflight),
                 "--rounds", str(args.rounds), "--kinds", args.kinds,
                 "--ack-start", str(args.ack_start)] + (["--stream"] if args.stream else []),
                env=env, cwd=os.path.abspath(path), check=True, capture_output=True,
                text=True, timeout=600).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            for kind in kinds:
                samples.setdefault((name, kind), []).append(figures[kind])
            print("run %d %-8s " % (number + 1, name) + ", ".join(
                "%s %.2f us" % (kind, figures[kind]) for kind in kinds), flush=True)
    print("medians of %d runs (%d clients x %d in flight, %d batches each), server and "
          "clients' CPU per round trip:" % (args.runs, args.clients, args.inflight,
                                            args.rounds))
    for name, _ in trees:
        print("%-8s " % name + "  ".join(
            "%s %.2f us, min %.2f (%s)" % (kind, statistics.median(samples[(name, kind)]),
                                           min(samples[(name, kind)]),
                                           " ".join("%.1f" % v for v in samples[(name, kind)]))
            for kind in kinds))


if __name__ == "__main__":
    main()

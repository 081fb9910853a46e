"""flask_sio's handler path against sio_core's: echo and ack round trips over websockets.

    python bench/flask_dispatch.py                        # the working tree, 5 rounds
    python bench/flask_dispatch.py --tree old=/tmp/old --tree new=.   # A/B, alternated

Each round starts, for every tree (a source checkout: its ``sio_core`` and ``flask_sio``
are imported through ``PYTHONPATH``) and each server (``sio_core`` and ``flask_sio`` as
``bench/servers.py`` builds them, with the same handlers), a server process on 127.0.0.1
and runs ``bench/load.js``'s ``roundtrip`` scenario against it (``--clients`` websocket
clients, each keeping ``--inflight`` emits in flight for ``--seconds``), once with ``echo``
emits (answered by an ``echo`` event) and once with ``ack`` emits. The order of the trees
alternates from round to round. Printed: per tree, server and kind, the median rate and
the median server CPU time per round trip, and the ratio flask_sio/sio_core of each tree
(rates, and CPU per round trip inverted).
"""
import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from servers import cpu_seconds, free_port, wait_for_port

__all__ = ["run_round", "main"]

log = logging.getLogger("bench.flask_dispatch")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOAD_JS = BENCH / "load.js"
#: bench/servers.py's names of the two servers compared
SERVERS = ("sio_core", "flask_sio")
SERVERS_PY = BENCH / "servers.py"
KINDS = ("echo", "ack")


# -- the driver -----------------------------------------------------------------------------


def _load(port: int, pid: int, kind: str, args: argparse.Namespace) -> Tuple[float, float]:
    """One ``roundtrip`` run: (round trips/s, server CPU µs per round trip)."""
    config = dict(scenario="roundtrip", urls=["http://127.0.0.1:%d" % port], kind=kind,
                  clients=args.clients, inflight=args.inflight, seconds=args.seconds,
                  warmup_s=args.warmup, client="lean", timeout_ms=60000)
    proc = subprocess.Popen(["node", str(LOAD_JS), json.dumps(config)], cwd=str(ROOT),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    marks: Dict[str, float] = {}
    result: Optional[dict] = None
    for line in proc.stdout:
        message = json.loads(line)
        if "mark" in message:
            marks[message["mark"]] = cpu_seconds(pid)
            if message.get("wait"):
                proc.stdin.write("\n")
                proc.stdin.flush()
        elif "result" in message:
            result = message["result"]
        elif "error" in message:
            raise RuntimeError("load.js: %s" % message["error"])
    proc.wait(timeout=60)
    if result is None:
        raise RuntimeError("load.js gave no result (exit %s)" % proc.returncode)
    cpu = marks.get("end", 0.0) - marks.get("start", 0.0)
    return result["rate"], 1e6 * cpu / max(result["ops"], 1)


def run_round(tree: str, server: str, args: argparse.Namespace) -> Dict[str, Tuple[float, float]]:
    """Start ``server`` from ``tree``; each kind's (rate, CPU µs per round trip)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    proc = subprocess.Popen([sys.executable, str(SERVERS_PY), server, "--port", str(port)],
                            env=env, cwd=os.path.abspath(tree))
    try:
        wait_for_port(port, proc)
        return {kind: _load(port, proc.pid, kind, args) for kind in KINDS}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=[],
                        help="NAME=PATH of a source tree (repeat for A/B; default: this one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--inflight", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    trees = [spec.split("=", 1) for spec in args.tree] or [["tree", str(ROOT)]]
    samples: Dict[Tuple[str, str, str], List[Tuple[float, float]]] = {}
    for number in range(args.rounds):
        order = trees if number % 2 == 0 else trees[::-1]
        for name, path in order:
            for server in SERVERS:
                for kind, sample in run_round(path, server, args).items():
                    samples.setdefault((name, server, kind), []).append(sample)
                    log.info("round %d %s %s %s: %.0f/s, %.1f µs/op", number + 1, name, server,
                             kind, *sample)
    log.info("\nmedians of %d rounds (%d clients x %d in flight, %.0f s):", args.rounds,
             args.clients, args.inflight, args.seconds)
    for name, _ in trees:
        for kind in KINDS:
            core = samples[(name, "sio_core", kind)]
            flask = samples[(name, "flask_sio", kind)]
            core_rate = statistics.median(rate for rate, _ in core)
            flask_rate = statistics.median(rate for rate, _ in flask)
            core_cpu = statistics.median(cpu for _, cpu in core)
            flask_cpu = statistics.median(cpu for _, cpu in flask)
            log.info("%-6s %-4s sio_core %7.0f/s %6.1f µs/op | flask_sio %7.0f/s %6.1f µs/op | "
                     "flask_sio/sio_core %.2fx rate, %.2fx by CPU per op", name, kind, core_rate,
                     core_cpu, flask_rate, flask_cpu, flask_rate / core_rate,
                     core_cpu / flask_cpu)


if __name__ == "__main__":
    main()

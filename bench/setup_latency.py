"""Websocket set-up phase by phase, against sio_core and the Node server alternated.

    python3 bench/setup_latency.py --rounds 2 --total 4000 --concurrency 1 10 50

Runs ``bench/setup_latency.js`` (bare TCP sockets, no ws library) against fresh servers,
pinned as ``bench/run.py`` pins them, after a warm-up of 500 set-ups: the rate of set-ups
held open and, per phase, p50/p90 latency (TCP connect; upgrade request to the 101 with the
open packet; CONNECT to its answer). Compare with ``run.py``'s held-open set-up, whose client
is the ws library's (bench/PROFILE.md).
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import List, Optional

from servers import ServerProcess, child_setup, pin

SCRIPT = Path(__file__).resolve().parent / "setup_latency.js"


def run(port: int, total: int, concurrency: int) -> str:
    """One run of the script against ``port``; its one-line report."""
    out = subprocess.run(["node", str(SCRIPT), str(port), str(total), str(concurrency)],
                         capture_output=True, text=True, timeout=120,
                         preexec_fn=child_setup("load"))
    if out.returncode:
        raise RuntimeError(out.stderr.strip() or "setup_latency.js failed")
    return out.stdout.strip()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impls", nargs="+", default=["sio_core", "node"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--total", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args(argv)
    pin()
    for concurrency in args.concurrency:
        for round_no in range(1, args.rounds + 1):
            for impl in args.impls:
                with ServerProcess(impl) as server:
                    port = int(server.url.rsplit(":", 1)[1])
                    run(port, 500, 50)  # warm-up
                    print("%-9s concurrency %3d round %d: %s"
                          % (impl, concurrency, round_no, run(port, args.total, concurrency)),
                          flush=True)


if __name__ == "__main__":
    main()

"""What-if measurements: our server with a change applied by monkey-patching inside the
server process, against the unchanged server.

    python bench/what_if.py lockstep --changes "none;nogc" --runs 3

Changes (combine with ``,``):

- ``none``: the server as it is;
- ``nogc``: the cyclic garbage collector disabled (to see what collections cost).

The prototypes first measured here (``send``, ``nodelay``, ``quietlog``, ``flush``,
``freeze``; PROFILE.md) have since been built into sio_core itself, so they are no longer
offered; they remain in the history of this file (commit 9df411d).
"""
import sys

if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Dict, List, Optional  # noqa: E402

log = logging.getLogger("bench.what_if")

BENCH = Path(__file__).resolve().parent
CHANGES = ("none", "nogc")

#: load.js configurations (plus "urls")
CASES: Dict[str, dict] = {
    "ack": dict(scenario="ack", clients=50, acks=400, warmup=20, client="lean"),
    "burst": dict(scenario="fanout", clients=500, messages=1000, warmup=10, mode="burst",
                  client="lean"),
    "lockstep": dict(scenario="fanout", clients=500, messages=200, warmup=10, mode="lockstep",
                     client="lean"),
    "keepalive": dict(scenario="connect", connections=100, concurrency=10,
                      transports=["polling"], keep_alive=True, client="lean"),
    "polling": dict(scenario="connect", connections=500, concurrency=10,
                    transports=["polling"], client="lean"),
}


# -- the patched server (runs in the server process) ----------------------------------------


def serve(port: int, changes: List[str]) -> None:
    """Build our benchmark server with ``changes`` applied and serve forever."""
    import gc

    import servers

    if "nogc" in changes:
        gc.disable()
    server = servers.build_ours("127.0.0.1", port, None, "bench", None)
    server.serve_forever()


# -- the driver -------------------------------------------------------------------------------


def measure(case: str, changes: str) -> Dict[str, Optional[float]]:
    """One run of ``case`` against a fresh server with ``changes``."""
    from scenarios import _busy, _cpu_metrics, run_load
    from servers import ROOT, free_port, wait_for_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(BENCH)]))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", str(port),
                             changes], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        result, phases = run_load(dict(CASES[case], urls=["http://127.0.0.1:%d" % port]),
                                  {"server": proc.pid})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ops = result.get("deliveries") or result.get("acks") or result.get("connections")
    metrics = _cpu_metrics(_busy(phases), result["seconds"], ops)
    return dict(rate=result["rate"], us_per_op=metrics["server_us_per_op"],
                p50_ms=result.get("p50_ms", result.get("round_p50_ms")),
                p99_ms=result.get("p99_ms", result.get("round_p99_ms")))


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(int(argv[1]), argv[2].split(","))
        return 0
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--changes", default="none;nogc",
                        help="variants separated by ';', each a ','-joined set of changes")
    parser.add_argument("--runs", type=int, default=3, help="rounds (alternating variants)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    variants = [v.strip() for v in args.changes.split(";") if v.strip()]
    for variant in variants:
        unknown = set(variant.split(",")) - set(CHANGES)
        if unknown:
            parser.error("unknown change(s) %s; known: %s" % (sorted(unknown), CHANGES))
    runs: Dict[str, List[Dict[str, Optional[float]]]] = {v: [] for v in variants}
    for round_no in range(1, args.runs + 1):
        for variant in variants:
            metrics = measure(args.case, variant)
            runs[variant].append(metrics)
            log.info("%s [%s] run %d: %s", args.case, variant, round_no, ", ".join(
                "%s=%.4g" % (k, v) for k, v in metrics.items() if v is not None))
    print("\n%-20s %12s %12s %10s %10s   (medians of %d runs)" % (
        "changes", "rate", "µs/op", "p50 ms", "p99 ms", args.runs))
    for variant, rows in runs.items():
        med = {key: (statistics.median([r[key] for r in rows]) if rows[0][key] is not None
                     else None) for key in rows[0]}
        print("%-20s %12.0f %12.2f %10s %10s" % (
            variant, med["rate"], med["us_per_op"],
            "-" if med["p50_ms"] is None else "%.1f" % med["p50_ms"],
            "-" if med["p99_ms"] is None else "%.1f" % med["p99_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

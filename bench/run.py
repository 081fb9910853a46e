"""Run the benchmarks, ours against python-socketio on the same gevent stack, and rewrite
bench/RESULTS.md.

    python bench/run.py            # the full run (about 6-7 minutes on 2 cores)
    python bench/run.py --quick    # smaller sizes, 3 runs each: a smoke run (about 2 minutes)

Each scenario runs ``--runs`` times (7 by default), alternating the implementations inside
every round (ours, theirs, ours, theirs, ...), each run on freshly started server
processes. RESULTS.md reports medians, the spread (min–max) and the ratio ours/theirs;
RESULTS.json keeps every run's metrics (``--render bench/RESULTS.json`` rewrites the report).
Needs node and tests/interop/node_modules (``npm ci --prefix tests/interop``), redis-server
for scenario 5, and the ``bench`` extra (``pip install -e '.[bench]'``).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Optional

from scenarios import SCENARIOS, LoadError, Scenario, Sizes, interop_ready, node_version

log = logging.getLogger("bench.run")

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"

Runs = Dict[str, List[Dict[str, float]]]  # variant -> one metrics dict per successful run


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _redis_version() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        return "not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return out.strip()


def _sio_client_version() -> str:
    package = BENCH.parent / "tests" / "interop" / "node_modules" / "sio4" / "package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def machine() -> List[tuple]:
    """(what, value) rows describing this machine and the software measured."""
    return [
        ("CPUs (os.cpu_count)", str(os.cpu_count())),
        ("CPU model", _cpu_model()),
        ("OS", "%s %s" % (platform.system(), platform.release())),
        ("Python", platform.python_version()),
        ("gevent", _version("gevent")),
        ("greenlet", _version("greenlet")),
        ("gevent-websocket", _version("gevent-websocket")),
        ("python-socketio", _version("python-socketio")),
        ("python-engineio", _version("python-engineio")),
        ("flask-sio (ours)", _version("flask-sio") + " (this checkout)"),
        ("orjson (ours uses it when installed)", _version("orjson")),
        ("wsaccel (ours uses it when installed)", _version("wsaccel")),
        ("redis (Python client)", _version("redis")),
        ("redis-server", _redis_version()),
        ("node / socket.io-client", "%s / %s" % (node_version(), _sio_client_version())),
    ]


# -- running ----------------------------------------------------------------------------------


def run_scenario(scenario: Scenario, sizes: Sizes, runs: int) -> Runs:
    """``runs`` rounds of every variant, alternating inside each round."""
    results: Runs = {variant: [] for variant in scenario.variants}
    for round_no in range(1, runs + 1):
        for variant in scenario.variants:
            started = time.monotonic()
            try:
                metrics = scenario.run(variant, sizes)
            except (LoadError, RuntimeError, TimeoutError, OSError) as exc:
                log.error("%s %s run %d failed: %s", scenario.key, variant, round_no, exc)
                continue
            results[variant].append(metrics)
            log.info("%s %-16s run %d/%d (%.1fs): %s", scenario.key, variant, round_no, runs,
                     time.monotonic() - started,
                     ", ".join("%s=%.4g" % item for item in metrics.items()))
    return results


# -- reporting --------------------------------------------------------------------------------


def _values(runs: Runs, variant: str, metric: str) -> List[float]:
    return [r[metric] for r in runs.get(variant, []) if metric in r]


def _fmt(value: Optional[float], unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "%":
        return "%.0f%%" % value
    if abs(value) >= 1000:
        text = "{:,.0f}".format(value)
    elif abs(value) >= 100:
        text = "%.0f" % value
    elif abs(value) >= 10:
        text = "%.1f" % value
    else:
        text = "%.2f" % value
    return text if unit in ("/s", "") else "%s %s" % (text, unit)


def _median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _counterpart(variant: str) -> Optional[str]:
    if variant.startswith("ours"):
        return "theirs" + variant[len("ours"):]
    return None


def scenario_table(scenario: Scenario, runs: Runs) -> List[str]:
    """Markdown rows: one per (variant, metric): median, min–max, n, ratio ours/theirs."""
    lines = ["| variant | metric | median | spread (min–max) | runs | ours/theirs |",
             "|---|---|---:|---:|---:|---:|"]
    for variant in scenario.variants:
        for metric, label, unit, better in scenario.metrics:
            values = _values(runs, variant, metric)
            if not values:
                continue
            median = _median(values)
            ratio = ""
            other = _counterpart(variant)
            if other is not None and better is not None:
                theirs = _median(_values(runs, other, metric))
                if theirs:
                    ratio = "%.2f×" % (median / theirs)
            unit_label = "" if unit in ("/s", "%") else " (%s)" % unit
            lines.append("| %s | %s%s | %s | %s – %s | %d | %s |" % (
                variant, label, unit_label, _fmt(median, unit if unit == "%" else ""),
                _fmt(min(values), unit if unit == "%" else ""),
                _fmt(max(values), unit if unit == "%" else ""), len(values), ratio))
    return lines


#: ratios closer to 1 than this are reported as even
EVEN = 0.03


def _verdict(ratio: float, higher_is_better: bool) -> str:
    if abs(ratio - 1.0) < EVEN:
        return "even"
    return "better" if (ratio > 1) == higher_is_better else "worse"


def headline(all_runs: Dict[str, Runs]) -> List[tuple]:
    """(scenario and variant, metric label, ours median, theirs median, ratio, verdict)."""
    rows = []
    for scenario in SCENARIOS:
        runs = all_runs.get(scenario.key)
        if not runs:
            continue
        for variant in scenario.variants:
            other = _counterpart(variant)
            if other is None:
                continue
            for metric, label, unit, better in scenario.metrics:
                if better is None:
                    continue
                ours = _median(_values(runs, variant, metric))
                theirs = _median(_values(runs, other, metric))
                if ours is None or theirs is None:
                    continue
                suffix = variant[len("ours"):].lstrip("/")
                name = scenario.title + (" — " + suffix if suffix else "")
                ratio = ours / theirs if theirs else float("nan")
                rows.append((name, label, _fmt(ours, unit), _fmt(theirs, unit), ratio,
                             _verdict(ratio, better)))
    return rows


def _method(sizes: Sizes, runs: int, quick: bool) -> List[str]:
    lean = sizes.client == "lean"
    json_note = ("each server's default JSON library (ours: orjson when installed; "
                 "python-socketio: the standard library's json)" if sizes.json is None
                 else "the same JSON library forced on both (`--json %s`)" % sizes.json)
    return [
        "## Method", "",
        "- **Servers** (`bench/servers.py`): every run starts fresh server process(es) on a "
        "free 127.0.0.1 port, monkey-patched with gevent, on `gevent.pywsgi` with "
        "gevent-websocket. *ours* is `sio_core.Server` served by `sio_core.serving.make_server`; "
        "*theirs* is `socketio.Server(async_mode=\"gevent\")` in `socketio.WSGIApp` served by "
        "`pywsgi.WSGIServer(handler_class=WebSocketHandler)`. Same handlers (`echo`, `ack`, "
        "`join`, `bcast`), same ping interval/timeout (25 s / 20 s), %s, defaults otherwise "
        "(python-socketio runs each event in a greenlet of its own, as by default)." % json_note,
        "- **Load** (`bench/load.js`): one node process, the same code for both servers. %s "
        "Idle memory (4) uses socket.io-client@4 itself." % (
            "The rate scenarios (1, 2, 3, 5) use a *lean client*: a minimal Socket.IO 5 / "
            "Engine.IO 4 client (websocket frames on the `ws` library socket.io-client uses; "
            "bare HTTP requests for polling handshakes) that costs a fraction of "
            "socket.io-client's CPU, so that the generator is not what limits the rate. With "
            "socket.io-client the generator saturated its core in (3) and held (1)/(2) "
            "below the servers' capacity." if lean else
            "All scenarios use socket.io-client@4 (`--client sio`)."),
        "- **CPU accounting**: the CPU time of the server process(es), of the generator and of "
        "the whole machine (/proc) is sampled at the start and end of every timed phase and "
        "shown as % of one core. *Server CPU per op* (server CPU time / operations) is the "
        "least noisy comparison: it does not depend on who waited for whom. *Other processes' "
        "CPU* is what the rest of the machine used meanwhile: this is a shared 2-core machine "
        "where other people's test suites may run, which is what makes the rates noisy.",
        "- **Order**: every scenario runs %d rounds; each round runs every variant once, "
        "alternating ours and theirs (ABAB…). Medians, min–max and ratios of medians are "
        "reported; no number comes from a single run." % runs,
        "",
        "Scenarios and sizes%s:" % (" (reduced by `--quick`)" if quick else ""),
        "",
        "1. **ack round-trip**: %d websocket clients, each emitting `ack` with a small payload "
        "and awaiting the ack before sending the next, %d times each (after %d untimed warm-up "
        "acks each). Rate = all acks / wall time; latency percentiles over every ack."
        % (sizes.ack_clients, sizes.ack_count, sizes.ack_warmup),
        "2. **broadcast fan-out**: %d websocket clients join one room; one more client emits "
        "`bcast`, and the server emits `msg` to the room for each. *burst*: %d emits at once; "
        "rate = deliveries / time from the first emit to the last delivery. *lockstep*: %d "
        "emits, each sent once the previous one reached all clients (no batching possible); "
        "also the time from an emit to its last delivery. %d-message warm-up first."
        % (sizes.fanout_clients, sizes.fanout_messages, sizes.fanout_lockstep_messages,
           sizes.fanout_warmup),
        "3. **connection setup**: connect (until the Socket.IO CONNECT answer) then "
        "disconnect, %d clients at a time: %d over websocket, %d over polling with a new TCP "
        "connection per request, %d over polling on keep-alive connections (as browsers "
        "reuse them); one untimed round first."
        % (sizes.connect_concurrency, sizes.connect_ws, sizes.connect_polling,
           sizes.connect_keepalive),
        "4. **idle memory**: VmRSS of the server process (/proc/<pid>/status) after 50 warm-up "
        "connections came and went, then 0.5 s after %d websocket clients connected and stayed "
        "idle; reported as the delta / %d, and the RSS before." % (sizes.idle_clients,
                                                                sizes.idle_clients),
        "5. **Redis**: like (2) *burst* with %d clients and %d messages, through the Redis "
        "adapter (ours: `RedisAdapter`; theirs: `socketio.RedisManager`) and a redis-server "
        "started for the run. *1 node*: one server process with the adapter; *2 nodes*: two "
        "server processes sharing the redis-server, the clients spread evenly over both, the "
        "emitter on the first. On 2 cores the two nodes, redis and the generator share the "
        "machine, so this measures the adapter's cost, not scaling."
        % (sizes.redis_clients, sizes.redis_messages),
        ""]


def write_results(path: Path, all_runs: Dict[str, Runs], sizes: Sizes, runs: int, quick: bool,
                  elapsed: float, machine_rows: List[tuple], today: str) -> None:
    """Rewrite RESULTS.md."""
    flags = "".join([" --quick" if quick else "",
                     " --client sio" if sizes.client != "lean" else "",
                     " --json %s" % sizes.json if sizes.json else ""])
    out = ["# Benchmark results: sio_core vs python-socketio on gevent", "",
           "Written by `python bench/run.py%s` on %s in %.0f s. Do not edit by hand: rerun it. "
           "Where our server spends its time: `bench/PROFILE.md`." % (flags, today, elapsed), ""]
    if quick:
        out += ["**Quick run**: small sizes and few runs, for a smoke test only; the numbers "
                "are noisy. Run `python bench/run.py` for the real table.", ""]
    out += ["## Summary (medians of %d runs; ratio = ours / theirs)" % runs, "",
            "| scenario | metric | ours | python-socketio | ours/theirs | |",
            "|---|---|---:|---:|---:|---|"]
    for name, label, ours, theirs, ratio, verdict in headline(all_runs):
        out.append("| %s | %s | %s | %s | %.2f× | %s |"
                   % (name, label, ours, theirs, ratio,
                      "**worse**" if verdict == "worse" else verdict))
    others = [r["other_cpu"] for runs_of in all_runs.values() for variant in runs_of.values()
              for r in variant if "other_cpu" in r]
    note = ("Rates: higher is better; latency, CPU per op and memory: lower is better; "
            "*even*: the medians differ by less than %.0f%%." % (EVEN * 100))
    if others:
        note += (" Other processes used a median %.0f%% of a core (max %.0f%%) during the "
                 "timed phases." % (statistics.median(others), max(others)))
    out += ["", note, ""]

    out += ["## Machine", "", "| | |", "|---|---|"]
    out += ["| %s | %s |" % tuple(row) for row in machine_rows]
    out += [""] + _method(sizes, runs, quick)

    out += ["## Details", ""]
    for scenario in SCENARIOS:
        runs_of = all_runs.get(scenario.key)
        if not runs_of:
            continue
        out += ["### %s" % scenario.title, ""] + scenario_table(scenario, runs_of) + [""]
        if scenario.key == "redis":
            for impl in ("ours", "theirs"):
                one = _median(_values(runs_of, impl + "/1 node", "rate"))
                two = _median(_values(runs_of, impl + "/2 nodes", "rate"))
                if one and two:
                    out.append("- %s: 2 nodes / 1 node = %.2f×" % (impl, two / one))
            burst = all_runs.get("fanout", {})
            for impl in ("ours", "theirs"):
                values = _values(burst, impl + "/burst", "server_us_per_op")
                if values:
                    out.append("- %s without Redis, (2) burst: %s µs of server CPU per delivery "
                               "(%d clients × %d messages)" % (
                                   impl, _fmt(_median(values)), sizes.fanout_clients,
                                   sizes.fanout_messages))
            out.append("")

    out += ["## Raw runs", "", "The main metric of every run, in the order run.", ""]
    for scenario in SCENARIOS:
        runs_of = all_runs.get(scenario.key)
        if not runs_of:
            continue
        main_metric = scenario.metrics[0][0]
        for variant in scenario.variants:
            values = _values(runs_of, variant, main_metric)
            out.append("- %s, %s, %s: %s" % (scenario.key, variant, main_metric,
                                              ", ".join(_fmt(v) for v in values) or "no run"))
    out.append("")
    path.write_text("\n".join(out))


def _print_summary(all_runs: Dict[str, Runs]) -> None:
    print("\n%-62s %-14s %12s %12s %8s" % ("scenario", "metric", "ours", "theirs", "ratio"))
    for name, label, ours, theirs, ratio, verdict in headline(all_runs):
        print("%-62s %-14s %12s %12s %7.2fx  %s" % (name[:62], label, ours, theirs, ratio,
                                                   verdict))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 runs")
    parser.add_argument("--runs", type=int, default=None, help="rounds per scenario (7; quick 3)")
    parser.add_argument("--only", nargs="+", choices=[s.key for s in SCENARIOS],
                        help="run only these scenarios")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--client", choices=("lean", "sio"), default="lean",
                        help="client of the message-rate scenarios: the lean websocket client "
                             "(default) or socket.io-client@4")
    parser.add_argument("--json", choices=("stdlib", "orjson"), default=None,
                        help="force one JSON library on both servers (default: each its own)")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="only rewrite the report from a saved results.json")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        sizes = Sizes(**saved["sizes"])
        write_results(args.output, saved["runs"], sizes, saved["rounds"], saved["quick"],
                      saved["elapsed"], saved["machine"], saved["date"])
        _print_summary(saved["runs"])
        return 0
    if not interop_ready():
        parser.error("needs node and tests/interop/node_modules: npm ci --prefix tests/interop")
    runs = args.runs or (3 if args.quick else 7)
    if runs < 1:
        parser.error("--runs must be at least 1")
    sizes = Sizes.quick() if args.quick else Sizes()
    sizes.client = args.client
    sizes.json = args.json
    chosen = [s for s in SCENARIOS if not args.only or s.key in args.only]
    if any(s.key == "redis" for s in chosen) and shutil.which("redis-server") is None:
        log.warning("redis-server is not installed: skipping scenario 5")
        chosen = [s for s in chosen if s.key != "redis"]

    started = time.monotonic()
    all_runs: Dict[str, Runs] = {}
    for scenario in chosen:
        log.info("== %s", scenario.title)
        all_runs[scenario.key] = run_scenario(scenario, sizes, runs)
    elapsed = time.monotonic() - started
    rows, today = machine(), datetime.date.today().isoformat()
    write_results(args.output, all_runs, sizes, runs, args.quick, elapsed, rows, today)
    raw = args.output.with_suffix(".json")
    raw.write_text(json.dumps(dict(sizes=dataclasses.asdict(sizes), rounds=runs,
                                   quick=args.quick, elapsed=elapsed, machine=rows,
                                   date=today, runs=all_runs), indent=1) + "\n")
    _print_summary(all_runs)
    print("\n%s (and %s) written in %.0f s" % (args.output.name, raw.name, elapsed))
    failed = [(s.key, v) for s in chosen for v in s.variants if not all_runs[s.key][v]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

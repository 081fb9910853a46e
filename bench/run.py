"""Run the benchmarks: five Socket.IO servers with the same handlers, and rewrite
bench/RESULTS.md.

    python bench/run.py            # the full run (about 13-15 minutes on 2 cores)
    python bench/run.py --quick    # smaller sizes, one round: a smoke run (about 2-3 minutes)

The servers (``bench/servers.py``): sio_core, flask_sio, python-socketio, Flask-SocketIO (both
on gevent + gevent-websocket) and the Node socket.io@4 server. Each scenario runs ``--runs``
rounds (3 by default); every round runs every server once, alternating them inside the round
(the order rotates from round to round), each run on freshly started server processes. Servers
run on CPU 0 and the load generator on CPU 1 (``--no-pin`` leaves them to the scheduler).
RESULTS.md reports medians, the spread (min–max) and ratios to sio_core and to Node;
RESULTS.json keeps every run's metrics (``--render bench/RESULTS.json`` rewrites the report;
with ``--readme`` it also rewrites the table of README.md's Speed section from it).
Needs node and tests/interop/node_modules (``npm ci --prefix tests/interop``), redis-server
for scenario 7, and the ``bench`` extra (``pip install -e '.[bench,flask]'``).
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
from typing import Dict, List, Optional, Sequence

from scenarios import (
    SCENARIOS,
    LoadError,
    Scenario,
    Sizes,
    idle_levels,
    interop_ready,
    node_version,
    split_variant,
    variant,
)
from servers import IMPLEMENTATIONS, LABELS, descriptor_limit, pin

log = logging.getLogger("bench.run")

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
README = BENCH.parent / "README.md"

Runs = Dict[str, List[Dict[str, float]]]  # variant -> one metrics dict per successful run
#: the servers the ratios are taken against
BASE, NODE = "sio_core", "node"


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


def _node_package_version(name: str) -> str:
    package = BENCH.parent / "tests" / "interop" / "node_modules" / name / "package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def machine(pinned: bool) -> List[tuple]:
    """(what, value) rows describing this machine and the software measured."""
    return [
        ("CPUs (os.cpu_count)", str(os.cpu_count())),
        ("CPU model", _cpu_model()),
        ("pinning", "servers and redis on CPU 0, load generator on CPU 1" if pinned
         else "none (the scheduler's choice)"),
        ("descriptor limit (RLIMIT_NOFILE, raised to the hard limit)", str(descriptor_limit())),
        ("OS", "%s %s" % (platform.system(), platform.release())),
        ("Python", platform.python_version()),
        ("gevent", _version("gevent")),
        ("greenlet", _version("greenlet")),
        ("gevent-websocket", _version("gevent-websocket")),
        ("Flask", _version("flask")),
        ("flask-sio (sio_core and flask_sio)", _version("flask-sio") + " (this checkout)"),
        ("python-socketio", _version("python-socketio")),
        ("python-engineio", _version("python-engineio")),
        ("Flask-SocketIO", _version("flask-socketio")),
        ("orjson (sio_core uses it when installed)", _version("orjson")),
        ("wsaccel (sio_core uses it when installed)", _version("wsaccel")),
        ("redis (Python client)", _version("redis")),
        ("redis-server", _redis_version()),
        ("node", node_version()),
        ("socket.io (Node server) / ws (load generator)",
         "%s / %s" % (_node_package_version("socket.io"), _node_package_version("ws"))),
        ("socket.io-client", _node_package_version("sio4")),
    ]


# -- running ----------------------------------------------------------------------------------


def run_scenario(scenario: Scenario, sizes: Sizes, runs: int) -> Runs:
    """``scenario.rounds(runs)`` rounds; each runs every server once per sub-scenario, the
    servers alternating, their order rotating from round to round."""
    results: Runs = {name: [] for name in scenario.variants}
    rounds = scenario.rounds(runs)
    impls = list(scenario.impls)
    for round_no in range(1, rounds + 1):
        shift = (round_no - 1) % len(impls)
        order = impls[shift:] + impls[:shift]
        for sub in scenario.subs:
            for impl in order:
                name = variant(impl, sub)
                started = time.monotonic()
                try:
                    metrics = scenario.run(impl, sub, sizes)
                except (LoadError, RuntimeError, TimeoutError, OSError, ValueError) as exc:
                    log.error("%s %s run %d failed: %s", scenario.key, name, round_no, exc)
                    continue
                results[name].append(metrics)
                log.info("%s %-26s run %d/%d (%.1fs): %s", scenario.key, name, round_no,
                         rounds, time.monotonic() - started,
                         ", ".join("%s=%.4g" % item for item in metrics.items()))
    return results


# -- reporting --------------------------------------------------------------------------------


def _values(runs: Runs, name: str, metric: str) -> List[float]:
    return [r[metric] for r in runs.get(name, []) if r.get(metric) is not None]


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


def _ratio(value: Optional[float], other: Optional[float]) -> str:
    return "%.2f×" % (value / other) if value is not None and other else ""


class Medians:
    """Medians of every (scenario, server, sub-scenario, metric) of a run."""

    def __init__(self, all_runs: Dict[str, Runs]) -> None:
        self.all_runs = all_runs

    def get(self, key: str, impl: str, sub: str, metric: str) -> Optional[float]:
        return _median(_values(self.all_runs.get(key, {}), variant(impl, sub), metric))


def scenario_table(scenario: Scenario, runs: Runs, sizes: Sizes) -> List[str]:
    """Markdown rows: one per (variant, metric): median, min–max, n, ratios to sio_core and
    to Node."""
    lines = ["| variant | metric | median | spread (min–max) | runs | / sio_core | / Node |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name in scenario.variants:
        impl, sub = split_variant(name)
        for metric, label, unit, better in scenario.metrics_for(sizes):
            values = _values(runs, name, metric)
            if not values:
                continue
            median = _median(values)
            ratios = ["", ""]
            if better is not None:
                for i, other in enumerate((BASE, NODE)):
                    if other != impl:
                        ratios[i] = _ratio(median, _median(_values(runs, variant(other, sub),
                                                                   metric)))
            unit_label = "" if unit in ("/s", "%") else " (%s)" % unit
            shown = unit if unit == "%" else ""
            lines.append("| %s | %s%s | %s | %s – %s | %d | %s | %s |" % (
                name, label, unit_label, _fmt(median, shown), _fmt(min(values), shown),
                _fmt(max(values), shown), len(values), ratios[0], ratios[1]))
    return lines


def summary(all_runs: Dict[str, Runs], sizes: Sizes) -> List[str]:
    """Every compared metric: the five medians, and ratios to sio_core and to Node."""
    medians = Medians(all_runs)
    others = [i for i in IMPLEMENTATIONS if i != BASE]
    lines = ["| scenario | metric | %s | %s | %s |" % (
                " | ".join(LABELS[i] for i in IMPLEMENTATIONS),
                " | ".join("%s / sio_core" % LABELS[i] for i in others),
                " | ".join("%s / Node" % LABELS[i] for i in IMPLEMENTATIONS if i != NODE)),
             "|---|---|" + "---:|" * (3 * len(IMPLEMENTATIONS) - 2)]
    for scenario in SCENARIOS:
        if not all_runs.get(scenario.key):
            continue
        for sub in scenario.subs:
            for metric, label, unit, better in scenario.metrics_for(sizes):
                if better is None:
                    continue
                values = {i: medians.get(scenario.key, i, sub, metric) for i in IMPLEMENTATIONS}
                if all(v is None for v in values.values()):
                    continue
                name = scenario.title + (" — " + sub if sub else "")
                lines.append("| %s | %s | %s | %s | %s |" % (
                    name, label, " | ".join(_fmt(values[i], unit) for i in IMPLEMENTATIONS),
                    " | ".join(_ratio(values[i], values[BASE]) for i in others),
                    " | ".join(_ratio(values[i], values[NODE]) for i in IMPLEMENTATIONS
                               if i != NODE)))
    return lines


def _cells(values: Dict[str, Optional[float]], fmt) -> List[str]:
    return [fmt(values[i]) for i in IMPLEMENTATIONS]


def headline(all_runs: Dict[str, Runs], sizes: Sizes) -> List[str]:
    """The README's speed table: the issue's rows, five servers, three ratios."""
    medians = Medians(all_runs)
    lines = ["| | %s | flask_sio / sio_core | sio_core / Node | flask_sio / Node |" % (
                " | ".join(LABELS[i] for i in IMPLEMENTATIONS)),
             "|---|" + "---:|" * (len(IMPLEMENTATIONS) + 3)]

    def row(label: str, key: str, sub: str, metric: str, unit: str = "",
            p99: bool = False) -> None:
        values = {i: medians.get(key, i, sub, metric) for i in IMPLEMENTATIONS}
        if all(v is None for v in values.values()):
            return
        cells = [_fmt(values[i], unit) for i in IMPLEMENTATIONS]
        if p99:
            for n, impl in enumerate(IMPLEMENTATIONS):
                tail = medians.get(key, impl, sub, "p99_ms")
                if tail is not None and values[impl] is not None:
                    cells[n] += " (%s)" % _fmt(tail, "ms")
        lines.append("| %s | %s | %s | %s | %s |" % (
            label, " | ".join(cells), _ratio(values["flask_sio"], values[BASE]) or "–",
            _ratio(values[BASE], values[NODE]) or "–",
            _ratio(values["flask_sio"], values[NODE]) or "–"))

    load = "%d clients × %d in flight" % (sizes.rt_clients, sizes.rt_inflight)
    row("echo round trips/s (p99), %s" % load, "roundtrip", "echo", "rate", p99=True)
    row("ack round trips/s (p99), %s" % load, "roundtrip", "ack", "rate", p99=True)
    row("broadcast deliveries/s to {:,} clients".format(sizes.fanout_clients), "fanout",
        "burst", "rate")
    levels = idle_levels(sizes)
    for level in levels:
        row("KiB per idle websocket, {:,} open".format(level), "idle", "",
            "kib_per_conn_%d" % level)
    if len(levels) >= 2:
        row("websocket connections set up/s ({:,} → {:,}, held open)".format(*levels[:2]),
            "idle", "", "setup_rate")
    row("websocket connect + disconnect/s", "connect", "websocket", "rate")
    row("long-polling round trips/s (p99), %d clients" % sizes.polling_clients, "polling", "",
        "rate", p99=True)
    row("%s binary event round trips/s" % _size(sizes.binary_size), "large", "binary", "rate")
    row("%s text event round trips/s" % _size(sizes.text_size), "large", "text", "rate")
    return lines


def _size(size: int) -> str:
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return "%d MiB" % (size >> 20)
    if size % 1024 == 0:
        return "%d KiB" % (size >> 10)
    return "%d bytes" % size


def targets(all_runs: Dict[str, Runs], sizes: Sizes) -> List[str]:
    """Issue 13's targets, each with the figures of this run and whether it is met."""
    medians = Medians(all_runs)
    lines = ["| target | measured | |", "|---|---|---|"]

    def check(target: str, measured: str, ok: Optional[bool], short: str = "") -> None:
        verdict = "–" if ok is None else ("met" if ok else "**not met**" + short)
        lines.append("| %s | %s | %s |" % (target, measured, verdict))

    def ratio_target(target: str, key: str, sub: str, metric: str, impl: str, other: str,
                     floor: float) -> None:
        ours, theirs = (medians.get(key, impl, sub, metric), medians.get(key, other, sub, metric))
        if ours is None or not theirs:
            check(target, "not measured", None)
            return
        r = ours / theirs
        short = 100 * (floor - r) / floor
        check(target, "%s / %s = %.2f×" % (_fmt(ours), _fmt(theirs), r), r >= floor,
              "" if r >= floor else " (%s%% short)" % ("%.1f" % short if short < 1
                                                         else "%.0f" % short))

    for sub in ("echo", "ack"):
        ratio_target("flask_sio %s ≥ 0.75× sio_core" % sub, "roundtrip", sub, "rate",
                     "flask_sio", BASE, 0.75)
    for impl in ("sio_core", "flask_sio"):
        for level in idle_levels(sizes):
            kib = medians.get("idle", impl, "", "kib_per_conn_%d" % level)
            check("%s ≤ 20 KB per idle websocket at {:,}".format(level) % impl,
                  "not measured" if kib is None else "%.1f KiB (%.1f KB)" % (kib, kib * 1.024),
                  None if kib is None else kib * 1.024 <= 20.0,
                  "" if kib is None or kib * 1.024 <= 20 else
                  " (%.1f KB over)" % (kib * 1.024 - 20))
    for sub in ("echo", "ack"):
        ratio_target("sio_core %s ≥ 0.75× Node" % sub, "roundtrip", sub, "rate", BASE, NODE,
                     0.75)
        p99 = medians.get("roundtrip", BASE, sub, "p99_ms")
        check("sio_core %s p99 < 40 ms at that load" % sub,
              "not measured" if p99 is None else _fmt(p99, "ms"),
              None if p99 is None else p99 < 40.0)
    ratio_target("sio_core websocket connections set up/s ≥ 1.0× Node", "idle", "",
                 "setup_rate", BASE, NODE, 1.0)
    ratio_target("sio_core long-polling round trips ≥ 0.5× Node", "polling", "", "rate", BASE,
                 NODE, 0.5)
    for sub, size in (("binary", sizes.binary_size), ("text", sizes.text_size)):
        ours, node = (medians.get("large", BASE, sub, "rate"),
                      medians.get("large", NODE, sub, "rate"))
        check("%s %s event round trip, measured against Node" % (_size(size), sub),
              "not measured" if ours is None or not node else
              "%s / %s round trips/s = %.2f×" % (_fmt(ours), _fmt(node), ours / node), None)
    return lines


#: what bench/PROFILE.md found in the way of the targets whose labels start so
OBSTACLES = [
    ("flask_sio echo and ack",
     "Flask's own request and app context pushed and popped for every event (a "
     "fresh `g`, the teardown checks, the context variables) and the request copied per "
     "handler: about 475 bytecodes beyond sio_core's per echo (PROFILE.md, *flask_sio "
     "dispatch*)."),
    ("sio_core echo and ack",
     "The server is CPU-bound at that load and its time is Python work "
     "(14–20 µs of user time per round trip, 3–4 µs of system time, ten messages per read and "
     "per write): about 1,300 bytecodes per echo in some 35 calls through the layers, none "
     "above a tenth (PROFILE.md, *Bytecodes per echo* and *sio_core echo and ack per event*). "
     "The rates also swing by up to a quarter between server processes."),
    ("sio_core websocket connections set up",
     "With bare TCP clients sio_core sets up 1.1–1.5× Node's websockets per second "
     "(`setup_latency.py`); with this client, which opens them with the ws library, the loop "
     "waits for work about a sixth of the time with 50 set-ups in flight, and why it does "
     "was not found; our CONNECT answer waits for the flush at the end of a busy loop "
     "iteration (PROFILE.md, *Set-up with bare TCP clients* and *The garbage collector while "
     "taking on connections*)."),
    ("sio_core long-polling round trips",
     "Two HTTP requests per round trip: system calls, greenlet "
     "switches and ~4,700 bytecodes of the lean path, the engine and Socket.IO (PROFILE.md, "
     "*Long-polling: bytecodes per round trip*)."),
]


def obstacles(lines: List[str]) -> List[str]:
    """What stands in the way of each target the targets table says is not met."""
    unmet = [line.split("|")[1].strip() for line in lines if "**not met**" in line]
    out = []
    for label, text in OBSTACLES:
        words = label.split()  # "x echo and ack": targets starting "x echo" or "x ack"
        starts = ([" ".join(words[:-3] + [w]) for w in (words[-3], words[-1])]
                  if words[-2] == "and" else [label])
        if any(target.startswith(start) for target in unmet for start in starts):
            out.append("- **%s**: %s" % (label, text))
    return out


def _rounds_run(all_runs: Dict[str, Runs]) -> Dict[str, int]:
    """How many rounds each scenario of the run had (its variant with the most)."""
    return {key: max(len(runs) for runs in runs_of.values())
            for key, runs_of in all_runs.items() if runs_of}


def _more_rounds(all_runs: Dict[str, Runs], runs: int) -> str:
    """The scenarios that had another number of rounds than ``runs``, for the method."""
    counts = _rounds_run(all_runs)
    return "".join(", %s %d" % (s.title.split(" ", 1)[1], counts[s.key]) for s in SCENARIOS
                   if counts.get(s.key, runs) != runs)


def _method(all_runs: Dict[str, Runs], sizes: Sizes, runs: int, quick: bool) -> List[str]:
    lean = sizes.client == "lean"
    json_note = ("each server's default JSON library (sio_core and flask_sio: orjson when "
                 "installed; python-socketio and Flask-SocketIO: the standard library's json)"
                 if sizes.json is None else
                 "the same JSON library forced on the Python servers (`--json %s`)" % sizes.json)
    levels = idle_levels(sizes)
    return [
        "## Method", "",
        "- **Servers** (`bench/servers.py`): every run starts fresh server process(es) on a "
        "free 127.0.0.1 port. *sio_core* is `sio_core.Server` on "
        "`sio_core.serving.make_server`, served by its `serve_forever`; *flask_sio* a Flask "
        "app with `flask_sio.SocketIO`, "
        "served by `SocketIO.run`; *python-socketio* is `socketio.Server(async_mode=\"gevent\")` "
        "in `socketio.WSGIApp` and *Flask-SocketIO* a Flask app with "
        "`SocketIO(async_mode=\"gevent\")`, both served by "
        "`pywsgi.WSGIServer(handler_class=WebSocketHandler)` — all four monkey-patched with "
        "gevent, on gevent-websocket; *Node socket.io* is the socket.io@4 server of "
        "tests/interop (`bench/node_server.js`). Same handlers (`echo`, `ack`, `join`, `bcast`; "
        "the Flask ones use `emit`/`join_room` in the request context, as Flask applications "
        "do), same ping interval/timeout (25 s / 20 s) and maximum message size (2 MB), %s, "
        "defaults otherwise (python-socketio and Flask-SocketIO run each event in a greenlet "
        "of its own, as by default)." % json_note,
        "- **Load** (`bench/load.js`): one node process, the same code for every server. %s"
        % ("It uses a *lean client*: a minimal Socket.IO 5 / Engine.IO 4 client (websocket "
           "frames on the `ws` library socket.io-client uses; bare HTTP requests for polling) "
           "that costs a fraction of socket.io-client's CPU, so that the generator is not what "
           "limits the rate." if lean else
           "The websocket scenarios use socket.io-client@4 (`--client sio`)."),
        "- **CPUs**: the server process(es) (and redis) run on CPU 0, the load generator on "
        "CPU 1 (`os.sched_setaffinity`, as `taskset`), unless `--no-pin`; every process gets "
        "the highest descriptor limit allowed (RLIMIT_NOFILE raised to the hard limit).",
        "- **CPU accounting**: the CPU time of the server process(es), of the generator and of "
        "the whole machine (/proc) is sampled at the start and end of every timed phase and "
        "shown as % of one core. *Server CPU per op* (server CPU time / operations) is the "
        "least noisy comparison: it does not depend on who waited for whom. *Other processes' "
        "CPU* is what the rest of the machine used meanwhile.",
        "- **Order**: every scenario runs %d round(s)%s; each round runs every server once per "
        "sub-scenario, alternating the five (the order rotates from round to round). Medians, "
        "min–max and ratios of medians are reported." % (runs, _more_rounds(all_runs, runs)),
        "",
        "Scenarios and sizes%s:" % (" (reduced by `--quick`)" if quick else ""),
        "",
        "1. **echo and ack round trips**: %d websocket clients, each keeping %d emits in "
        "flight (a new one as soon as one is answered): `echo` answered by an `echo` event, "
        "or `ack` answered by its acknowledgement; %.1f s timed after %.1f s of the same "
        "load. Rate = answers / time; latency percentiles over every answer."
        % (sizes.rt_clients, sizes.rt_inflight, sizes.rt_seconds, sizes.rt_warmup_s),
        "2. **broadcast fan-out**: {:,} websocket clients join one room; one more client emits "
        "`bcast`, and the server emits `msg` to the room for each. *burst*: %d emits at once; "
        "rate = deliveries / time from the first emit to the last delivery. *lockstep*: %d "
        "emits, each sent once the previous one reached all clients (no batching possible); "
        "also the time from an emit to its last delivery. %d-message warm-up first."
        .format(sizes.fanout_clients) % (sizes.fanout_messages, sizes.fanout_lockstep_messages,
                                         sizes.fanout_warmup),
        "3. **connection setup**: connect (until the Socket.IO CONNECT answer) then "
        "disconnect, %d clients at a time: %d over websocket, %d over polling with a new TCP "
        "connection per request, %d over polling on keep-alive connections (as browsers "
        "reuse them); one untimed round first."
        % (sizes.connect_concurrency, sizes.connect_ws, sizes.connect_polling,
           sizes.connect_keepalive),
        "4. **long-polling round trips**: %d polling clients on keep-alive HTTP connections, "
        "each with one `ack` emit in flight (POSTed; the acknowledgement comes with the "
        "pending GET); %.1f s timed after %.1f s." % (
            sizes.polling_clients, sizes.polling_seconds, sizes.polling_warmup_s),
        "5. **idle memory**: VmRSS of the server process (/proc/<pid>/status) after 50 warm-up "
        "connections came and went, then 0.5 s after %s websocket clients were connected and "
        "idle (one run adds them in steps); reported as (RSS − RSS before) / connections. "
        "*Set up/s*: connections opened (and kept) per second from %s to %s, 50 handshakes "
        "at a time." % (" / ".join("{:,}".format(n) for n in levels),
                        "{:,}".format(levels[0]), "{:,}".format(levels[-1] if len(levels) < 2
                                                                  else levels[1])),
        "6. **large payloads**: one websocket client, sequential `echo` round trips of a "
        "%s binary argument (one attachment) or of a %s string, for %.1f s (at least %d) "
        "after %d untimed." % (_size(sizes.binary_size), _size(sizes.text_size),
                               sizes.large_seconds, sizes.large_min_count, sizes.large_warmup),
        "7. **Redis**: like (2) *burst* with %d clients and %d messages, through each Python "
        "server's Redis adapter (sio_core: `RedisAdapter`; flask_sio and Flask-SocketIO: "
        "`message_queue=`; python-socketio: `socketio.RedisManager`) and a redis-server "
        "started for the run; not for Node (no Redis adapter in tests/interop). *1 node*: one "
        "server process; *2 nodes*: two sharing the redis-server, the clients spread over "
        "both, the emitter on the first. Pinned to one CPU, this measures the adapter's "
        "cost, not scaling." % (sizes.redis_clients, sizes.redis_messages),
        ""]


def write_results(path: Path, all_runs: Dict[str, Runs], sizes: Sizes, runs: int, quick: bool,
                  elapsed: float, machine_rows: List[tuple], today: str) -> None:
    """Rewrite RESULTS.md."""
    flags = "".join([" --quick" if quick else "",
                     " --client sio" if sizes.client != "lean" else "",
                     " --json %s" % sizes.json if sizes.json else ""])
    out = ["# Benchmark results: sio_core, flask_sio, python-socketio, Flask-SocketIO and "
           "Node socket.io", "",
           "Written by `python bench/run.py%s` on %s in %.0f s. Do not edit by hand: rerun it. "
           "Where our server spends its time: `bench/PROFILE.md`." % (flags, today, elapsed), ""]
    if quick:
        out += ["**Quick run**: small sizes and one round, for a smoke test only; the numbers "
                "are noisy. Run `python bench/run.py` for the real table.", ""]
    counts = sorted(set(_rounds_run(all_runs).values()) - {1} or {runs})
    span = "%d" % counts[0] if counts[0] == counts[-1] else "%d–%d" % (counts[0], counts[-1])
    out += ["## Headline (%s; README.md's speed table)" % (
        "medians of %s rounds" % span if runs > 1 else "one round"), ""]
    out += headline(all_runs, sizes)
    others = [r["other_cpu"] for runs_of in all_runs.values() for variant_runs in runs_of.values()
              for r in variant_runs if "other_cpu" in r]
    note = "Rates: higher is better; latency, CPU per op and memory: lower is better."
    if others:
        note += (" Other processes used a median %.0f%% of a core (max %.0f%%) during the "
                 "timed phases." % (statistics.median(others), max(others)))
    table = targets(all_runs, sizes)
    out += ["", note, "", "## Targets (issue 13)", ""] + table
    found = obstacles(table)
    if found:
        out += ["", "What stands in the way of those not met:", ""] + found
    out += ["", "## Summary (medians; ratios of medians)", ""] + summary(all_runs, sizes)

    out += ["", "## Machine", "", "| | |", "|---|---|"]
    out += ["| %s | %s |" % tuple(row) for row in machine_rows]
    out += [""] + _method(all_runs, sizes, runs, quick)

    out += ["## Details", ""]
    for scenario in SCENARIOS:
        runs_of = all_runs.get(scenario.key)
        if not runs_of:
            continue
        out += ["### %s" % scenario.title, ""] + scenario_table(scenario, runs_of, sizes) + [""]
        if scenario.note:
            out += [scenario.note, ""]
        if scenario.key == "redis":
            for impl in scenario.impls:
                one = _median(_values(runs_of, impl + "/1 node", "rate"))
                two = _median(_values(runs_of, impl + "/2 nodes", "rate"))
                if one and two:
                    out.append("- %s: 2 nodes / 1 node = %.2f×" % (impl, two / one))
            out.append("")

    out += ["## Raw runs", "", "The main metric of every run, in the order run.", ""]
    for scenario in SCENARIOS:
        runs_of = all_runs.get(scenario.key)
        if not runs_of:
            continue
        main_metric = scenario.metrics_for(sizes)[0][0]
        for name in scenario.variants:
            values = _values(runs_of, name, main_metric)
            out.append("- %s, %s, %s: %s" % (scenario.key, name, main_metric,
                                              ", ".join(_fmt(v) for v in values) or "no run"))
    out.append("")
    path.write_text("\n".join(out))


def update_readme(readme: Path, table: Sequence[str]) -> None:
    """Replace the first table of README.md's Speed section with ``table``."""
    lines = readme.read_text().split("\n")
    start = lines.index("## Speed")
    first = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("|"))
    last = first
    while last < len(lines) and lines[last].startswith("|"):
        last += 1
    lines[first:last] = list(table)
    readme.write_text("\n".join(lines))


def _print_summary(all_runs: Dict[str, Runs], sizes: Sizes) -> None:
    print()
    print("\n".join(headline(all_runs, sizes)))
    print()
    print("\n".join(targets(all_runs, sizes)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 round")
    parser.add_argument("--runs", type=int, default=None, help="rounds per scenario (3; quick 1)")
    parser.add_argument("--only", nargs="+", choices=[s.key for s in SCENARIOS],
                        help="run only these scenarios")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--client", choices=("lean", "sio"), default="lean",
                        help="client of the websocket scenarios: the lean client (default) or "
                             "socket.io-client@4")
    parser.add_argument("--json", choices=("stdlib", "orjson"), default=None,
                        help="force one JSON library on the Python servers (default: each its "
                             "own)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin servers to CPU 0 and the load generator to CPU 1")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="only rewrite the report from a saved RESULTS.json")
    parser.add_argument("--readme", action="store_true",
                        help="also rewrite the table of README.md's Speed section")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        known = {f.name for f in dataclasses.fields(Sizes)}
        sizes = Sizes(**{k: v for k, v in saved["sizes"].items() if k in known})
        write_results(args.output, saved["runs"], sizes, saved["rounds"], saved["quick"],
                      saved["elapsed"], saved["machine"], saved["date"])
        if args.readme:
            update_readme(README, headline(saved["runs"], sizes))
        _print_summary(saved["runs"], sizes)
        return 0
    if not interop_ready():
        parser.error("needs node and tests/interop/node_modules: npm ci --prefix tests/interop")
    runs = args.runs or (1 if args.quick else 3)
    if runs < 1:
        parser.error("--runs must be at least 1")
    sizes = Sizes.quick() if args.quick else Sizes()
    sizes.client = args.client
    sizes.json = args.json
    pinned = pin(not args.no_pin)
    chosen = [s for s in SCENARIOS if not args.only or s.key in args.only]
    if any(s.key == "redis" for s in chosen) and shutil.which("redis-server") is None:
        log.warning("redis-server is not installed: skipping the Redis scenario")
        chosen = [s for s in chosen if s.key != "redis"]

    started = time.monotonic()
    all_runs: Dict[str, Runs] = {}
    for scenario in chosen:
        log.info("== %s", scenario.title)
        all_runs[scenario.key] = run_scenario(scenario, sizes, runs)
    elapsed = time.monotonic() - started
    rows, today = machine(pinned), datetime.date.today().isoformat()
    write_results(args.output, all_runs, sizes, runs, args.quick, elapsed, rows, today)
    raw = args.output.with_suffix(".json")
    raw.write_text(json.dumps(dict(sizes=dataclasses.asdict(sizes), rounds=runs,
                                   quick=args.quick, elapsed=elapsed, machine=rows,
                                   date=today, runs=all_runs), indent=1) + "\n")
    if args.readme:
        update_readme(README, headline(all_runs, sizes))
    _print_summary(all_runs, sizes)
    print("\n%s (and %s) written in %.0f s" % (args.output.name, raw.name, elapsed))
    failed = [(s.key, v) for s in chosen for v in s.variants if not all_runs[s.key][v]]
    if failed:
        log.error("no successful run of: %s", ", ".join("%s %s" % f for f in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark scenarios: each starts fresh server process(es), drives them with
``bench/load.js`` (node: a lean Socket.IO client, or socket.io-client@4) and returns one
run's measurements.

While the load generator runs, the CPU time of the server process(es) and of the load
generator is sampled at the start and end of the timed phase, so every result says how busy
each side was (a load generator near 100% of a core while the server idles would make the
numbers mean nothing).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from servers import (
    IMPLEMENTATIONS,
    ROOT,
    RedisProcess,
    ServerProcess,
    child_setup,
    cpu_seconds,
    descriptor_limit,
)

_CLK_TCK = os.sysconf("SC_CLK_TCK")

__all__ = ["Sizes", "SCENARIOS", "Scenario", "LoadError", "node_version", "interop_ready"]

log = logging.getLogger("bench.scenarios")

LOAD_JS = Path(__file__).resolve().parent / "load.js"
INTEROP_MODULES = ROOT / "tests" / "interop" / "node_modules" / "sio4"


class LoadError(RuntimeError):
    """The load generator failed or reported an error."""


def interop_ready() -> bool:
    """Whether node and socket.io-client@4 (tests/interop) are available."""
    return shutil.which("node") is not None and INTEROP_MODULES.is_dir()


def node_version() -> str:
    """``node --version``."""
    return subprocess.run(["node", "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


@dataclass
class Sizes:
    """How big each scenario is (``quick`` shrinks them)."""

    #: (1) echo and ack round trips: clients, emits in flight per client, timed seconds
    rt_clients: int = 100
    rt_inflight: int = 10
    rt_seconds: float = 2.0
    rt_warmup_s: float = 0.75
    fanout_clients: int = 1000
    fanout_messages: int = 200
    fanout_lockstep_messages: int = 100
    fanout_warmup: int = 5
    connect_ws: int = 1000
    connect_polling: int = 500
    connect_keepalive: int = 100
    connect_concurrency: int = 10
    #: (4) long-polling round trips
    polling_clients: int = 50
    polling_seconds: float = 2.0
    polling_warmup_s: float = 0.75
    #: (5) idle websockets held at once, in steps (capped below the descriptor limit)
    idle_levels: List[int] = field(default_factory=lambda: [1000, 10000, 19000])
    #: (6) large payloads: bytes; sequential round trips for a time (after the warm-up ones)
    binary_size: int = 1 << 20
    text_size: int = 64 << 10
    large_seconds: float = 1.5
    large_min_count: int = 5
    large_warmup: int = 3
    redis_clients: int = 500
    redis_messages: int = 200
    #: client of the websocket and polling scenarios: "lean" or "sio" (socket.io-client)
    client: str = "lean"
    #: JSON library forced on the Python servers ("stdlib", "orjson"), or None for defaults
    json: Optional[str] = None

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(rt_seconds=1.0, rt_warmup_s=0.5, fanout_clients=300, fanout_messages=100,
                   fanout_lockstep_messages=30, connect_ws=200, connect_polling=100,
                   connect_keepalive=40, polling_seconds=1.0, polling_warmup_s=0.5,
                   idle_levels=[500, 2000], large_seconds=0.5, large_warmup=2,
                   redis_clients=200, redis_messages=100)


def machine_cpu_seconds() -> float:
    """CPU seconds all CPUs of the machine spent busy so far (/proc/stat, all but idle)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _CLK_TCK


@dataclass
class _Phase:
    wall: float
    cpu: Dict[str, float] = field(default_factory=dict)


def run_load(config: dict, pids: Dict[str, int],
             on_wait: Optional[Callable[[str], None]] = None,
             timeout: float = 180.0) -> tuple:
    """Run ``load.js`` with ``config``; return ``(result, phases)``.

    ``phases`` maps each mark the script printed to the wall clock and the CPU seconds of
    ``pids`` (plus ``load``, the generator itself) when the mark was read. For marks that
    wait, ``on_wait(mark)`` runs before the script is told to go on.
    """
    config = dict(config, timeout_ms=int(timeout * 1000))
    proc = subprocess.Popen(["node", str(LOAD_JS), json.dumps(config)], cwd=str(ROOT),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=child_setup("load"))
    phases: Dict[str, _Phase] = {}
    result = error = None
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                log.debug("load.js: %s", line.rstrip())
                continue
            if "mark" in message:
                phase = _Phase(time.monotonic())
                for name, pid in dict(pids, load=proc.pid).items():
                    phase.cpu[name] = cpu_seconds(pid)
                phase.cpu["machine"] = machine_cpu_seconds()
                phases[message["mark"]] = phase
                if message.get("wait"):
                    if on_wait is not None:
                        on_wait(message["mark"])
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
            elif "result" in message:
                result = message["result"]
            elif "error" in message:
                error = message["error"]
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # stdin of a dead process
                    pass
    if error is not None or result is None:
        raise LoadError("load.js %s failed: %s %s" % (config.get("scenario"), error,
                                                      stderr[-2000:]))
    return result, phases


def _busy(phases: Dict[str, _Phase]) -> Dict[str, float]:
    """CPU use (% of one core) of every sampled process between the start and end marks,
    plus ``other``: what the rest of the machine used meanwhile (other people's work)."""
    start, end = phases["start"], phases["end"]
    wall = max(end.wall - start.wall, 1e-9)
    busy = {name: 100.0 * (end.cpu[name] - start.cpu[name]) / wall for name in start.cpu}
    machine = busy.pop("machine")
    busy["other"] = max(0.0, machine - sum(busy.values()))
    return busy


def _cpu_metrics(busy: Dict[str, float], seconds: float, ops: float) -> Dict[str, float]:
    """server_cpu (% of a core, summed over server processes), CPU µs per operation, and the
    load generator's and the rest of the machine's CPU."""
    server = sum(value for name, value in busy.items() if name.startswith("server"))
    out = dict(server_cpu=server, server_us_per_op=server / 100.0 * seconds / ops * 1e6,
               load_cpu=busy["load"], other_cpu=busy["other"])
    if "redis" in busy:
        out["redis_cpu"] = busy["redis"]
    return out


# -- scenarios ------------------------------------------------------------------------------

#: (metric key, label, unit, higher is better: True/False, or None for context only)
Metric = tuple


@dataclass
class Scenario:
    """One benchmark: ``run(impl, sub, sizes)`` returns a dict of metrics for one run.

    Its variants are ``impl`` (or ``impl/sub`` for each of ``subs``) for every server of
    ``impls``; each round runs them all, the servers alternating within each ``sub``.
    """

    key: str
    title: str
    subs: List[str]
    #: the metrics, or a function of the sizes giving them
    metrics: object
    run: Callable[[str, str, Sizes], Dict[str, float]]
    impls: tuple = IMPLEMENTATIONS
    #: rounds at most (None: as many as the run asks for)
    max_rounds: Optional[int] = None
    #: rounds beyond the run's when it has more than one: for the scenarios whose rates swing
    #: most from one server process to the next (CPU-bound round trips)
    extra_rounds: int = 0
    note: str = ""

    def rounds(self, runs: int) -> int:
        """The rounds this scenario gets in a run of ``runs`` rounds."""
        rounds = runs + self.extra_rounds if runs > 1 else runs
        return min(rounds, self.max_rounds or rounds)

    @property
    def variants(self) -> List[str]:
        """Every variant, in order: the servers alternating inside each sub-scenario."""
        return [variant(impl, sub) for sub in self.subs for impl in self.impls]

    def metrics_for(self, sizes: Sizes) -> List[Metric]:
        """The metrics of this scenario at ``sizes``."""
        return self.metrics(sizes) if callable(self.metrics) else list(self.metrics)


def variant(impl: str, sub: str) -> str:
    """``impl/sub``, or ``impl`` when the scenario has no sub-scenarios."""
    return "%s/%s" % (impl, sub) if sub else impl


def split_variant(name: str) -> tuple:
    """``(impl, sub)`` of a variant name."""
    impl, _, sub = name.partition("/")
    return impl, sub


def _with_server(impl: str, sizes: Sizes,
                 fn: Callable[[ServerProcess], Dict[str, float]]) -> Dict[str, float]:
    with ServerProcess(impl, json_module=sizes.json) as server:
        return fn(server)


def _timed(result: dict, phases: Dict[str, _Phase], ops_key: str = "ops") -> Dict[str, float]:
    if not result[ops_key]:
        raise LoadError("no round trip was answered in the timed phase")
    out = dict(rate=result["rate"])
    for key in ("p50_ms", "p99_ms", "mb_per_s"):
        if result.get(key) is not None:
            out[key] = result[key]
    out.update(_cpu_metrics(_busy(phases), result["seconds"], result[ops_key]))
    return out


def roundtrips(impl: str, kind: str, sizes: Sizes) -> Dict[str, float]:
    """``rt_clients`` websocket clients, each keeping ``rt_inflight`` ``echo`` or ``ack``
    emits in flight for ``rt_seconds`` (after ``rt_warmup_s`` of the same)."""
    def measure(server: ServerProcess) -> Dict[str, float]:
        result, phases = run_load(
            dict(scenario="roundtrip", urls=[server.url], clients=sizes.rt_clients,
                 inflight=sizes.rt_inflight, kind=kind, seconds=sizes.rt_seconds,
                 warmup_s=sizes.rt_warmup_s, client=sizes.client), {"server": server.pid})
        return _timed(result, phases)
    return _with_server(impl, sizes, measure)


def _fanout(urls: List[str], pids: Dict[str, int], clients: int, messages: int,
            warmup: int, client: str, mode: str = "burst") -> Dict[str, float]:
    result, phases = run_load(
        dict(scenario="fanout", urls=urls, clients=clients, messages=messages, warmup=warmup,
             client=client, mode=mode), pids)
    out = dict(rate=result["rate"],
               **_cpu_metrics(_busy(phases), result["seconds"], result["deliveries"]))
    if mode == "lockstep":
        out.update(round_p50_ms=result["round_p50_ms"], round_p99_ms=result["round_p99_ms"])
    return out


def broadcast_fanout(impl: str, mode: str, sizes: Sizes) -> Dict[str, float]:
    """``fanout_clients`` clients in one room; one more client emits ``bcast``: all messages
    at once (``burst``) or each once the previous one reached everyone (``lockstep``)."""
    messages = sizes.fanout_messages if mode == "burst" else sizes.fanout_lockstep_messages
    return _with_server(impl, sizes, lambda server: _fanout(
        [server.url], {"server": server.pid}, sizes.fanout_clients, messages,
        sizes.fanout_warmup, sizes.client, mode))


def connection_rate(impl: str, transport: str, sizes: Sizes) -> Dict[str, float]:
    """connect + disconnect, ``connect_concurrency`` clients at a time."""
    total = {"websocket": sizes.connect_ws, "polling": sizes.connect_polling,
             "polling-keepalive": sizes.connect_keepalive}[transport]

    def measure(server: ServerProcess) -> Dict[str, float]:
        result, phases = run_load(
            dict(scenario="connect", urls=[server.url], connections=total,
                 concurrency=sizes.connect_concurrency, transports=[transport.split("-")[0]],
                 keep_alive=transport.endswith("keepalive"), client=sizes.client),
            {"server": server.pid})
        return dict(rate=result["rate"],
                    **_cpu_metrics(_busy(phases), result["seconds"], result["connections"]))
    return _with_server(impl, sizes, measure)


def polling_roundtrips(impl: str, _sub: str, sizes: Sizes) -> Dict[str, float]:
    """``polling_clients`` long-polling clients on keep-alive connections, each with one
    ``ack`` emit in flight (POSTed; the answer comes with the pending GET)."""
    def measure(server: ServerProcess) -> Dict[str, float]:
        result, phases = run_load(
            dict(scenario="polling", urls=[server.url], clients=sizes.polling_clients,
                 seconds=sizes.polling_seconds, warmup_s=sizes.polling_warmup_s,
                 keep_alive=True, client="lean"), {"server": server.pid})
        return _timed(result, phases)
    return _with_server(impl, sizes, measure)


#: descriptors a process keeps besides its connections (listening socket, stdio, pipes...)
_SPARE_DESCRIPTORS = 200


def idle_levels(sizes: Sizes) -> List[int]:
    """The idle levels that fit under the descriptor limit (the largest one lowered)."""
    cap = descriptor_limit() - _SPARE_DESCRIPTORS
    return sorted({min(level, cap) for level in sizes.idle_levels})


def idle_memory(impl: str, _sub: str, sizes: Sizes) -> Dict[str, float]:
    """RSS growth of the server per idle websocket connection at each of ``idle_levels``,
    and the rate connections were set up (held open) from the first level to the second."""
    levels = idle_levels(sizes)

    def measure(server: ServerProcess) -> Dict[str, float]:
        rss: Dict[str, int] = {}

        def on_wait(mark: str) -> None:
            time.sleep(0.5)  # let the last handshakes settle
            rss[mark] = server.rss_kib()

        result, _ = run_load(dict(scenario="idle", urls=[server.url], levels=levels,
                                  concurrency=50, warmup=50, client=sizes.client),
                             {"server": server.pid}, on_wait=on_wait, timeout=240.0)
        out = dict(baseline_mib=rss["baseline"] / 1024.0)
        for step in result["levels"]:
            count = step["clients"]
            out["kib_per_conn_%d" % count] = (rss["level-%d" % count] - rss["baseline"]) / count
        if len(result["levels"]) >= 2:
            first, second = result["levels"][:2]
            out["setup_rate"] = (second["clients"] - first["clients"]) / second["seconds"]
        if result.get("error"):
            log.warning("%s idle: stopped %s (%s connections held)", impl, result["error"],
                        result["reached"])
        if result["alive"] != result["reached"]:
            log.warning("%s idle: %s of %s connections still open at the end", impl,
                        result["alive"], result["reached"])
        return out
    return _with_server(impl, sizes, measure)


def _idle_metrics(sizes: Sizes) -> List[Metric]:
    levels = idle_levels(sizes)
    out: List[Metric] = [("kib_per_conn_%d" % level,
                          "RSS per idle websocket, {:,} open".format(level), "KiB", False)
                         for level in levels]
    if len(levels) >= 2:
        out.append(("setup_rate", "websocket connections set up/s, held open "
                    "({:,} → {:,})".format(levels[0], levels[1]), "/s", True))
    out.append(("baseline_mib", "RSS before connecting", "MiB", False))
    return out


def large_payload(impl: str, kind: str, sizes: Sizes) -> Dict[str, float]:
    """One websocket client, sequential ``echo`` round trips of a 1 MiB binary argument
    (``binary``) or a 64 KiB string (``text``)."""
    size = sizes.binary_size if kind == "binary" else sizes.text_size

    def measure(server: ServerProcess) -> Dict[str, float]:
        result, phases = run_load(
            dict(scenario="large", urls=[server.url], kind=kind, size=size,
                 seconds=sizes.large_seconds, min_count=sizes.large_min_count,
                 warmup=sizes.large_warmup, client="lean"), {"server": server.pid})
        return _timed(result, phases)
    return _with_server(impl, sizes, measure)


def redis_fanout(impl: str, nodes: str, sizes: Sizes) -> Dict[str, float]:
    """Broadcast fan-out through the Redis adapter: ``N`` server processes share a room."""
    count = int(nodes.split()[0])
    with RedisProcess() as redis:
        servers: List[ServerProcess] = []
        try:
            for _ in range(count):
                servers.append(ServerProcess(impl, redis_url=redis.url, json_module=sizes.json))
            pids = {"server%d" % i: s.pid for i, s in enumerate(servers)}
            pids["redis"] = redis.pid
            return _fanout([s.url for s in servers], pids, sizes.redis_clients,
                           sizes.redis_messages, sizes.fanout_warmup, sizes.client)
        finally:
            for server in servers:
                server.stop()


def _cpu(op: str) -> List[Metric]:
    return [("server_us_per_op", "server CPU per %s" % op, "µs", False),
            ("server_cpu", "server CPU", "%", None),
            ("load_cpu", "load generator CPU", "%", None),
            ("other_cpu", "other processes' CPU", "%", None)]


_LATENCY = [("p50_ms", "p50 latency", "ms", False), ("p99_ms", "p99 latency", "ms", False)]

SCENARIOS: List[Scenario] = [
    Scenario("roundtrip", "(1) echo and ack round trips over websocket", ["echo", "ack"],
             [("rate", "round trips/s", "/s", True)] + _LATENCY + _cpu("round trip"),
             roundtrips, extra_rounds=2),
    Scenario("fanout", "(2) broadcast fan-out to one room", ["burst", "lockstep"],
             [("rate", "deliveries/s", "/s", True),
              ("round_p50_ms", "p50 emit → last delivery", "ms", False),
              ("round_p99_ms", "p99 emit → last delivery", "ms", False)] + _cpu("delivery"),
             broadcast_fanout),
    Scenario("connect", "(3) connection setup (connect + disconnect)",
             ["websocket", "polling", "polling-keepalive"],
             [("rate", "connections/s", "/s", True)] + _cpu("connection"), connection_rate),
    Scenario("polling", "(4) long-polling round trips", [""],
             [("rate", "round trips/s", "/s", True)] + _LATENCY + _cpu("round trip"),
             polling_roundtrips, extra_rounds=2),
    Scenario("idle", "(5) memory per idle websocket connection", [""], _idle_metrics,
             idle_memory, max_rounds=1,
             note="One round (a run holds up to 19,000 connections for ~20 s per server): "
                  "memory does not depend on the machine's load; the set-up rate does, and "
                  "comes from that one run."),
    Scenario("large", "(6) large payload round trips over websocket", ["binary", "text"],
             [("rate", "round trips/s", "/s", True), ("p50_ms", "p50 latency", "ms", False),
              ("mb_per_s", "MB/s (both ways)", "MB/s", True)] + _cpu("round trip"),
             large_payload),
    Scenario("redis", "(7) broadcast fan-out through Redis", ["1 node", "2 nodes"],
             [("rate", "deliveries/s", "/s", True),
              ("server_us_per_op", "servers' CPU per delivery", "µs", False),
              ("server_cpu", "servers' CPU (sum)", "%", None),
              ("redis_cpu", "redis CPU", "%", None), ("load_cpu", "load generator CPU", "%", None),
              ("other_cpu", "other processes' CPU", "%", None)],
             redis_fanout, impls=tuple(i for i in IMPLEMENTATIONS if i != "node"),
             note="The node server is left out: tests/interop has no Redis adapter for it."),
]

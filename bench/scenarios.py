"""The benchmark scenarios: each starts fresh server process(es), drives them with
``bench/load.js`` (socket.io-client@4 on node) and returns one run's measurements.

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

from servers import ROOT, RedisProcess, ServerProcess, cpu_seconds

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

    ack_clients: int = 50
    ack_count: int = 400
    ack_warmup: int = 20
    fanout_clients: int = 500
    fanout_messages: int = 1000
    fanout_lockstep_messages: int = 200
    fanout_warmup: int = 10
    connect_ws: int = 1000
    connect_polling: int = 500
    connect_keepalive: int = 100
    connect_concurrency: int = 10
    idle_clients: int = 1000
    redis_clients: int = 500
    redis_messages: int = 400
    #: client of the rate scenarios (1, 2, 3, 5): "lean" or "sio" (socket.io-client)
    client: str = "lean"
    #: JSON library forced on both servers ("stdlib", "orjson"), or None for their defaults
    json: Optional[str] = None

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(ack_clients=20, ack_count=200, ack_warmup=20, fanout_clients=200,
                   fanout_messages=300, fanout_lockstep_messages=100, connect_ws=200,
                   connect_polling=100, connect_keepalive=40,
                   idle_clients=300, redis_clients=200, redis_messages=200)


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
                            stderr=subprocess.PIPE, text=True)
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


@dataclass
class Scenario:
    """One benchmark: ``run(variant, sizes)`` returns a dict of metrics for one run."""

    key: str
    title: str
    variants: List[str]
    #: (metric key, label, unit, higher is better)
    metrics: List[tuple]
    run: Callable[[str, Sizes], Dict[str, float]]
    note: str = ""


def _with_server(impl: str, sizes: Sizes,
                 fn: Callable[[ServerProcess], Dict[str, float]]) -> Dict[str, float]:
    with ServerProcess(impl, json_module=sizes.json) as server:
        return fn(server)


def ack_roundtrip(impl: str, sizes: Sizes) -> Dict[str, float]:
    """N websocket clients, each emitting ``ack`` and awaiting the answer, in a loop."""
    def measure(server: ServerProcess) -> Dict[str, float]:
        result, phases = run_load(
            dict(scenario="ack", urls=[server.url], clients=sizes.ack_clients,
                 acks=sizes.ack_count, warmup=sizes.ack_warmup, client=sizes.client),
            {"server": server.pid})
        return dict(rate=result["rate"], p50_ms=result["p50_ms"], p99_ms=result["p99_ms"],
                    **_cpu_metrics(_busy(phases), result["seconds"], result["acks"]))
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


def broadcast_fanout(variant: str, sizes: Sizes) -> Dict[str, float]:
    """``fanout_clients`` clients in one room; one more client emits ``bcast``: all messages
    at once (``burst``) or each once the previous one reached everyone (``lockstep``)."""
    impl, mode = variant.split("/")
    messages = sizes.fanout_messages if mode == "burst" else sizes.fanout_lockstep_messages
    return _with_server(impl, sizes, lambda server: _fanout(
        [server.url], {"server": server.pid}, sizes.fanout_clients, messages,
        sizes.fanout_warmup, sizes.client, mode))


def connection_rate(variant: str, sizes: Sizes) -> Dict[str, float]:
    """connect + disconnect, ``connect_concurrency`` clients at a time."""
    impl, transport = variant.split("/")
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


def idle_memory(impl: str, sizes: Sizes) -> Dict[str, float]:
    """RSS growth of the server for ``idle_clients`` idle websocket connections."""
    def measure(server: ServerProcess) -> Dict[str, float]:
        rss: Dict[str, int] = {}

        def on_wait(mark: str) -> None:
            time.sleep(0.5)  # let the last handshakes settle
            rss[mark] = server.rss_kib()

        result, _ = run_load(dict(scenario="idle", urls=[server.url], clients=sizes.idle_clients,
                                  concurrency=50, warmup=50), {"server": server.pid},
                             on_wait=on_wait)
        if result["alive"] != sizes.idle_clients:
            raise LoadError("only %s of %s idle clients stayed connected"
                            % (result["alive"], sizes.idle_clients))
        return dict(kib_per_conn=(rss["ready"] - rss["baseline"]) / sizes.idle_clients,
                    baseline_mib=rss["baseline"] / 1024.0)
    return _with_server(impl, sizes, measure)


def redis_fanout(variant: str, sizes: Sizes) -> Dict[str, float]:
    """Broadcast fan-out through the Redis adapter: ``N`` server processes share a room."""
    impl, nodes = variant.split("/")
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


def _cpu(op: str) -> List[tuple]:
    return [("server_us_per_op", "server CPU per %s" % op, "µs", False),
            ("server_cpu", "server CPU", "%", None),
            ("load_cpu", "load generator CPU", "%", None),
            ("other_cpu", "other processes' CPU", "%", None)]


SCENARIOS: List[Scenario] = [
    Scenario("ack", "(1) ack round-trip over websocket", ["ours", "theirs"],
             [("rate", "acks/s", "/s", True), ("p50_ms", "p50 latency", "ms", False),
              ("p99_ms", "p99 latency", "ms", False)] + _cpu("ack"),
             ack_roundtrip),
    Scenario("fanout", "(2) broadcast fan-out to one room",
             ["ours/burst", "theirs/burst", "ours/lockstep", "theirs/lockstep"],
             [("rate", "deliveries/s", "/s", True),
              ("round_p50_ms", "p50 emit → last delivery", "ms", False),
              ("round_p99_ms", "p99 emit → last delivery", "ms", False)] + _cpu("delivery"),
             broadcast_fanout),
    Scenario("connect", "(3) connection setup (connect + disconnect)",
             ["ours/websocket", "theirs/websocket", "ours/polling", "theirs/polling",
              "ours/polling-keepalive", "theirs/polling-keepalive"],
             [("rate", "connections/s", "/s", True)] + _cpu("connection"), connection_rate),
    Scenario("idle", "(4) memory per idle websocket connection", ["ours", "theirs"],
             [("kib_per_conn", "RSS per connection", "KiB", False),
              ("baseline_mib", "RSS before connecting", "MiB", False)], idle_memory),
    Scenario("redis", "(5) broadcast fan-out through Redis",
             ["ours/1 node", "theirs/1 node", "ours/2 nodes", "theirs/2 nodes"],
             [("rate", "deliveries/s", "/s", True),
              ("server_us_per_op", "servers' CPU per delivery", "µs", False),
              ("server_cpu", "servers' CPU (sum)", "%", None),
              ("redis_cpu", "redis CPU", "%", None), ("load_cpu", "load generator CPU", "%", None),
              ("other_cpu", "other processes' CPU", "%", None)],
             redis_fanout),
]

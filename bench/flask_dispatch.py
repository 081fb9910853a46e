"""flask_sio's handler path against sio_core's: echo and ack round trips over websockets.

    python bench/flask_dispatch.py                        # the working tree, 5 rounds
    python bench/flask_dispatch.py --tree old=/tmp/old --tree new=.   # A/B, alternated
    python bench/flask_dispatch.py --in-process           # the handler path alone

Each round starts, for every tree (a source checkout: its ``sio_core`` and ``flask_sio``
are imported through ``PYTHONPATH``) and each server (``sio_core`` and ``flask_sio`` as
``bench/servers.py`` builds them, with the same handlers), a server process on 127.0.0.1
and runs ``bench/load.js``'s ``roundtrip`` scenario against it (``--clients`` websocket
clients, each keeping ``--inflight`` emits in flight for ``--seconds``), once with ``echo``
emits (answered by an ``echo`` event) and once with ``ack`` emits. The order of the trees
alternates from round to round. Printed: per tree, server and kind, the median rate and
the median server CPU time per round trip, and the ratio flask_sio/sio_core of each tree
(rates, and CPU per round trip inverted).

``--in-process`` leaves the network out: it builds both servers in this process (the
handlers of ``bench/servers.py``), connects ``sio_core.testing.TestClient`` to each and
feeds the server-side socket ``echo`` and ``ack`` events directly (``Socket._run_event``,
what a transport's reader ends in), timing ``--events`` of them with ``time.process_time``
per repetition. Printed: median µs per event of each server and kind, the difference,
and the ratio flask_sio/sio_core of that part of the work. ``--profile`` prints the
flask_sio server's cProfile of one more repetition per kind; ``--bytecodes N`` counts the
bytecodes each server runs per event (``sys.settrace`` with opcode events: the same on a
loaded machine as on a quiet one) and lists flask_sio's N busiest functions.
"""
import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from servers import cpu_seconds, free_port, wait_for_port

__all__ = ["run_round", "build_in_process", "time_in_process", "main"]

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


# -- in process -----------------------------------------------------------------------------


def build_in_process(server: str) -> Any:
    """``server`` (``sio_core`` or ``flask_sio``) with the benchmark handlers, not serving:
    its ``sio_core`` server (a ``ServerCore``)."""
    import servers

    if server == "sio_core":
        return servers.build_sio_core("127.0.0.1", 0, None, "", None).application
    import flask

    from flask_sio import SocketIO, emit, join_room
    from flask_sio.state import state_of

    app = flask.Flask("bench")
    app.config["SECRET_KEY"] = "bench"
    socketio = SocketIO(app)
    servers._flask_handlers(socketio, emit, join_room)
    return state_of(app).server


def _feed(core: Any, kind: str, events: int, around: Callable[[Callable[[], None]], None]
          ) -> None:
    """Feed ``events`` ``kind`` events to the server-side socket of a new in-memory client
    of ``core``, inside ``around(loop)`` (what the handlers send is taken from the
    session's outbox every 100 events)."""
    from sio_core.testing import TestClient

    client = TestClient(core)
    client.connect("/")
    socket = core.of("/").connected[client.sids["/"]]
    session = client.conn.session
    run = socket._run_event

    def loop() -> None:
        for number in range(events):
            run([kind, "hello", number], number if kind == "ack" else None)
            if number % 100 == 99:
                session.take()

    loop()  # warm: the socket's Flask context, caches
    around(loop)
    client.disconnect()


def time_in_process(core: Any, kind: str, events: int, profile: bool = False) -> float:
    """Server CPU µs per ``kind`` event fed to a socket of ``core``; with ``profile``,
    print the cProfile of the timed loop."""
    spent: List[float] = []

    def timed(loop: Callable[[], None]) -> None:
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.process_time()
        loop()
        spent.append(time.process_time() - start)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    _feed(core, kind, events, timed)
    return 1e6 * spent[0] / events


def count_bytecodes(core: Any, kind: str, events: int) -> Counter:
    """Bytecodes run per ``kind`` event fed to a socket of ``core``, by function
    (``file:function``): a count the machine's load does not change."""
    counts: Counter = Counter()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts["/".join(code.co_filename.rsplit("/", 2)[-2:]) + ":" + code.co_name] += 1
        return trace

    def traced(loop: Callable[[], None]) -> None:
        sys.settrace(trace)
        try:
            loop()
        finally:
            sys.settrace(None)

    _feed(core, kind, events, traced)
    return Counter({name: count / events for name, count in counts.items()})


def in_process(args: argparse.Namespace) -> None:
    """``--in-process``: the medians of ``--rounds`` repetitions per server and kind."""
    cores = {server: build_in_process(server) for server in SERVERS}
    samples: Dict[Tuple[str, str], List[float]] = {}
    for _ in range(args.rounds):
        for server in SERVERS:
            for kind in KINDS:
                samples.setdefault((server, kind), []).append(
                    time_in_process(cores[server], kind, args.events))
    for kind in KINDS:
        core = statistics.median(samples[("sio_core", kind)])
        flask = statistics.median(samples[("flask_sio", kind)])
        log.info("in process, %-4s (median of %d x %d events): sio_core %.2f µs, flask_sio "
                 "%.2f µs per event; flask_sio adds %.2f µs (%.2fx)", kind, args.rounds,
                 args.events, core, flask, flask - core, core / flask)
    if args.profile:
        for kind in KINDS:
            time_in_process(cores["flask_sio"], kind, args.events, profile=True)
    if args.bytecodes:
        for kind in KINDS:
            counts = {server: count_bytecodes(cores[server], kind, 500) for server in SERVERS}
            core, flask = (sum(counts[server].values()) for server in SERVERS)
            log.info("bytecodes per %s event: sio_core %.0f, flask_sio %.0f (%.0f more); "
                     "flask_sio's most:", kind, core, flask, flask - core)
            for name, count in counts["flask_sio"].most_common(args.bytecodes):
                log.info("  %6.1f  %s", count, name)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=[],
                        help="NAME=PATH of a source tree (repeat for A/B; default: this one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--inflight", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--in-process", action="store_true",
                        help="time the handler path in this process, without the network")
    parser.add_argument("--events", type=int, default=20000,
                        help="events per repetition with --in-process")
    parser.add_argument("--profile", action="store_true",
                        help="with --in-process: cProfile of flask_sio's handler path")
    parser.add_argument("--bytecodes", type=int, default=0, metavar="N",
                        help="with --in-process: bytecodes run per event (sys.settrace), "
                             "and flask_sio's N functions that run the most")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)  # the servers' own loggers stay quiet, as when serving
    if args.in_process:
        in_process(args)
        return
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

"""Profile one benchmark run inside the (first) server process.

    python bench/profiling.py fanout sio_core/lockstep          # cProfile, top 30 by own time
    python bench/profiling.py roundtrip flask_sio/echo --py-spy # py-spy sampling (less overhead)
    python bench/profiling.py redis "sio_core/1 node" --sort cumulative

(``ours`` and ``theirs`` still name ``sio_core`` and ``python-socketio``; the node server
cannot be profiled here.)

cProfile shows call counts and cumulative times but inflates small, frequent calls;
py-spy samples the process from outside (``py-spy record --format raw``) and the summary
gives each function's own share of the samples and its share including callees.
Everything the server did while running is included: connecting the clients, the warm-up
and the timed phase.
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import pstats
import sys
import tempfile
from typing import Dict, List, Optional

from scenarios import SCENARIOS, Sizes, split_variant, variant
from servers import ALIASES, profile_next_server

log = logging.getLogger("bench.profile")


#: leaf frames of threads that only wait (gevent's thread pool / resolver threads)
IDLE_LEAVES = ("acquire_with_timeout (gevent/_threading.py",)


def summarize_py_spy(path: str, top: int) -> List[str]:
    """Own and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: Dict[str, int] = collections.Counter()
    inclusive: Dict[str, int] = collections.Counter()
    total = idle = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            frames = [_short(frame) for frame in stack.split(";")]
            if frames[-1].startswith(IDLE_LEAVES):
                idle += count
                continue
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    if not total:
        return ["no samples"]
    lines = ["%d samples (%d more of idle helper threads left out); own%% = the function "
             "itself, incl%% = with its callees" % (total, idle),
             "%7s %7s  %s" % ("own%", "incl%", "function")]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append("%6.1f%% %6.1f%%  %s" % (100.0 * count / total,
                                              100.0 * inclusive[frame] / total, frame))
    return lines


def _short(frame: str) -> str:
    """``fn (path/to/module.py:12)`` → ``fn (module.py:12)`` with the package for ours."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    parts = where.replace(os.sep, "/").split("/")
    for anchor in ("sio_core", "socketio", "engineio", "gevent", "geventwebsocket", "redis"):
        if anchor in parts[:-1]:
            where = "/".join(parts[parts.index(anchor):])
            break
    else:
        where = parts[-1]
    return "%s (%s)" % (name, where)


def summarize_cprofile(path: str, top: int, sort: str) -> List[str]:
    """pstats' top functions."""
    import io

    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    return out.getvalue().splitlines()


def main(argv: Optional[List[str]] = None) -> int:
    keys = {s.key: s for s in SCENARIOS}
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(keys))
    parser.add_argument("variant", help="e.g. sio_core/echo, flask_sio/ack, "
                                        "sio_core/lockstep, 'sio_core/1 node'")
    parser.add_argument("--py-spy", action="store_true", help="sample with py-spy instead")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="the --quick sizes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    scenario = keys[args.scenario]
    impl, sub = split_variant(args.variant)
    args.variant = variant(ALIASES.get(impl, impl), sub)
    if args.variant not in scenario.variants or impl == "node":
        parser.error("variant must be one of %s" % ", ".join(scenario.variants))
    sizes = Sizes.quick() if args.quick else Sizes()
    mode = "py-spy" if args.py_spy else "cprofile"
    fd, path = tempfile.mkstemp(suffix=".txt" if args.py_spy else ".prof")
    os.close(fd)
    try:
        profile_next_server(mode, path)
        metrics = scenario.run(*split_variant(args.variant), sizes)
        print("%s %s (under %s): %s" % (scenario.key, args.variant, mode, ", ".join(
            "%s=%.4g" % item for item in metrics.items())))
        lines: List[str] = (summarize_py_spy(path, args.top) if args.py_spy
                            else summarize_cprofile(path, args.top, args.sort))
        print("\n".join(lines))
    finally:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

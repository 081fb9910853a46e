"""Server memory per idle websocket connection (issue 13).

A ``sio_core`` server runs in a subprocess; a load process (raw websockets on gevent, one
greenlet each, answering the server's pings) opens N connections, each connected to the
namespace ``/``, and keeps them idle. The server's RSS (VmRSS) is read after a warm-up of
50 connections that come and go, and again once all N are connected; the report is the
growth divided by N. The server also answers ``GET /_memory`` with what it holds: greenlets
(and the bytes of C stack they keep while switched out), the counts of live objects by type
(``--detail``) and, with ``--tracemalloc``, the allocation sites that grew (tracemalloc's own
overhead then inflates the RSS figures: use it for where, not for how much).

    python3 bench/memory_idle.py                          # 1,000 / 10,000 / 19,000, 3 runs each
    python3 bench/memory_idle.py --counts 2000 --runs 1 --detail --tracemalloc
    PYTHONPATH=/tmp/old python3 bench/memory_idle.py ...  # an exported commit, for A/B

Both processes raise their soft descriptor limit to the hard one; counts above it are
skipped with a note.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 50
STATS_PATH = "/_memory"


def _raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _rss_kib(pid: str = "self") -> int:
    with open("/proc/%s/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- the server process ------------------------------------------------------------------------


def serve(port: int, trace: bool) -> None:
    """The server: sio_core with one connection handler, plus the stats route."""
    from gevent import monkey

    monkey.patch_all()
    import gc
    import tracemalloc
    from collections import Counter

    import greenlet

    from sio_core import Server
    from sio_core.serving import make_server, serve_forever

    if trace:
        tracemalloc.start(12)
    io = Server(ping_interval=25.0, ping_timeout=20.0, origins="*")
    snapshots: Dict[str, Any] = {}

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        @socket.on("echo")
        def echo(*args: Any) -> None:
            socket.emit("echo", *args)

    def stats(environ: Dict[str, Any]) -> Dict[str, Any]:
        query = dict(part.partition("=")[::2] for part in environ["QUERY_STRING"].split("&")
                     if part)
        gc.collect()
        objects = gc.get_objects()
        greenlets = [o for o in objects if isinstance(o, greenlet.greenlet)]
        result: Dict[str, Any] = {
            "rss_kib": _rss_kib(), "sessions": io.engine.clients_count,
            "greenlets": len(greenlets),
            "greenlet_stack_bytes": sum(getattr(g, "_stack_saved", 0) for g in greenlets),
            "objects": len(objects),
        }
        if "detail" in query:
            counts = Counter(type(o).__qualname__ for o in objects)
            result["types"] = counts.most_common(40)
        del objects, greenlets
        if trace:
            mark = query.get("mark", "")
            snapshots[mark] = tracemalloc.take_snapshot()
            if mark != "base" and "base" in snapshots:
                diff = snapshots[mark].compare_to(snapshots["base"], "lineno")
                result["tracemalloc"] = [
                    (str(d.traceback[0]), d.size_diff, d.count_diff) for d in diff[:40]]
                result["tracemalloc_total"] = sum(d.size_diff for d in diff)
                files = snapshots[mark].compare_to(snapshots["base"], "filename")
                result["tracemalloc_files"] = [
                    (str(d.traceback[0]).rsplit(":", 1)[0], d.size_diff, d.count_diff)
                    for d in files[:20]]
        return result

    def app(environ: Dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == STATS_PATH:
            body = json.dumps(stats(environ)).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return io(environ, start_response)

    app.check_websocket = io.check_websocket  # type: ignore[attr-defined]
    server = make_server(app, "127.0.0.1", port)
    server.start()
    print("listening", flush=True)
    serve_forever(server)


# -- the load process --------------------------------------------------------------------------


def load(port: int, count: int, concurrency: int = 200) -> None:
    """Open ``count`` websocket connections, print ``connected <n>``, stay until stdin closes."""
    from gevent import monkey

    monkey.patch_all()
    import socket
    import struct

    import gevent
    from gevent.pool import Pool

    request = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "\r\n").encode()
    mask = b"\x00\x00\x00\x00"  # a zero mask: the payload goes as is

    def frame(text: bytes) -> bytes:
        return struct.pack("!BB", 0x81, 0x80 | len(text)) + mask + text

    def read_frame(rfile: Any) -> bytes:
        head = rfile.read(2)
        if len(head) < 2:
            raise EOFError
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", rfile.read(8))[0]
        return rfile.read(length)

    connected: List[Any] = []

    def open_one() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(request)
        rfile = sock.makefile("rb")
        status = rfile.readline()
        if b" 101 " not in status:
            raise RuntimeError("no upgrade: %r" % status)
        while rfile.readline() not in (b"\r\n", b""):
            pass
        if not read_frame(rfile).startswith(b"0"):
            raise RuntimeError("no open packet")
        sock.sendall(frame(b"40"))
        if not read_frame(rfile).startswith(b"40"):
            raise RuntimeError("no namespace connect")
        sock.settimeout(None)
        connected.append(sock)
        gevent.spawn(idle, sock, rfile)

    def idle(sock: Any, rfile: Any) -> None:
        try:
            while True:
                if read_frame(rfile) == b"2":
                    sock.sendall(frame(b"3"))
        except (EOFError, OSError):
            pass

    pool = Pool(concurrency)
    started = time.monotonic()
    for _ in range(count):
        pool.spawn(open_one)
    pool.join(raise_error=True)
    print("connected %d in %.1fs" % (len(connected), time.monotonic() - started), flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.read).get()  # until the driver closes stdin


# -- the driver --------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_stats(port: int, query: str = "") -> Dict[str, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", STATS_PATH + ("?" + query if query else ""))
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))


def _run_load(port: int, count: int) -> subprocess.Popen:
    proc = _spawn("--load", str(port), str(count))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("connected"):
        proc.kill()
        raise RuntimeError("the load process failed: %r" % line)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(count: int, detail: bool, trace: bool) -> Dict[str, Any]:
    """One fresh server: RSS after the warm-up, after ``count`` idle connections."""
    port = _free_port()
    server = _spawn("--serve", str(port), *(["--tracemalloc"] if trace else []))
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "listening":
            raise RuntimeError("the server did not start")
        _stop(_run_load(port, WARM_UP))
        deadline = time.monotonic() + 30
        while _get_stats(port)["sessions"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the warm-up's sessions close on their own
        base = _get_stats(port, "mark=base" + ("&detail=1" if detail else ""))
        loader = _run_load(port, count)
        try:
            time.sleep(1.0)  # the last handshakes' requests finish
            ready = _get_stats(port, "mark=ready" + ("&detail=1" if detail else ""))
        finally:
            _stop(loader)
        if ready["sessions"] != count:
            raise RuntimeError("%s sessions open, not %d" % (ready["sessions"], count))
        result = dict(count=count, base=base, ready=ready,
                      kib_per_conn=(ready["rss_kib"] - base["rss_kib"]) / count,
                      greenlets_per_conn=(ready["greenlets"] - base["greenlets"]) / count,
                      stack_bytes_per_conn=(ready["greenlet_stack_bytes"]
                                            - base["greenlet_stack_bytes"]) / count,
                      objects_per_conn=(ready["objects"] - base["objects"]) / count)
        return result
    finally:
        server.kill()
        server.wait()


def _type_growth(result: Dict[str, Any]) -> List[str]:
    before = dict(result["base"].get("types", []))
    lines = []
    for name, n in result["ready"].get("types", []):
        grown = (n - before.get(name, 0)) / result["count"]
        if grown >= 0.5:
            lines.append("    %-28s %6.2f per connection" % (name, grown))
    return lines


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1000,10000,19000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--detail", action="store_true", help="live objects by type")
    parser.add_argument("--tracemalloc", action="store_true", help="allocation sites that grew")
    parser.add_argument("--json", action="store_true", help="print every run as JSON")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    limit = _raise_fd_limit()
    if args.serve:
        serve(args.serve, args.tracemalloc)
        return
    if args.load:
        load(*args.load)
        return
    for count in (int(c) for c in args.counts.split(",")):
        if count + 100 > limit:
            print("%d connections: skipped, the descriptor limit is %d" % (count, limit))
            continue
        runs = [measure(count, args.detail, args.tracemalloc) for _ in range(args.runs)]
        if args.json:
            print(json.dumps(runs))
        kib = [r["kib_per_conn"] for r in runs]
        last = runs[-1]
        print("%6d idle websockets: %.1f KiB per connection (median of %d: %s); RSS before "
              "%.1f MiB; %.2f greenlets, %.0f bytes of saved greenlet stack, %.1f objects "
              "per connection" % (
                  count, statistics.median(kib), len(kib), ", ".join("%.1f" % k for k in kib),
                  last["base"]["rss_kib"] / 1024, last["greenlets_per_conn"],
                  last["stack_bytes_per_conn"], last["objects_per_conn"]))
        if args.detail:
            print("\n".join(_type_growth(last)))
        if args.tracemalloc:
            print("    tracemalloc: %.1f KiB per connection in all" % (
                last["ready"].get("tracemalloc_total", 0) / count / 1024))
            for where, size, n in last["ready"].get("tracemalloc_files", []):
                print("    %8.1f B/conn %6.2f blocks/conn  %s (file)" % (
                    size / count, n / count, where))
            for where, size, n in last["ready"].get("tracemalloc", [])[:40]:
                print("    %8.1f B/conn %6.2f blocks/conn  %s" % (
                    size / count, n / count, where))


if __name__ == "__main__":
    main()

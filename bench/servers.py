"""The servers under test, each in a subprocess of its own on a free 127.0.0.1 port.

Five implementations with the same handlers:

- ``sio_core``: ``sio_core.Server`` on ``sio_core.serving.make_server``, served by its
  ``serve_forever`` (gevent, monkey-patched, pywsgi + gevent-websocket);
- ``flask_sio``: a Flask app with ``flask_sio.SocketIO``, served by ``SocketIO.run``;
- ``python-socketio``: ``socketio.Server(async_mode="gevent")`` in ``socketio.WSGIApp``,
  served by ``gevent.pywsgi.WSGIServer`` with geventwebsocket's ``WebSocketHandler``;
- ``flask-socketio``: a Flask app with Flask-SocketIO (``async_mode="gevent"``), served the
  same way (as ``SocketIO.run`` does with gevent-websocket installed);
- ``node``: the socket.io@4 server of tests/interop on node (``bench/node_server.js``).

Handlers (namespace ``/``):

- ``echo(*args)``: emit ``echo`` back to the sender with the same arguments;
- ``ack(*args)``: acknowledge with the same arguments;
- ``join(room)``: join ``room``, acknowledge with ``"ok"``;
- ``bcast(room, payload)``: emit ``msg`` with ``payload`` to everyone in ``room``.

Run one by hand: ``python bench/servers.py sio_core --port 8000 [--redis redis://...]``
(``ours`` and ``theirs`` are the older names of ``sio_core`` and ``python-socketio``).
As a library, the benchmark driver uses :class:`ServerProcess` and :class:`RedisProcess`;
every process it starts gets the highest descriptor limit allowed (``RLIMIT_NOFILE``) and,
with :func:`pin`, a CPU of its own.
"""
if __name__ == "__main__":  # the server process: patch before anything else is imported
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, List, Optional  # noqa: E402

__all__ = ["IMPLEMENTATIONS", "LABELS", "ALIASES", "ServerProcess", "RedisProcess", "free_port",
           "wait_for_port", "rss_kib", "cpu_seconds", "pin", "child_setup"]

log = logging.getLogger("bench.servers")

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
NODE_SERVER = BENCH / "node_server.js"
#: the servers compared, in the order every round runs them
IMPLEMENTATIONS = ("sio_core", "flask_sio", "python-socketio", "flask-socketio", "node")
#: how the report names them
LABELS = {"sio_core": "sio_core", "flask_sio": "flask_sio", "python-socketio": "python-socketio",
          "flask-socketio": "Flask-SocketIO", "node": "Node socket.io"}
#: older command-line names
ALIASES = {"ours": "sio_core", "theirs": "python-socketio"}
#: the same engine settings for every server
PING_INTERVAL = 25.0
PING_TIMEOUT = 20.0
#: room for the 1 MiB binary event of the large-payload scenario
MAX_HTTP_BUFFER_SIZE = 2_000_000
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the applications (built inside the server process) ------------------------------------


def build_sio_core(host: str, port: int, redis_url: Optional[str], channel: str,
                   json_module: Optional[str]) -> object:
    """sio_core's server with the benchmark handlers, serving on ``host:port``."""
    from sio_core import Server
    from sio_core.serving import make_server, serve_forever

    options = dict(ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
                   max_http_buffer_size=MAX_HTTP_BUFFER_SIZE, origins="*")
    if redis_url:
        from sio_core.adapter.redis import RedisAdapter

        options["adapter"] = RedisAdapter.factory(url=redis_url, channel=channel)
    if json_module == "stdlib":
        import json

        options["json"] = json
    io = Server(**options)

    @io.on("connection")
    def on_connection(socket):
        @socket.on("echo")
        def echo(*args):
            socket.emit("echo", *args)

        @socket.on("ack")
        def ack(*args):
            return args[:-1] if args and callable(args[-1]) else None

        @socket.on("join")
        def join(room, *_ack):
            socket.join(room)
            return "ok"

        @socket.on("bcast")
        def bcast(room, payload, *_ack):
            io.to(room).emit("msg", payload)

    server = make_server(io, host, port)
    return _Runner(lambda: serve_forever(server), io)


#: the older name (bench/what_if.py and debug_cost.py of older commits build "ours")
build_ours = build_sio_core


class _Runner:
    """``serve_forever()`` for a server that the library's own function serves."""

    def __init__(self, run: Callable[[], None], application: object = None) -> None:
        self._run = run
        #: the WSGI application served
        self.application = application

    def serve_forever(self) -> None:
        self._run()


def build_flask_sio(host: str, port: int, redis_url: Optional[str], channel: str,
                    json_module: Optional[str]) -> object:
    """A Flask app with flask_sio and the benchmark handlers, served by ``SocketIO.run``."""
    import flask

    from flask_sio import SocketIO, emit, join_room

    app = flask.Flask("bench")
    app.config["SECRET_KEY"] = "bench"
    options = dict(ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
                   max_http_buffer_size=MAX_HTTP_BUFFER_SIZE, cors_allowed_origins="*")
    if redis_url:
        options.update(message_queue=redis_url, channel=channel)
    if json_module == "stdlib":
        import json

        options["json"] = json
    socketio = SocketIO(app, **options)
    _flask_handlers(socketio, emit, join_room)
    return _Runner(lambda: socketio.run(app, host=host, port=port, debug=False,
                                             use_reloader=False, log_output=False))


def _flask_handlers(socketio, emit, join_room) -> None:
    """The benchmark handlers as a Flask-SocketIO application writes them."""
    @socketio.on("echo")
    def echo(*args):
        emit("echo", args)  # a lone tuple: several arguments, in Flask-SocketIO's API

    @socketio.on("ack")
    def ack(*args):
        return args

    @socketio.on("join")
    def join(room):
        join_room(room)
        return "ok"

    @socketio.on("bcast")
    def bcast(room, payload):
        emit("msg", payload, to=room)


def build_flask_socketio(host: str, port: int, redis_url: Optional[str], channel: str,
                         json_module: Optional[str]) -> object:
    """A Flask app with Flask-SocketIO (gevent) and the benchmark handlers, on pywsgi with
    gevent-websocket's handler (what ``SocketIO.run`` does when gevent-websocket is there)."""
    import flask
    from flask_socketio import SocketIO, emit, join_room
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    app = flask.Flask("bench")
    app.config["SECRET_KEY"] = "bench"
    options = dict(async_mode="gevent", ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
                   max_http_buffer_size=MAX_HTTP_BUFFER_SIZE, cors_allowed_origins="*")
    if redis_url:
        options.update(message_queue=redis_url, channel=channel)
    if json_module == "orjson":
        options["json"] = _OrjsonModule()
    socketio = SocketIO(app, **options)
    _flask_handlers(socketio, emit, join_room)
    return pywsgi.WSGIServer((host, port), app, handler_class=WebSocketHandler, log=None)


def build_python_socketio(host: str, port: int, redis_url: Optional[str], channel: str,
                          json_module: Optional[str]) -> object:
    """python-socketio's gevent server with the benchmark handlers, serving on ``host:port``."""
    import socketio
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    options = dict(async_mode="gevent", cors_allowed_origins="*", ping_interval=PING_INTERVAL,
                   ping_timeout=PING_TIMEOUT, max_http_buffer_size=MAX_HTTP_BUFFER_SIZE)
    if redis_url:
        options["client_manager"] = socketio.RedisManager(redis_url, channel=channel)
    if json_module == "orjson":
        options["json"] = _OrjsonModule()
    sio = socketio.Server(**options)

    @sio.on("echo")
    def echo(sid, *args):
        sio.emit("echo", args, to=sid)

    @sio.on("ack")
    def ack(sid, *args):
        return args

    @sio.on("join")
    def join(sid, room):
        sio.enter_room(sid, room)
        return "ok"

    @sio.on("bcast")
    def bcast(sid, room, payload):
        sio.emit("msg", payload, to=room)

    app = socketio.WSGIApp(sio)
    return pywsgi.WSGIServer((host, port), app, handler_class=WebSocketHandler, log=None)


build_theirs = build_python_socketio

#: the Python servers' builders; ``node`` runs bench/node_server.js instead
BUILDERS: Dict[str, Callable[..., object]] = {
    "sio_core": build_sio_core, "flask_sio": build_flask_sio,
    "python-socketio": build_python_socketio, "flask-socketio": build_flask_socketio}


class _OrjsonModule:
    """orjson with the ``json`` module's string interface, for python-socketio's ``json=``."""

    def __init__(self) -> None:
        import json

        import orjson

        self._orjson, self._json = orjson, json

    def dumps(self, value, **kwargs):
        if kwargs:
            return self._json.dumps(value, **kwargs)
        return self._orjson.dumps(value).decode("utf-8")

    def loads(self, text, **kwargs):
        return self._orjson.loads(text)


def serve(argv: Optional[List[str]] = None) -> None:
    """Entry point of a Python server process."""
    parser = argparse.ArgumentParser(description="a benchmark server")
    parser.add_argument("impl", choices=sorted(BUILDERS) + sorted(ALIASES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default=None, help="Redis URL: share rooms over Redis")
    parser.add_argument("--channel", default="bench", help="Redis channel prefix")
    parser.add_argument("--json", default=None, choices=("stdlib", "orjson"),
                        help="force a JSON library (default: each server's own default)")
    parser.add_argument("--profile", default=None,
                        help="run under cProfile; write the stats here on SIGTERM")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    build = BUILDERS[ALIASES.get(args.impl, args.impl)]
    server = build(args.host, args.port, args.redis, args.channel, args.json)
    if args.profile:
        _profile_until_sigterm(args.profile)
    server.serve_forever()


def _profile_until_sigterm(path: str) -> None:
    import cProfile
    import signal

    import gevent

    profiler = cProfile.Profile()

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(path)
        os._exit(0)

    gevent.signal_handler(signal.SIGTERM, dump)
    profiler.enable()


# -- process management (the driver side) -------------------------------------------------

#: role ("server", "load") -> the CPU its processes run on; empty when not pinned
_CPUS: Dict[str, int] = {}


def pin(enabled: bool = True) -> bool:
    """Run servers (and redis) on CPU 0 and load generators on CPU 1 from now on, as
    ``taskset`` would; a no-op (returning False) on a machine with fewer than two CPUs."""
    _CPUS.clear()
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if enabled and {0, 1} <= set(usable):
        _CPUS.update(server=0, load=1)
    return bool(_CPUS)


def child_setup(role: str) -> Callable[[], None]:
    """A ``preexec_fn`` for a process of ``role``: the descriptor limit raised to the hard
    limit (idle-memory runs hold up to 19,000 connections), and the CPU of :func:`pin`."""
    cpu = _CPUS.get(role)

    def setup() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
    return setup


def descriptor_limit() -> int:
    """The hard RLIMIT_NOFILE of this process (what children can raise theirs to)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 << 20 if hard == resource.RLIM_INFINITY else hard


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Block until something accepts connections on ``port`` (or ``proc`` died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)  # polling a port: there is no event to wait for
    raise TimeoutError("nothing listens on port %d after %.0fs" % (port, timeout))


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` of /proc/<pid>/status)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used by ``pid`` so far, in seconds."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rpartition(")")[2].split()
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class _Process:
    """A subprocess whose output goes to a temporary log file."""

    name = "process"

    def __init__(self) -> None:
        self.proc: Optional[subprocess.Popen] = None
        self._log = tempfile.TemporaryFile()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self, cmd: List[str], env: Optional[dict] = None) -> None:
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=child_setup("server"))

    def output(self) -> str:
        """What the process wrote so far (the last 4 KB)."""
        self._log.seek(0)
        return self._log.read()[-4096:].decode("utf-8", "replace")

    def stop(self) -> None:
        """Terminate (then kill) the process; log its output if it failed on its own."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            log.warning("%s exited early with %s:\n%s", self.name, self.proc.returncode,
                        self.output())
        else:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


#: set by :func:`profile_next_server`: (mode, output path) for the next server started
_next_profile: Optional[tuple] = None


def profile_next_server(mode: str, path: str) -> None:
    """Profile the next :class:`ServerProcess` started: ``cprofile`` (stats written to
    ``path`` when it stops) or ``py-spy`` (``py-spy record --format raw`` into ``path``)."""
    global _next_profile
    if mode not in ("cprofile", "py-spy"):
        raise ValueError("mode must be cprofile or py-spy")
    _next_profile = (mode, path)


class ServerProcess(_Process):
    """``python bench/servers.py <impl>`` (or ``node bench/node_server.js``) on a free
    loopback port."""

    def __init__(self, impl: str, redis_url: Optional[str] = None, channel: str = "bench",
                 json_module: Optional[str] = None) -> None:
        super().__init__()
        impl = ALIASES.get(impl, impl)
        if impl not in IMPLEMENTATIONS:
            raise ValueError("impl must be one of %s" % (IMPLEMENTATIONS,))
        self.name = "%s server" % impl
        self.impl = impl
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        global _next_profile
        profile, _next_profile = _next_profile, None
        if impl == "node":
            if redis_url:
                raise ValueError("the node server has no Redis adapter here")
            cmd = ["node", str(NODE_SERVER), str(self.port), str(int(PING_INTERVAL * 1000)),
                   str(int(PING_TIMEOUT * 1000)), str(MAX_HTTP_BUFFER_SIZE)]
            profile = None
        else:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
            cmd = [sys.executable, str(Path(__file__).resolve()), impl, "--port",
                   str(self.port), "--channel", channel]
            if redis_url:
                cmd += ["--redis", redis_url]
            if json_module:
                cmd += ["--json", json_module]
            if profile and profile[0] == "cprofile":
                cmd += ["--profile", profile[1]]
        self._spawn(cmd, env)
        self._spy: Optional[subprocess.Popen] = None
        try:
            wait_for_port(self.port, self.proc)
        except BaseException:
            log.error("%s did not start:\n%s", self.name, self.output())
            self.stop()
            raise
        if profile and profile[0] == "py-spy":
            self._spy = subprocess.Popen(
                ["py-spy", "record", "--format", "raw", "--rate", "250", "-o", profile[1],
                 "-p", str(self.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy attaches
        log.debug("%s pid %d on %s", self.name, self.pid, self.url)

    def stop(self) -> None:
        """Stop the server (and wait for its py-spy to write its profile)."""
        super().stop()
        spy = getattr(self, "_spy", None)
        if spy is not None:
            spy.wait(timeout=30)
            self._spy = None

    def rss_kib(self) -> int:
        """The server's resident set size in KiB."""
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        """CPU seconds the server used so far."""
        return cpu_seconds(self.pid)


class RedisProcess(_Process):
    """A redis-server on a free loopback port, without persistence."""

    name = "redis-server"

    def __init__(self) -> None:
        super().__init__()
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self._spawn([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no"])
        wait_for_port(self.port, self.proc)

    def cpu_seconds(self) -> float:
        """CPU seconds redis used so far."""
        return cpu_seconds(self.pid)


if __name__ == "__main__":
    serve()

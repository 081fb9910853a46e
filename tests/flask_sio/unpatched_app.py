"""A Flask-SocketIO-style app that never calls ``gevent.monkey.patch_all()``: it leaves the
choice to ``SocketIO.run()``, for tests/flask_sio/test_run_patching.py.

Its background task waits with the standard ``time.sleep``, which only yields to other
clients once gevent has patched ``time``: unpatched, the first tick freezes the server.

``--thread`` starts a thread and ``--import NAME`` imports a module before ``run()``:
things that make patching late unsafe; ``--no-patch`` runs with ``monkey_patch=False``.

Run: python tests/flask_sio/unpatched_app.py --port N [--thread] [--import urllib3]
"""
import argparse
import importlib
import logging
import sys
import threading
import time

from flask import Flask
from gevent.monkey import is_module_patched

from flask_sio import SocketIO

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--thread", action="store_true")
parser.add_argument("--import", dest="module")
parser.add_argument("--no-patch", action="store_true")
args = parser.parse_args()
logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                    format="%(levelname)s %(name)s %(message)s")
if args.module:
    importlib.import_module(args.module)
if args.thread:
    threading.Thread(target=threading.Event().wait, name="early-worker", daemon=True).start()

app = Flask(__name__)
socketio = SocketIO(app)
ticker = None
ticker_lock = threading.Lock()


def tick_forever() -> None:
    n = 0
    while True:
        time.sleep(0.05)
        n += 1
        socketio.emit("tick", n)


@socketio.on("connect")
def on_connect() -> None:
    global ticker
    with ticker_lock:
        if ticker is None:
            ticker = socketio.start_background_task(tick_forever)


@socketio.on("patched")
def on_patched() -> dict:
    return {name: is_module_patched(name) for name in ("socket", "threading", "time", "ssl")}


if __name__ == "__main__":
    socketio.run(app, port=args.port, monkey_patch=not args.no_patch)

"""sio.run(debug=True): the reloader restarts the app when its source changes."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time

from tests.helpers import ROOT, free_port, wait_for_port

APP = '''
from gevent import monkey
monkey.patch_all()
import sys
from flask import Flask
from flask_sio import SocketIO
app = Flask(__name__)
socketio = SocketIO(app)

@app.route("/")
def index():
    return "VERSION"

if __name__ == "__main__":
    socketio.run(app, port=int(sys.argv[1]), debug=True,
                 reloader_options={"interval": 0.2})
'''


def fetch(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_debug_reloader_restarts_on_change(tmp_path) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP.replace("VERSION", "one"))
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), str(port)], cwd=str(tmp_path),
                            env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_port(port, timeout=15, proc=proc)
        assert fetch(port) == "one"
        stat = script.stat()
        script.write_text(APP.replace("VERSION", "two"))
        os.utime(script, (stat.st_atime, stat.st_mtime + 5))
        seen = "one"
        deadline = time.monotonic() + 15
        while seen != "two" and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for the restart: there is no event to await
            try:
                seen = fetch(port)
            except OSError:
                pass  # the restart window: nothing listens for a moment
        assert seen == "two"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)

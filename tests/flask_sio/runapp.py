"""SocketIO.run() with keywords from the command line, for tests/flask_sio/test_run.py.

Run: python tests/flask_sio/runapp.py --port N --kwargs '{"allow_unsafe_werkzeug": true}'
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

from flask import Flask  # noqa: E402

from flask_sio import SocketIO  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app)


@app.route("/page/<name>")
def page(name: str) -> str:
    return "page " + name


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kwargs", default="{}")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.DEBUG,
                        format="%(levelname)s %(name)s %(message)s")
    socketio.run(app, port=args.port, **json.loads(args.kwargs))

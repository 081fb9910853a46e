"""The Flask chat room: join a room and talk in it, leave it; without a room, talk to everyone.

Run: python examples/flask_chat/app.py --port 5000   then open http://127.0.0.1:5000/
With REDIS_URL=redis://... in the environment, several instances act as one.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

from flask import Flask, render_template, session  # noqa: E402

from flask_sio import SocketIO, emit, join_room, leave_room, rooms  # noqa: E402
from sio_core.server.engine import default_generate_id  # noqa: E402

app = Flask(__name__)
app.config["SECRET_KEY"] = "change-me"
# REDIS_URL set: several processes share rooms and broadcasts (see examples/cluster/);
# SIO_NODE set: this node's session ids start with its name, for the load balancer's routing
NODE = os.environ.get("SIO_NODE")


def generate_id(environ):
    """A session id, tagged with this node's name when there is one."""
    return NODE + "-" + default_generate_id(environ) if NODE else default_generate_id(environ)


socketio = SocketIO(app, message_queue=os.environ.get("REDIS_URL"), generate_id=generate_id)


@app.route("/")
def index():
    """The chat page."""
    return render_template("index.html")


@socketio.on("connect")
def on_connect(auth=None):
    name = (auth or {}).get("name") or session.get("name") or "anonymous"
    session["name"] = name
    emit("status", {"text": "welcome, %s" % name})


@socketio.on("join")
def on_join(room):
    join_room(room)
    emit("status", {"text": "%s joined %s" % (session["name"], room)}, to=room)
    return sorted(rooms())


@socketio.on("leave")
def on_leave(room):
    emit("status", {"text": "%s left %s" % (session["name"], room)}, to=room)
    leave_room(room)
    return sorted(rooms())


@socketio.on("text")
def on_text(message):
    """Talk in a room when ``message`` names one, else to everyone."""
    room = message.get("room")
    payload = {"name": session["name"], "text": message.get("text", ""), "room": room}
    if room:
        emit("message", payload, to=room)
    else:
        emit("message", payload, broadcast=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    socketio.run(app, host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()

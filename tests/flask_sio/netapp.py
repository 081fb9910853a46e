"""A Flask app for the real-network tests: session identity, refusal, acks, emit from a view.

Run: python tests/flask_sio/netapp.py --port N   (or under gunicorn as tests.flask_sio.netapp:app)
Environment: ``REDIS_URL`` (a message queue) or ``REDIS_STREAMS_URL`` (a RedisStreamsAdapter).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402

from flask import Flask, request, session  # noqa: E402

from flask_sio import ConnectionRefusedError, SocketIO, call, emit  # noqa: E402

app = Flask(__name__)
app.config["SECRET_KEY"] = "network-tests"
if os.environ.get("REDIS_STREAMS_URL"):  # the streams adapter instead of a message queue
    from sio_core.adapter.redis_streams import RedisStreamsAdapter

    socketio = SocketIO(app, adapter=RedisStreamsAdapter.factory(
        url=os.environ["REDIS_STREAMS_URL"]))
else:
    socketio = SocketIO(app, message_queue=os.environ.get("REDIS_URL"))


@app.route("/login/<name>")
def login(name: str) -> str:
    session["user"] = name
    return "hello " + name


@app.route("/notify/<text>")
def notify(text: str) -> str:
    socketio.emit("notice", text)
    return "sent"


@app.route("/rooms-of/<sid>")
def rooms_of(sid: str) -> str:
    return ",".join(sorted(socketio.server.sockets.adapter.socket_rooms(sid)))


@socketio.on("connect")
def on_connect(auth=None):
    token = (auth or {}).get("token") or request.args.get("token")  # socket.io-client 2: query
    if token == "refuse":
        raise ConnectionRefusedError("go away", {"code": 42})
    if token == "refuse-plain":
        raise ConnectionRefusedError("go away")
    emit("welcome", session.get("user"))


@socketio.on("whoami")
def whoami():
    return session.get("user")


@socketio.on("echo")
def echo(*args):
    return args


@socketio.on("ask")
def ask(question):
    answer = call("question", question, timeout=5)
    emit("answered", answer)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    socketio.run(app, host=args.host, port=args.port)

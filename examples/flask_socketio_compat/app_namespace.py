"""The same page as ``app.py``, served by a class-based ``Namespace`` (``on_<event>``
methods), as in Flask-SocketIO's ``example/app_namespace.py``; no ``monkey.patch_all()``.

The namespace is ``/chat`` (``--namespace`` to change it). The background task emits
``tick`` into that namespace; ``shout`` uses the namespace's own ``emit`` (everyone in the
namespace), ``close`` its ``close_room``; ``bye`` says goodbye and disconnects the client
at once, so the goodbye must reach the page before the disconnect does.

Run: python examples/flask_socketio_compat/app_namespace.py --port 5000 --jquery PATH
then open http://127.0.0.1:5000/
"""
import logging
from threading import Lock

import _common
from flask import Flask, copy_current_request_context, render_template, request, session

from flask_sio import Namespace, SocketIO, disconnect, emit, join_room, leave_room, rooms

log = logging.getLogger(__name__)

app = Flask(__name__)
app.config["SECRET_KEY"] = "change-me"
socketio = SocketIO(app)


class Chat(Namespace):
    """Every client event of the page, as a method."""

    def __init__(self, namespace, interval):
        super().__init__(namespace)
        self.interval = interval
        self.ticker = None
        self.ticker_lock = Lock()

    def tick_forever(self):
        n = 0
        while True:
            socketio.sleep(self.interval)
            n += 1
            socketio.emit("tick", {"n": n}, namespace=self.namespace)

    def rooms_text(self):
        return "rooms: %s" % ", ".join(sorted(r for r in rooms() if r != request.sid))

    def on_connect(self):
        with self.ticker_lock:
            if self.ticker is None:
                self.ticker = socketio.start_background_task(self.tick_forever)
        emit("status", {"text": "welcome"})

    def on_disconnect(self, reason):
        log.info("client %s left: %s", request.sid, reason)

    def on_echo(self, text):
        session["events"] = session.get("events", 0) + 1
        emit("status", {"text": "echo: %s" % text})
        return session["events"]

    def on_shout(self, text):
        self.emit("status", {"text": "shout: %s" % text})

    def on_join(self, room):
        join_room(room)
        emit("status", {"text": self.rooms_text()})

    def on_leave(self, room):
        leave_room(room)
        emit("status", {"text": self.rooms_text()})

    def on_to_room(self, message):
        self.emit("status", {"text": "to %s: %s" % (message["room"], message["text"])},
                  to=message["room"])

    def on_close(self, room):
        self.emit("status", {"text": "room %s is closing" % room}, to=room)
        self.close_room(room)

    def on_ask(self, text):
        @copy_current_request_context
        def answered(answer):
            emit("status", {"text": "answered: %s" % answer})

        emit("question", text, callback=answered)

    def on_bye(self):
        emit("status", {"text": "goodbye"})
        disconnect()


@app.route("/")
def index():
    return render_template("index.html", async_mode=socketio.async_mode,
                           namespace=app.config["CHAT_NAMESPACE"], title="class namespace")


def _options(parser):
    parser.add_argument("--namespace", default="/chat")


if __name__ == "__main__":
    args = _common.parse_args(__doc__, _options)
    app.config["CHAT_NAMESPACE"] = args.namespace
    socketio.on_namespace(Chat(args.namespace, args.interval))
    _common.run(socketio, app, args)

"""A Flask-SocketIO-style app with decorator handlers, written against the same API surface
as Flask-SocketIO's ``example/app.py``: only ``flask_sio`` is imported where that one
imports ``flask_socketio``, and nothing calls ``gevent.monkey.patch_all()``.

The page (``templates/index.html``, jQuery) shows what arrives and has a form per event:

- a background task started once (``start_background_task`` under a ``threading.Lock``)
  emits ``tick`` to everyone every ``--interval`` seconds;
- ``echo`` answers the sender (and acks with the sender's count, kept in ``flask.session``);
  ``shout`` goes to everyone (``broadcast=True``);
- ``join``/``leave`` a room (the reply lists ``rooms()``), ``to_room`` emits to a room,
  ``close`` tells the room it closes and then ``close_room``\\ s it;
- ``ask`` sends the sender a ``question`` with a callback: the page's ack comes back as
  ``answered: ...``;
- ``bye`` says goodbye with a callback, and the callback disconnects the client
  (``copy_current_request_context`` + ``disconnect()``), as Flask-SocketIO's example does.

Run: python examples/flask_socketio_compat/app.py --port 5000 --jquery PATH/jquery.min.js
then open http://127.0.0.1:5000/
"""
import logging
from threading import Lock

import _common
from flask import Flask, copy_current_request_context, render_template, request, session

from flask_sio import SocketIO, close_room, disconnect, emit, join_room, leave_room, rooms

log = logging.getLogger(__name__)

app = Flask(__name__)
app.config["SECRET_KEY"] = "change-me"
socketio = SocketIO(app, logger=True, engineio_logger=True)
#: seconds between two ticks (``--interval``)
INTERVAL = 10.0
ticker = None
ticker_lock = Lock()


def tick_forever():
    """Tell every client the time has come, again and again."""
    n = 0
    while True:
        socketio.sleep(INTERVAL)
        n += 1
        socketio.emit("tick", {"n": n})


def count_event():
    """One more event from this client; the count lives in the (Socket.IO) session."""
    session["events"] = session.get("events", 0) + 1
    return session["events"]


def room_list():
    """The rooms of the sender, its own (named by its sid) left out."""
    return sorted(room for room in rooms() if room != request.sid)


@app.route("/")
def index():
    return render_template("index.html", async_mode=socketio.async_mode, namespace="/",
                           title="decorators")


@socketio.on("connect")
def on_connect():
    global ticker
    with ticker_lock:
        if ticker is None:
            ticker = socketio.start_background_task(tick_forever)
    emit("status", {"text": "welcome"})


@socketio.on("disconnect")
def on_disconnect(reason):
    log.info("client %s left: %s", request.sid, reason)


@socketio.on("echo")
def on_echo(text):
    count = count_event()
    emit("status", {"text": "echo: %s" % text})
    return count


@socketio.on("shout")
def on_shout(text):
    count_event()
    emit("status", {"text": "shout: %s" % text}, broadcast=True)


@socketio.on("join")
def on_join(room):
    join_room(room)
    emit("status", {"text": "rooms: %s" % ", ".join(room_list())})


@socketio.on("leave")
def on_leave(room):
    leave_room(room)
    emit("status", {"text": "rooms: %s" % ", ".join(room_list())})


@socketio.on("to_room")
def on_to_room(message):
    emit("status", {"text": "to %s: %s" % (message["room"], message["text"])},
         to=message["room"])


@socketio.on("close")
def on_close(room):
    emit("status", {"text": "room %s is closing" % room}, to=room)
    close_room(room)


@socketio.on("ask")
def on_ask(text):
    @copy_current_request_context
    def answered(answer):
        emit("status", {"text": "answered: %s" % answer})

    emit("question", text, callback=answered)


@socketio.on("bye")
def on_bye():
    @copy_current_request_context
    def then_disconnect(*_):
        disconnect()

    emit("status", {"text": "goodbye"}, callback=then_disconnect)


if __name__ == "__main__":
    args = _common.parse_args(__doc__)
    INTERVAL = args.interval
    _common.run(socketio, app, args)

"""The Flask session seen from HTTP routes and from Socket.IO handlers, as in Flask-SocketIO's
``example/sessions.py``, without Flask-Session or Flask-Login: a few lines below keep
sessions on the server, and "logging in" stores a user name in the session.

Two ways to run it (``--sessions``):

- ``server`` (default): sessions live in this process, the cookie only names them, and
  ``SocketIO(manage_session=False)`` lets Flask's session interface open the session for
  every event. HTTP and Socket.IO share it both ways: a value set over HTTP is seen by the
  next Socket.IO event, and one set in a Socket.IO handler by the next HTTP request.
- ``cookie``: Flask's own signed-cookie sessions with ``manage_session=True`` (the
  default). The Socket.IO connection gets a copy of the session as it was when it
  connected; changes made by its handlers stay with the connection, and changes made over
  HTTP after it connected are not seen by it (a cookie can only be written by an HTTP
  response).

Run: python examples/flask_socketio_compat/sessions.py --port 5000 --jquery PATH
then open http://127.0.0.1:5000/
"""
import secrets

import _common
from flask import Flask, jsonify, render_template, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from flask_sio import SocketIO, emit


class ServerSession(CallbackDict, SessionMixin):
    """A session whose values stay on the server; ``sid`` is what the cookie holds."""

    def __init__(self, values=None, sid=None):
        def on_update(_):
            self.modified = True

        super().__init__(values or {}, on_update)
        self.new = sid is None
        self.sid = sid or secrets.token_urlsafe(24)
        self.modified = False


class ServerSessions(SessionInterface):
    """Keeps every session in a dict of this process, keyed by a random id."""

    def __init__(self):
        self.store = {}

    def open_session(self, app, request):
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid in self.store:
            return ServerSession(self.store[sid], sid)
        return ServerSession()

    def save_session(self, app, session, response):
        if not (session.modified or session.new):
            return
        self.store[session.sid] = dict(session)
        if session.new:
            response.set_cookie(self.get_cookie_name(app), session.sid, httponly=True,
                                samesite="Lax", path=self.get_cookie_path(app))
            session.new = False


app = Flask(__name__)
app.config["SECRET_KEY"] = "change-me"
socketio = SocketIO()


def view():
    """What the session holds, as the page shows it."""
    return {"value": session.get("value", ""), "user": session.get("user") or "anonymous"}


def update(data):
    """Set the session's value, or log a user in (a name) or out (null)."""
    if "value" in data:
        session["value"] = data["value"]
    elif data.get("user"):
        session["user"] = data["user"]
    elif "user" in data:
        session.pop("user", None)


@app.route("/")
def index():
    return render_template("sessions.html", kind=app.config["SESSION_KIND"])


@app.route("/session", methods=["GET", "POST"])
def http_session():
    if request.method == "POST":
        update(request.get_json())
        return "", 204
    return jsonify(view())


@socketio.on("get-session")
def sio_get_session():
    emit("session", view())


@socketio.on("set-session")
def sio_set_session(data):
    update(data)
    return view()


def _options(parser):
    parser.add_argument("--sessions", choices=("server", "cookie"), default="server")


if __name__ == "__main__":
    args = _common.parse_args(__doc__, _options)
    app.config["SESSION_KIND"] = args.sessions
    if args.sessions == "server":
        app.session_interface = ServerSessions()
    socketio.init_app(app, manage_session=args.sessions == "cookie")
    _common.run(socketio, app, args)

"""A Socket.IO server as a plain WSGI application, for gunicorn in ``test_timeouts.py``:
short request deadlines of its own, a keep-alive timeout that gunicorn's ``--keep-alive``
overrides."""
from sio_core import Server

app = Server(origins="*", headers_timeout=1.0, request_timeout=2.0, keepalive_timeout=30.0)
app.on("connection", lambda socket: socket.on("echo", lambda *values: values[-1](*values[:-1])))

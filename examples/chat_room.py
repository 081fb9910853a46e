"""A chat room to join: pick a name and a room, talk to whoever else is in it.

The server wraps a tiny WSGI app that serves the chat page at ``/``; everything under
``/socket.io`` is Socket.IO (the page loads the client from ``/socket.io/socket.io.js``).

Client events:

- ``join`` ``{"room": <room>, "name": <name>}`` [ack] — enter ``room`` as ``name``
  (``anonymous`` if empty), leaving the room the socket was in, if any. Everyone in the
  room, the newcomer included, gets ``joined`` with ``{"room": <room>, "name": <name>}``;
  the ack gets ``{"room": <room>, "members": <sorted names in the room>}``.
- ``chat`` ``<text>`` — everyone in the sender's room, the sender included, gets ``chat``
  with ``{"name": <sender's name>, "text": <text>}``. Ignored before a ``join``.
- ``leave`` — leave the room; those still in it get ``left`` with
  ``{"room": <room>, "name": <name>}``. Disconnecting leaves the same way.

Client side (socket.io-client)::

    const socket = io();
    socket.emit("join", { room: "lobby", name: "ann" });
    socket.on("chat", ({ name, text }) => console.log(name + ": " + text));
    socket.emit("chat", "hello");

Run: python examples/chat_room.py --port 3000 [--host 127.0.0.1]
then open http://127.0.0.1:3000/ in two browser windows.
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

from _cli import page_app, parse_args  # noqa: E402

import sio_core  # noqa: E402
from sio_core import Server  # noqa: E402

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Chat room</title>
  <style>
    body { font: 15px/1.4 system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
    #log { border: 1px solid #ccc; height: 20em; overflow-y: auto; padding: .5em; }
    .info { color: #777; font-style: italic; }
    form { margin: .5em 0; display: flex; gap: .5em; }
    #say input { flex: 1; }
  </style>
</head>
<body>
  <h1>Chat room</h1>
  <form id="join">
    <input name="name" placeholder="your name" required>
    <input name="room" placeholder="room" value="lobby" required>
    <button>join</button>
    <button type="button" id="leave">leave</button>
  </form>
  <div id="log"></div>
  <form id="say"><input name="text" placeholder="say something" autocomplete="off">
    <button>send</button></form>
  <script src="/socket.io/socket.io.js"></script>
  <script>
    const log = document.getElementById("log");
    function line(text, cls) {
      const p = document.createElement("p");
      p.textContent = text;
      if (cls) p.className = cls;
      log.appendChild(p);
      log.scrollTop = log.scrollHeight;
    }
    const socket = io();
    socket.on("connect", () => line("connected", "info"));
    socket.on("disconnect", (reason) => line("disconnected: " + reason, "info"));
    socket.on("joined", (m) => line(m.name + " joined " + m.room, "info"));
    socket.on("left", (m) => line(m.name + " left " + m.room, "info"));
    socket.on("chat", (m) => line(m.name + ": " + m.text));
    document.getElementById("join").addEventListener("submit", (e) => {
      e.preventDefault();
      const form = e.target;
      socket.emit("join", { room: form.room.value, name: form.name.value }, (reply) => {
        line("in " + reply.room + " with " + reply.members.join(", "), "info");
      });
    });
    document.getElementById("leave").addEventListener("click", () => socket.emit("leave"));
    document.getElementById("say").addEventListener("submit", (e) => {
      e.preventDefault();
      const input = e.target.text;
      if (input.value) socket.emit("chat", input.value);
      input.value = "";
    });
  </script>
</body>
</html>
"""


#: the WSGI app for everything outside ``/socket.io``: the chat page at ``/``
pages = page_app(PAGE)


def build() -> Server:
    """Create the Socket.IO server wrapping ``pages`` (serve it with ``sio_core.run``)."""
    io = Server(pages)

    def members(room):
        sockets = io.sockets.connected
        return sorted(sockets[sid].data["name"] for sid in io.in_(room).all_sockets()
                      if sid in sockets)

    def leave_room(socket):
        room = socket.data.pop("room", None)
        if room is not None:
            socket.leave(room)
            io.to(room).emit("left", {"room": room, "name": socket.data["name"]})

    @io.on("connection")
    def on_connection(socket):
        @socket.on("join")
        def join(message, ack=None):
            if not isinstance(message, dict) or not message.get("room"):
                return
            room, name = str(message["room"]), str(message.get("name") or "anonymous")
            leave_room(socket)
            socket.data.update(room=room, name=name)
            socket.join(room)
            log.info("%s joined %s as %s", socket.id, room, name)
            io.to(room).emit("joined", {"room": room, "name": name})
            if ack is not None:
                ack({"room": room, "members": members(room)})

        @socket.on("chat")
        def chat(text, ack=None):
            room = socket.data.get("room")
            if room is not None:
                io.to(room).emit("chat", {"name": socket.data["name"], "text": text})

        @socket.on("leave")
        def leave(*args):
            leave_room(socket)

        @socket.on("disconnect")
        def on_disconnect(reason):
            room = socket.data.get("room")
            if room is not None:  # the socket is out of its rooms already: just announce
                io.to(room).emit("left", {"room": room, "name": socket.data["name"]})

    return io


def main() -> None:
    args = parse_args(__doc__)
    sio_core.run(build(), args.host, args.port)


if __name__ == "__main__":
    main()

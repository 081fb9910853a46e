"""A client whose reconnection is closed right after its namespace CONNECT; prints JSON.

python tests/clientside/drop_at_connect.py <transport> <eio> reconnect|connect|handshake

``reconnect``: the server closes the first connection on request (the client starts
reconnecting), then closes the second one as soon as it has connected it (the CONNECT
reply and the close reach the client together), and serves the third normally.
``connect``: the server closes the first connection so; ``connect()`` must raise
``ConnectionError`` (not return with the client disconnected), and the next ``connect()``
gets the second connection. ``handshake``: the polling handshake's answer carries a close
packet after the open packet; ``connect()`` must raise ``ConnectionError``.
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import queue  # noqa: E402
import sys  # noqa: E402
from typing import Any, List  # noqa: E402

from sio_core import Server, runtime  # noqa: E402
from sio_core.client import ConnectionError, SocketIOClient  # noqa: E402
from sio_core.serving import make_server  # noqa: E402


def closed_in_handshake(eio: int) -> None:
    """A server whose handshake answer holds the open packet and then a close packet."""
    opening = '0{"sid":"s1","upgrades":[],"pingInterval":5000,"pingTimeout":5000}'
    body = ("%d:%s1:1" % (len(opening), opening) if eio == 3 else opening + "\x1e1").encode()

    def app(environ: Any, start_response: Any) -> List[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain; charset=UTF-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    http = make_server(app, "127.0.0.1", 0)
    http.start()
    try:
        SocketIOClient(reconnection=True).connect("http://127.0.0.1:%d" % http.server_port,
                                                  transports=["polling"], eio=eio)
        outcome = "connected"
    except Exception as exc:  # the type is what the test checks
        outcome = "%s: %s" % (type(exc).__name__, exc)
    sys.stdout.write(json.dumps({"outcome": outcome}) + "\n")
    http.stop(timeout=1)


def main(transport: str, eio: int, mode: str) -> None:
    if mode == "handshake":
        closed_in_handshake(eio)
        return
    io = Server(ping_interval=5, ping_timeout=5)
    seen: List[str] = []
    closed_at_once = 2 if mode == "reconnect" else 1

    def on_connection(socket: Any) -> None:
        seen.append(socket.id)
        if len(seen) == closed_at_once:
            socket.conn.close()
        socket.on("drop", lambda: socket.conn.close())
        socket.on("echo", lambda value, ack: ack(value))

    io.on("connection", on_connection)
    http = make_server(io, "127.0.0.1", 0, websocket_check=io.check_websocket)
    http.start()
    client = SocketIOClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.2)
    connects = runtime.Queue()
    reasons: List[str] = []
    client.on("connect", lambda: connects.put(client.sid))
    client.on("disconnect", reasons.append)
    url = "http://127.0.0.1:%d" % http.server_port
    if mode == "connect":
        try:
            client.connect(url, transports=[transport], eio=eio)
            first = "returned, connected: %s" % client.connected
        except ConnectionError as exc:
            first = "ConnectionError: %s" % exc
        client.connect(url, transports=[transport], eio=eio)
        runtime.sleep(0.5)  # a reconnection started by the first close would show by now
        sys.stdout.write(json.dumps({"first": first, "connected": client.connected,
                                     "server_connections": len(seen),
                                     "answer": client.call("echo", "still here", timeout=5)})
                         + "\n")
        client.disconnect()
        http.stop(timeout=1)
        return
    client.connect(url, transports=[transport], eio=eio)
    connects.get(timeout=5)
    client.emit("drop")
    count = 1
    try:
        while not (client.connected and len(seen) >= 3):
            connects.get(timeout=5)
            count += 1
    except queue.Empty:
        pass
    answer = client.call("echo", "still here", timeout=5) if client.connected else None
    sys.stdout.write(json.dumps({"server_connections": len(seen), "client_connects": count,
                                 "connected": client.connected, "reasons": reasons,
                                 "answer": answer}) + "\n")
    client.disconnect()
    http.stop(timeout=1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])

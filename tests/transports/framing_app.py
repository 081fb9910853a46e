"""A Socket.IO server that counts how often a broadcast is framed, for test_framing.py.

Run: python tests/transports/framing_app.py --port N

``bcast(text)`` emits ``news`` to everyone; ``frames`` acks how many times the websocket
transport has turned a ``news`` packet into a frame, per Engine.IO version. The counter
wraps the transport's real ``encode_frame``; nothing else changes.
"""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from _cli import parse_args  # noqa: E402

from sio_core import Server  # noqa: E402
from sio_core.transports import websocket  # noqa: E402

framed: Counter = Counter()
_encode_frame = websocket.encode_frame


def counting_encode_frame(packet: Any, version: int) -> Any:
    if isinstance(packet.data, str) and packet.data.startswith('2["news"'):
        framed[str(version)] += 1
    return _encode_frame(packet, version)


def main() -> None:
    args = parse_args(__doc__, 8000)
    websocket.encode_frame = counting_encode_frame
    io = Server(origins="*")

    @io.on("connection")
    def on_connection(socket: Any) -> None:
        socket.on("bcast", lambda text: io.emit("news", text))
        socket.on("frames", lambda ack: ack(dict(framed)))

    io.listen(args.port, args.host)
    io.serve_forever()


if __name__ == "__main__":
    main()

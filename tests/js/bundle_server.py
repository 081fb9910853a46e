"""A Socket.IO server for the bundle-serving tests, with the options the examples keep fixed.

Run: python tests/js/bundle_server.py --port N [--path /custom] [--no-client]

It answers ``ack-echo`` as the conformance app does, answers ``send()`` messages with
``"echo:" + text`` (through the ack when there is one) and allows any origin.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402

from sio_core import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/socket.io")
    parser.add_argument("--no-client", action="store_true", help="serve_client=False")
    args = parser.parse_args()
    io = Server(path=args.path, serve_client=not args.no_client, origins="*")

    @io.on("connection")
    def on_connection(socket):
        @socket.on("ack-echo")
        def ack_echo(*args):
            args[-1](*args[:-1])

        @socket.on("message")
        def message(text, ack=None):
            if ack is not None:
                ack("echo:" + text)
            else:
                socket.send("echo:" + text)

    io.listen(args.port, args.host)
    io.serve_forever()


if __name__ == "__main__":
    main()

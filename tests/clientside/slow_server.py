"""A server whose namespace ``/slow`` takes 3 s to admit a client (``/`` answers at once):
``python tests/clientside/slow_server.py --port N``, for a client's ``wait_timeout``."""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402

from sio_core import Server, runtime  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    io = Server(ping_interval=5, ping_timeout=5)

    @io.of("/slow").use
    def slow(socket, next):
        runtime.sleep(3)
        next()

    io.listen(port)
    runtime.Event().wait()


if __name__ == "__main__":
    main()

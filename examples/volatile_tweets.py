"""Volatile messages: updates that may be dropped when the client cannot take them right now.

Each connected socket gets its own background greenlet that, every 100 ms, emits
``bieber tweet`` with ``{"user": "justinbieber", "n": <n>, "text": "tweet #<n>"}``, where
``n`` counts the ticks since the client connected (1, 2, 3...). The emits are volatile:
if the transport is busy (a long-polling client between two requests, say), that tweet
is dropped rather than queued, so a client sees increasing but possibly gapped ``n``.
The greenlet stops when the socket disconnects.

Client side (socket.io-client)::

    socket.on("bieber tweet", (tweet) => console.log(tweet.n, tweet.text));

Run: python examples/volatile_tweets.py --port 3000 [--host 127.0.0.1]
"""
from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402

import gevent  # noqa: E402
from _cli import serve  # noqa: E402

from sio_core import Server  # noqa: E402

log = logging.getLogger(__name__)

#: seconds between two tweets
INTERVAL = 0.1


def tweet(n: int) -> dict:
    """The ``n``-th tweet (a stand-in for fetching a real one)."""
    return {"user": "justinbieber", "n": n, "text": "tweet #%d" % n}


def tweet_forever(socket) -> None:
    """Emit a volatile tweet to ``socket`` every ``INTERVAL`` seconds, until killed."""
    n = 0
    while True:
        gevent.sleep(INTERVAL)
        n += 1
        socket.volatile.emit("bieber tweet", tweet(n))


def build(port: int, host: str = "127.0.0.1") -> Server:
    """Create the server, listening on ``host:port`` at once.

    :param port: TCP port (0 picks a free one)
    :param host: interface to bind
    """
    io = Server(port, host=host)

    @io.on("connection")
    def on_connection(socket):
        tweets = gevent.spawn(tweet_forever, socket)

        @socket.on("disconnect")
        def on_disconnect(reason):
            tweets.kill(block=False)
            log.info("stopped the tweets of %s (%s)", socket.id, reason)

    return io


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()

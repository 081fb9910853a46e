"""One RedisAdapter node in this (monkey-patched) process, with in-memory test clients, for
the tests that look inside a node: how often it encodes, how long its queries wait.

    python tests/adapter/inproc_node.py '<json config>'

config: ``url``, ``channel``, ``role``, ``clients`` (how many), ``request_timeout``,
``wait`` (seconds to wait for a broadcast). Prints JSON lines:

- ``receiver``: ``{"ready", "ids"}``, then, once every client got ``news`` (or ``wait``
  passed), ``{"encodes", "received"}``
- ``sender``: broadcasts ``news`` once to everyone, then ``{"encodes", "received",
  "adapters"}``
- ``query``: times ``all_sockets()``, ``clients()`` and ``fetch_sockets()``:
  ``{"local", "results", "elapsed"}``
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import sio_core.adapter.base as adapter_base  # noqa: E402
from sio_core import Server, runtime  # noqa: E402
from sio_core.adapter.redis import RedisAdapter  # noqa: E402
from sio_core.testing import TestClient  # noqa: E402

#: names of the events whose packets the adapters encoded, in order
ENCODED = []
_encode = adapter_base.encode


def _counting_encode(packet, dumps):
    ENCODED.append(packet.data[0])
    return _encode(packet, dumps)


adapter_base.encode = _counting_encode  # what Adapter.encode calls: every broadcast's encode


def out(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def connect_clients(io: Server, count: int, on_news) -> list:
    clients = []
    for _ in range(count):
        client = TestClient(io)
        client.on("news", on_news)
        if not client.connect("/"):
            raise SystemExit("a test client was refused")
        clients.append(client)
    return clients


def main(cfg: dict) -> None:
    template = RedisAdapter(url=cfg["url"], channel=cfg["channel"],
                            request_timeout=cfg.get("request_timeout", 5.0))
    io = Server(adapter=template)
    chat = io.of("/chat")
    count = cfg["clients"]
    received = []
    everyone = runtime.Event()

    def on_news(*args):
        received.append(args[0])
        if len(received) >= count:
            everyone.set()

    clients = connect_clients(io, count, on_news)
    ids = sorted(c.sids["/"] for c in clients)
    role = cfg["role"]
    if role == "receiver":
        out(ready=True, ids=ids)
        everyone.wait(timeout=cfg.get("wait", 10))
        out(encodes=len(ENCODED), received=received)
    elif role == "sender":
        del ENCODED[:]
        io.emit("news", {"n": 1}, b"\x00\x01")
        everyone.wait(timeout=cfg.get("wait", 10))
        adapters = [io.sockets.adapter, chat.adapter]
        out(encodes=ENCODED, received=received,
            adapters={"types": [type(a).__name__ for a in adapters],
                      "distinct": adapters[0] is not adapters[1],
                      "namespaces": [a.nsp.name for a in adapters],
                      "template_unbound": template.nsp is None,
                      "settings_copied": [a.settings() == template.settings()
                                          for a in adapters]})
    elif role == "query":
        results, elapsed = {}, {}
        for name, query in [("all_sockets", lambda: sorted(io.sockets.all_sockets())),
                            ("clients", io.sockets.clients),
                            ("fetch_sockets", lambda: sorted(
                                s.id for s in io.sockets.fetch_sockets()))]:
            started = time.monotonic()
            results[name] = query()
            elapsed[name] = time.monotonic() - started
        out(local=ids, results=results, elapsed=elapsed)
    io.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))

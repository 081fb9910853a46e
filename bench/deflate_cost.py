"""What permessage-deflate costs the server: CPU per delivery of a broadcast of 2 KiB JSON.

A server (this script with ``--serve``, in a subprocess: ``sio_core.Server`` on
``sio_core.serving``) broadcasts one 2 KiB JSON event to every client each time the
emitter asks; ``--clients`` raw websockets in this process receive it (offering
permessage-deflate, or not) and the emitter asks again once every client has it
(lockstep), ``--emits`` times. The server's CPU time (user + system, from /proc) over the
emits divided by the deliveries is the figure; runs alternate between the variants and the
medians are printed, with the wire bytes per delivery:

- ``off``: ``per_message_deflate=False`` (the default: no extension);
- ``shared``: ``per_message_deflate=True``: no context takeover on the server's side, so a
  broadcast is compressed once and the same frame goes to every client;
- ``takeover``: ``{"server_no_context_takeover": False}``: a compressor per connection
  (socket.io 2's ``ws``), each delivery compressed on its own;
- ``uncompressed``: deflate agreed, but the broadcast sent with ``compress(False)``.

    python3 bench/deflate_cost.py [--runs 5] [--clients 200] [--emits 100] [--json]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, wait_for_port  # noqa: E402
from sio_core.websocket import (  # noqa: E402
    DeflateOptions,
    FrameDecoder,
    PerMessageDeflate,
    accept_response,
    client_offer,
    encode_message,
)

VARIANTS = {
    "off": (False, True),
    "shared": (True, True),
    "takeover": ({"server_no_context_takeover": False}, True),
    "uncompressed": (True, False),
}



def payload(seq: int) -> Dict[str, Any]:
    """The ``seq``-th broadcast: about 2 KiB of JSON, its values changing every time (a
    compressor that keeps its context cannot just refer back to the previous one whole)."""
    return {"seq": seq, "items": [{"id": i, "name": "user-%03d" % i,
                                   "score": (i * 7919 + seq * 104729) % 100003,
                                   "active": (i + seq) % 3 == 0} for i in range(36)]}

#: the client's offer (what a browser offers)
OFFER = DeflateOptions(server_no_context_takeover=False)


def serve(port: int, variant: str) -> None:
    """The server side (in its own process)."""
    from gevent import monkey

    monkey.patch_all()
    from sio_core import Server

    deflate, compress = VARIANTS[variant]
    io = Server(per_message_deflate=deflate, ping_interval=300, ping_timeout=60)

    seq = [0]

    @io.on("connection")
    def on_connection(sock: Any) -> None:
        @sock.on("bcast")
        def bcast() -> None:
            seq[0] += 1
            io.compress(compress).emit("b", payload(seq[0]))

    io.listen(port)
    io.serve_forever()


class Client:
    """One raw websocket connected to ``/``, reading with the pure codec."""

    def __init__(self, port: int, deflate: bool) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        offer = "Sec-WebSocket-Extensions: %s\r\n" % client_offer(OFFER) if deflate else ""
        self.sock.sendall(("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                           "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (port, key, offer)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        answer = None
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions":
                answer = value.strip()
        self.decoder = FrameDecoder(10_000_000, client=True)
        params = accept_response(answer, OFFER) if deflate else None
        if params is not None:
            self.decoder.deflate = PerMessageDeflate(params, client=True)
        self.wire = 0
        self.decoder.feed(rest)
        assert str(self.next()).startswith("0{")
        self.send("40")
        assert str(self.next()).startswith("40{")
        self.sock.setblocking(False)

    def send(self, message: str) -> None:
        self.sock.sendall(encode_message(message, secrets.token_bytes(4)))

    def next(self) -> Any:
        while True:
            event = self.decoder.next_event()
            if event is not None:
                return event
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.decoder.feed(data)

    def drain(self) -> int:
        """Read what the socket holds; how many broadcasts it completed."""
        got = 0
        while True:
            try:
                data = self.sock.recv(262144)
            except BlockingIOError:
                return got
            if not data:
                raise ConnectionError("closed")
            self.wire += len(data)
            self.decoder.feed(data)
            while True:
                event = self.decoder.next_event()
                if event is None:
                    break
                if isinstance(event, str) and event.startswith('42["b"'):
                    got += 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid``, in seconds."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(variant: str, clients: int, emits: int) -> Dict[str, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--variant",
                             variant], cwd=str(ROOT), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        deflate = variant != "off"
        group = [Client(port, deflate) for _ in range(clients)]
        selector = selectors.DefaultSelector()
        for client in group:
            selector.register(client.sock, selectors.EVENT_READ, client)
        emitter = group[0]

        def one_round() -> None:
            emitter.send('42["bcast"]')
            left = clients
            deadline = time.monotonic() + 30
            while left:
                if time.monotonic() > deadline:
                    raise TimeoutError("a broadcast did not reach every client in 30 s")
                for key, _ in selector.select(timeout=1.0):
                    left -= key.data.drain()

        for _ in range(5):  # warm-up: the lazily made compressors exist from here on
            one_round()
        wire_before = sum(c.wire for c in group)
        cpu_before = cpu_seconds(proc.pid)
        start = time.perf_counter()
        for _ in range(emits):
            one_round()
        wall = time.perf_counter() - start
        cpu = cpu_seconds(proc.pid) - cpu_before
        deliveries = clients * emits
        for client in group:
            client.sock.close()
        return {"cpu_us_per_delivery": cpu / deliveries * 1e6,
                "deliveries_per_s": deliveries / wall,
                "wire_bytes_per_delivery": (sum(c.wire for c in group) - wire_before)
                / deliveries}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--emits", type=int, default=100)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="off", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.variant)
        return
    variants = args.variants.split(",")
    results: Dict[str, List[Dict[str, float]]] = {v: [] for v in variants}
    for index in range(args.runs):
        order = variants[index % len(variants):] + variants[:index % len(variants)]
        for variant in order:
            results[variant].append(run_once(variant, args.clients, args.emits))
    if args.json:
        print(json.dumps(results, indent=1))
        return
    size = len(json.dumps(["b", payload(1)], separators=(",", ":"))) + 3
    print("broadcast of %d bytes to %d clients, %d emits, %d runs (medians, min-max)"
          % (size, args.clients, args.emits, args.runs))
    print("%-13s %22s %18s %14s" % ("variant", "server CPU us/delivery", "deliveries/s",
                                     "wire B/deliv."))
    for variant in variants:
        rows = results[variant]
        cpu = [r["cpu_us_per_delivery"] for r in rows]
        rate = [r["deliveries_per_s"] for r in rows]
        wire = [r["wire_bytes_per_delivery"] for r in rows]
        print("%-13s %10.2f (%.2f-%.2f) %10.0f (%.0f-%.0f) %10.0f" % (
            variant, statistics.median(cpu), min(cpu), max(cpu), statistics.median(rate),
            min(rate), max(rate), statistics.median(wire)))


if __name__ == "__main__":
    main()

"""Our Python client sending and receiving JSON edge values; prints one JSON line.

python tests/clientside/json_client.py '{"url": "...", "json": "stdlib"|"default",
                                         "transports": [...], "eio": 3|4}'

Reports the ``ack-echo`` answer to lone surrogates and a non-finite number, what an emit
of a value with no JSON form raised, and how many acks were left waiting after it.
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402

from sio_core.client import SocketIOClient  # noqa: E402


class NoJson:
    """Has no JSON form."""


def main() -> None:
    cfg = json.loads(sys.argv[1])
    client = SocketIOClient(reconnection=False, json=json if cfg["json"] == "stdlib" else None)
    result = {}
    with client:
        client.connect(cfg["url"], transports=cfg["transports"], eio=cfg["eio"])
        answer = client.call("ack-echo", ("\ud83d", float("inf"), "a\udc00b", float("nan")),
                             timeout=5)
        result["answer"] = list(answer)
        for name, emit in [("emit", lambda: client.emit("ack-echo", NoJson())),
                           ("emit-callback", lambda: client.emit("ack-echo", [NoJson()],
                                                                 callback=lambda *v: None)),
                           ("call", lambda: client.call("ack-echo", NoJson(), timeout=5))]:
            try:
                emit()
                result[name] = "sent"
            except TypeError:
                result[name] = "TypeError"
        result["acks_waiting"] = len(client._acks)
        result["after"] = client.call("ack-echo", "still connected", timeout=5)
    # ensure_ascii: the lone surrogates travel as escapes
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

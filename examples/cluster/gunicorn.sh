#!/bin/sh
# One node of the cluster under gunicorn: the Flask chat (examples/flask_chat/app.py) served
# by flask-sio's gevent worker, its session ids tagged with the node's name for nginx.conf,
# its rooms and broadcasts shared with the other nodes through Redis.
#
#   sh examples/cluster/gunicorn.sh NODE PORT [REDIS_URL]
#   e.g. sh examples/cluster/gunicorn.sh n1 5101 redis://127.0.0.1:6379/0
#
# One worker per node (-w 1): the workers of one gunicorn share its port, and the requests
# of a long-polling session would land on any of them. Run more nodes on other ports
# instead, each with its own name, and list them in nginx.conf.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
NODE="$1"
PORT="$2"
REDIS_URL="${3:-redis://127.0.0.1:6379/0}"

SIO_NODE="$NODE" REDIS_URL="$REDIS_URL" exec python3 -m gunicorn \
    -k sio_core.gunicorn.GeventWebSocketWorker -w 1 -b "127.0.0.1:$PORT" \
    --chdir "$HERE/../flask_chat" app:app

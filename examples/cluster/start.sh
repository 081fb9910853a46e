#!/bin/sh
# Start Redis, three Flask chat processes sharing it, and nginx in front (all on loopback).
# Then open http://127.0.0.1:8080/ in several browsers. Ctrl-C stops everything.
#
#   sh examples/cluster/start.sh [LISTEN_PORT]
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LISTEN="${1:-8080}"
REDIS_PORT=6391
PORTS="5101 5102 5103"
RUN="$(mktemp -d)"
mkdir -p "$RUN/tmp"

pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$RUN/redis.log" 2>&1 &
pids="$pids $!"

# node i tags its session ids with SIO_NODE=n<i> (app.py: generate_id); nginx.conf routes
# every request that carries a sid to the node named by the tag
i=0
for port in $PORTS; do
    i=$((i + 1))
    SIO_NODE="n$i" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" PYTHONPATH="$ROOT" \
        python3 "$ROOT/examples/flask_chat/app.py" --port "$port" >"$RUN/node-$port.log" 2>&1 &
    pids="$pids $!"
done

set -- $PORTS
sed -e "s/__PORT1__/$1/" -e "s/__PORT2__/$2/" -e "s/__PORT3__/$3/" -e "s/__LISTEN__/$LISTEN/" \
    "$HERE/nginx.conf" >"$RUN/nginx.conf"
nginx -p "$RUN" -c "$RUN/nginx.conf" &
pids="$pids $!"

echo "chat on http://127.0.0.1:$LISTEN/ (nodes on $PORTS, Redis on $REDIS_PORT); logs in $RUN"
wait

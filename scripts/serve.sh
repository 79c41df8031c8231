#!/usr/bin/env bash
# The processes of a Studyhall deployment, for `make run`: gunicorn for HTTP, uvicorn for
# WebSockets on the next port, the background worker, the scheduler of periodic jobs, and
# Redis between them unless REDIS_URL names one (docs/adr/0010). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
# Pages tell browsers to open their sockets on this port of the same host.
export STUDYHALL_WEBSOCKET_PORT=${STUDYHALL_WEBSOCKET_PORT:-$((PORT + 1))}
# Links in emails (sent by the worker) must point at this server, whatever port it is on.
export STUDYHALL_BASE_URL=${STUDYHALL_BASE_URL:-http://127.0.0.1:$PORT}
PY=.venv/bin/python
# glibc gives each thread that allocates its own malloc arena (up to 8 per core); every
# request thread allocates, so a worker's memory spreads over many half-empty arenas. Two
# hold a worker's RSS lower (README, Performance).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
# A page view's news for open sockets (a chat message, the end of a call) crosses from
# gunicorn to uvicorn through Redis. Without REDIS_URL, a private one runs beside them:
# loopback only, on the port after the WebSockets', nothing saved to disk.
if [ -z "${REDIS_URL:-}" ]; then
  redis_port=$((STUDYHALL_WEBSOCKET_PORT + 1))
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --loglevel warning &
  pids+=($!)
  export REDIS_URL=redis://127.0.0.1:$redis_port/0
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
fi
$PY manage.py db_worker --queue-name default &
pids+=($!)
$PY manage.py run_scheduler &
pids+=($!)
.venv/bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$STUDYHALL_WEBSOCKET_PORT" \
  --lifespan off --no-access-log &
pids+=($!)

echo "Studyhall is starting at http://127.0.0.1:$PORT/ (WebSockets on port $STUDYHALL_WEBSOCKET_PORT; Ctrl-C stops it)"
.venv/bin/gunicorn -c config/gunicorn.py --bind "127.0.0.1:$PORT" --workers 1 &
pids+=($!)
wait -n

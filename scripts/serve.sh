#!/usr/bin/env bash
# The three processes of a Studyhall deployment, for `make run`: the web server (HTTP and
# WebSockets), the background worker, and the scheduler of periodic jobs. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
# Links in emails (sent by the worker) must point at this server, whatever port it is on.
export STUDYHALL_BASE_URL=${STUDYHALL_BASE_URL:-http://127.0.0.1:$PORT}
PY=.venv/bin/python
# glibc gives each thread that allocates its own malloc arena (up to 8 per core); every
# request runs on a thread of its own, so a worker's memory spreads over many half-empty
# arenas. Two hold a worker's RSS about 6 MB lower (README, Performance).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}

$PY manage.py db_worker --queue-name default &
worker=$!
$PY manage.py run_scheduler &
scheduler=$!
trap 'kill "$worker" "$scheduler" 2>/dev/null || true; wait' EXIT

echo "Studyhall is starting at http://127.0.0.1:$PORT/ (Ctrl-C stops it)"
.venv/bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" --lifespan off

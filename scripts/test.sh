#!/usr/bin/env bash
# The whole suite: Django's checks; every test on SQLite; the WebRTC browser test inside a
# loopback-only network namespace; then the money and concurrency tests again on PostgreSQL.
# PostgreSQL and Redis are used whenever they answer; with STUDYHALL_REQUIRE_POSTGRES=1 and
# STUDYHALL_REQUIRE_REDIS=1 (CI) a missing server is a failure, not a skip.
# The suites run on STUDYHALL_TEST_WORKERS processes (pytest-xdist, default 2). Each test file
# stays on one worker, so module-scoped servers and browsers are started once; each worker has
# its own test database (pytest-django adds a _gw0, _gw1... suffix to the name).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
WORKERS=${STUDYHALL_TEST_WORKERS:-2}
parallel=(-n "$WORKERS" --dist loadfile)
PG_URL=${STUDYHALL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
clean_env=(env -u DATABASE_URL -u REDIS_URL)

echo "== Django checks"
"${clean_env[@]}" $PY manage.py check --fail-level WARNING
"${clean_env[@]}" $PY manage.py makemigrations --check --dry-run >/dev/null

echo "== Test suite on SQLite"
"${clean_env[@]}" .venv/bin/pytest -q "${parallel[@]}" -m "not webrtc"

echo "== WebRTC browser test in a loopback-only network namespace"
# Nothing the browsers do can leave 127.0.0.1: the namespace has no other interface.
unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' \
  "${clean_env[@]}" STUDYHALL_IN_LOOPBACK_NETNS=1 .venv/bin/pytest -q -m webrtc tests/e2e

if $PY scripts/pg_ready.py "$PG_URL"; then
  echo "== Money and concurrency tests on PostgreSQL"
  DATABASE_URL=$PG_URL STUDYHALL_ON_POSTGRES=1 .venv/bin/pytest -q "${parallel[@]}" -m postgres
elif [ "${STUDYHALL_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL at $PG_URL is unreachable, and this run requires it." >&2
  exit 1
else
  echo "== PostgreSQL unreachable at $PG_URL: money and concurrency tests ran on SQLite only"
fi

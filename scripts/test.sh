#!/usr/bin/env bash
# The whole suite: Django's checks, every test on SQLite, then the money and concurrency tests
# again on PostgreSQL. PostgreSQL is used whenever it answers; with STUDYHALL_REQUIRE_POSTGRES=1
# (CI) an unreachable server is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL=${STUDYHALL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

echo "== Django checks"
env -u DATABASE_URL -u REDIS_URL $PY manage.py check --fail-level WARNING
env -u DATABASE_URL -u REDIS_URL $PY manage.py makemigrations --check --dry-run >/dev/null

echo "== Test suite on SQLite"
env -u DATABASE_URL -u REDIS_URL .venv/bin/pytest -q

if $PY scripts/pg_ready.py "$PG_URL"; then
  echo "== Money and concurrency tests on PostgreSQL"
  DATABASE_URL=$PG_URL STUDYHALL_ON_POSTGRES=1 .venv/bin/pytest -q -m postgres
elif [ "${STUDYHALL_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL at $PG_URL is unreachable, and this run requires it." >&2
  exit 1
else
  echo "== PostgreSQL unreachable at $PG_URL: money and concurrency tests ran on SQLite only"
fi

"""Exit 0 when the PostgreSQL server named by the URL accepts a connection, 1 otherwise."""

import sys

import psycopg

try:
    with psycopg.connect(sys.argv[1], connect_timeout=3) as conn:
        conn.execute("select 1")
except psycopg.OperationalError as exc:
    sys.exit(f"PostgreSQL check failed: {exc}".strip())

"""Telling "the database has no connection for us right now" apart from a bug.

A web worker holds at most its pool's size of PostgreSQL connections. When all are busy a
request waits for one (the pool's timeout), and if none frees up it is refused with a 503 and
a Retry-After, which clients and load balancers understand — never a 500.
"""

from __future__ import annotations

RETRY_AFTER_SECONDS = 2
BUSY_CODE = "database_busy"
BUSY_MESSAGE = (
    "Studyhall is too busy to answer right now; nothing was changed. Try again in a few seconds."
)


def is_pool_exhausted(exc: BaseException) -> bool:
    """True for the error psycopg's pool raises when no connection freed up in time."""
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite-only installs have no pool
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PoolTimeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

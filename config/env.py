"""Reading configuration from the environment, failing loudly on values that make no sense.

Start-up stops with `ImproperlyConfigured` and a message saying which variable is wrong and
what it should look like, rather than running half-configured.
"""

import json
import os
from typing import Any, cast
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
# Per process, and so also how many of a web worker's requests work at once: about two per
# core. More only lets more requests into Python than the cores can run, and they wait their
# turn for the interpreter at every statement, which spreads their times (README,
# Database connections). Four web workers, the task worker and the scheduler hold at most 24.
DEFAULT_POOL_SIZE = 4
DEFAULT_POOL_TIMEOUT = 5.0
# How much longer a Redis read may take than channels-redis' own blocking wait.
REDIS_READ_MARGIN_SECONDS = 10.0


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value; use 1 or 0.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}.") from exc


def database_config(url: str | None, sqlite_path: str) -> dict[str, Any]:
    """SQLite (the embedded default) or PostgreSQL from a postgres:// URL."""
    if not url:
        return sqlite_config(sqlite_path)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return sqlite_config(parsed.path or sqlite_path)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL has the scheme {parsed.scheme or '(none)'!r}; Studyhall runs on "
            "PostgreSQL (postgres://user:password@host:5432/name) or SQLite (leave it unset)."
        )
    if not parsed.hostname or not parsed.path.strip("/"):
        raise ImproperlyConfigured(
            "DATABASE_URL needs a host and a database name, like "
            "postgres://postgres@127.0.0.1:5432/studyhall."
        )
    import dj_database_url

    try:
        # No persistent connections: under ASGI each request's sync code runs in a thread of
        # its own, and a per-thread connection kept open is a connection leaked. The pool
        # below bounds and reuses them instead.
        config = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL could not be read: {exc}.") from exc
    options: dict[str, Any] = dict(cast("dict[str, Any]", config.get("OPTIONS") or {}))
    options["pool"] = database_pool_options()
    config["OPTIONS"] = options
    # Behind PgBouncer's transaction pooling a cursor cannot outlive its transaction.
    config["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("STUDYHALL_DB_BEHIND_PGBOUNCER", False)
    return config


def database_pool_options() -> dict[str, Any]:
    """psycopg's connection pool, one per process (web worker, task worker, scheduler).

    STUDYHALL_DB_POOL_SIZE connections at most per process; (web workers + 2) x that size
    must stay under PostgreSQL's max_connections. A request that finds the pool empty waits
    up to STUDYHALL_DB_POOL_TIMEOUT seconds for a connection, then gets a 503.
    """
    size = env_int("STUDYHALL_DB_POOL_SIZE", DEFAULT_POOL_SIZE, minimum=1, maximum=500)
    return {
        "min_size": 1,
        "max_size": size,
        "timeout": env_float(
            "STUDYHALL_DB_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT, minimum=0.05, maximum=60
        ),
        # A connection idle this long is closed (down to min_size), so quiet workers give
        # theirs back to the server.
        "max_idle": 300.0,
    }


def sqlite_config(path: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # Writers queue for the lock at BEGIN instead of failing mid-transaction, which is
            # what makes select_for_update-style money paths safe on SQLite too.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def channel_layers_config(url: str | None) -> dict[str, Any]:
    """In-memory channel layer by default; Redis when REDIS_URL is set (several workers)."""
    if not url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r} is not a Redis address; use redis://127.0.0.1:6379/0."
        )
    try:
        parsed.port  # noqa: B018 - reading it validates the port number
    except ValueError as exc:
        raise ImproperlyConfigured(f"REDIS_URL has a bad port: {exc}.") from exc
    from channels_redis.core import RedisChannelLayer

    # channels-redis waits for messages with BZPOPMIN for `brpop_timeout` seconds (5), and
    # redis-py's default socket timeout is also 5 s: an idle socket's read then raised
    # TimeoutError out of the consumer and closed the WebSocket. Reads must outwait the block.
    blocking = float(RedisChannelLayer.brpop_timeout)
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": url,
                        "socket_timeout": blocking + REDIS_READ_MARGIN_SECONDS,
                        "socket_connect_timeout": 5.0,
                        "socket_keepalive": True,
                    }
                ]
            },
        }
    }


def cache_config(url: str | None) -> dict[str, Any]:
    """Django's Redis cache from a redis:// URL, else the process's own memory."""
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if urlparse(url).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(
            f"CACHE_URL must be a redis:// URL (like redis://127.0.0.1:6379/1), not {url!r}."
        )
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def ice_servers(value: Any) -> list[dict[str, Any]]:
    """STUDYHALL_ICE_SERVERS: a JSON list of {"urls": ..., "username"?, "credential"?}."""
    problem = (
        'STUDYHALL_ICE_SERVERS must be a JSON list like [{"urls": "stun:stun.example.edu:3478"}]'
    )
    if not isinstance(value, list):
        raise ImproperlyConfigured(problem + ".")
    for server in value:
        urls = server.get("urls") if isinstance(server, dict) else None
        if isinstance(urls, str):
            urls = [urls]
        if not urls or not all(
            isinstance(u, str) and u.split(":", 1)[0] in {"stun", "stuns", "turn", "turns"}
            for u in urls
        ):
            raise ImproperlyConfigured(
                f"{problem}; each entry needs stun:, stuns:, turn: or turns: urls (got {server!r})."
            )
    return value


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}.")
    return value


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}.")
    return value


def stripe_secret(name: str, prefixes: tuple[str, ...], example: str) -> str:
    """A Stripe key from the environment: empty (Stripe off) or one with the right prefix."""
    value = os.environ.get(name, "").strip()
    if value and not value.startswith(prefixes):
        raise ImproperlyConfigured(
            f"{name} does not look like a Stripe key (it should start with {example}); copy it "
            "from the Stripe dashboard, or leave it unset to turn Stripe payouts off."
        )
    return value


def http_base_url(name: str) -> str:
    """An http(s) base URL without a trailing slash, or "" when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an http(s) address; use e.g. http://127.0.0.1:12111."
        )
    return raw.rstrip("/")


def websocket_sources(port: int) -> list[str]:
    """The Content-Security-Policy sources for WebSockets on their own port of the page's host
    (any host: the page may be reached as localhost, 127.0.0.1 or a name), or none for 0."""
    return [f"ws://*:{port}", f"wss://*:{port}"] if port else []

"""DATABASE_URL and the pool settings read from the environment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_config

URL = "postgres://studyhall@db.example.edu:5432/studyhall"


def test_postgres_gets_a_bounded_pool_and_no_persistent_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STUDYHALL_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("STUDYHALL_DB_POOL_TIMEOUT", raising=False)
    monkeypatch.delenv("STUDYHALL_DB_BEHIND_PGBOUNCER", raising=False)
    config = database_config(URL, "unused.sqlite3")
    assert config["CONN_MAX_AGE"] == 0
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert config["OPTIONS"] == {
        "pool": {"min_size": 1, "max_size": 4, "timeout": 5.0, "max_idle": 300.0}
    }


def test_pool_size_timeout_and_pgbouncer_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDYHALL_DB_POOL_SIZE", "12")
    monkeypatch.setenv("STUDYHALL_DB_POOL_TIMEOUT", "1.5")
    monkeypatch.setenv("STUDYHALL_DB_BEHIND_PGBOUNCER", "1")
    config = database_config(URL, "unused.sqlite3")
    assert config["OPTIONS"]["pool"]["max_size"] == 12
    assert config["OPTIONS"]["pool"]["timeout"] == 1.5
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STUDYHALL_DB_POOL_SIZE", "0", "STUDYHALL_DB_POOL_SIZE='0' must be between 1 and 500."),
        ("STUDYHALL_DB_POOL_SIZE", "ten", "STUDYHALL_DB_POOL_SIZE='ten' is not a whole number."),
        (
            "STUDYHALL_DB_POOL_TIMEOUT",
            "0",
            "STUDYHALL_DB_POOL_TIMEOUT='0' must be between 0.05 and 60.",
        ),
    ],
)
def test_a_bad_pool_setting_stops_start_up_with_a_message(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        database_config(URL, "unused.sqlite3")
    assert str(refused.value) == message


def test_sqlite_has_no_pool() -> None:
    assert "pool" not in database_config(None, "var/x.sqlite3")["OPTIONS"]

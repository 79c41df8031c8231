"""Where pages open their WebSockets: on the page's own origin, or on the WebSocket server's
port of the same host when gunicorn and uvicorn listen on ports of their own (`make run`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from config.env import websocket_sources

ROOT = Path(__file__).resolve().parents[3]
META = '<meta name="studyhall-socket-port"'


def settings_with(port: str | None, *names: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter (they are read once, at start-up)."""
    env = {k: v for k, v in os.environ.items() if k != "STUDYHALL_WEBSOCKET_PORT"}
    if port is not None:
        env["STUDYHALL_WEBSOCKET_PORT"] = port
    code = (
        "import json; from config import settings as s; "
        f"print(json.dumps([getattr(s, n) for n in {list(names)!r}], default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )


def test_unset_the_sockets_are_on_the_page_s_own_origin(db: None) -> None:
    done = settings_with(None, "STUDYHALL_WEBSOCKET_PORT", "CONTENT_SECURITY_POLICY")
    port, policy = json.loads(done.stdout)
    assert port == 0
    assert policy["DIRECTIVES"]["connect-src"] == ["'self'"]
    response = Client().get("/accounts/login/")
    assert META not in response.content.decode()


def test_a_port_is_named_in_the_page_and_allowed_by_the_policy(db: None, settings: object) -> None:
    done = settings_with("8001", "STUDYHALL_WEBSOCKET_PORT", "CONTENT_SECURITY_POLICY")
    port, policy = json.loads(done.stdout)
    assert port == 8001
    assert policy["DIRECTIVES"]["connect-src"] == ["'self'", "ws://*:8001", "wss://*:8001"]
    settings.STUDYHALL_WEBSOCKET_PORT = 8001  # type: ignore[attr-defined]
    page = Client().get("/accounts/login/").content.decode()
    assert f'{META} content="8001">' in page


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("eighty", "STUDYHALL_WEBSOCKET_PORT='eighty' is not a whole number."),
        ("70000", "STUDYHALL_WEBSOCKET_PORT='70000' must be between 0 and 65535."),
        ("-1", "STUDYHALL_WEBSOCKET_PORT='-1' must be between 0 and 65535."),
    ],
)
def test_a_bad_port_stops_start_up_with_what_to_fix(raw: str, message: str) -> None:
    done = settings_with(raw, "STUDYHALL_WEBSOCKET_PORT")
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


def test_the_sources_for_a_port() -> None:
    assert websocket_sources(0) == []
    assert websocket_sources(9443) == ["ws://*:9443", "wss://*:9443"]


def test_gunicorn_runs_one_thread_per_pooled_connection() -> None:
    code = (
        "import runpy, json; c = runpy.run_path('config/gunicorn.py'); "
        "print(json.dumps({k: c[k] for k in ('wsgi_app', 'worker_class', 'threads', "
        "'worker_connections', 'control_socket_disable')}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "STUDYHALL_DB_POOL_SIZE"}
    for pool, threads in ((None, 4), ("6", 6)):
        run_env = env if pool is None else {**env, "STUDYHALL_DB_POOL_SIZE": pool}
        done = subprocess.run(
            [sys.executable, "-c", code], env=run_env, cwd=ROOT, capture_output=True, text=True
        )
        assert json.loads(done.stdout) == {
            "wsgi_app": "config.wsgi:application",
            "worker_class": "gthread",
            "threads": threads,
            # Half in keep-alive, half being answered: the rest wait for a worker with room.
            "worker_connections": 2 * threads,
            "control_socket_disable": True,
        }

"""Real servers for tests and the benchmark: started as child processes on a free loopback
port, waited for until they listen, and stopped (or killed) on the way out."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables of the developer's shell that would point a child server somewhere else.
INHERITED_OUT = {"DATABASE_URL", "REDIS_URL", "DEBUG", "STUDYHALL_DB_POOL_SIZE"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def server_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_OUT}
    return (
        env | {"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONUNBUFFERED": "1"} | dict(extra)
    )


# Generous: on a busy machine (the suite runs on every core) importing Django and the app
# alone can take half a minute.
def wait_until_listening(server: Server, *, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server at {server.base} exited:\n{server.log_text()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server at {server.base} did not start:\n{server.log_text()}"
                ) from None
            time.sleep(0.05)


def launch(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, port: int | None = None
) -> Server:
    """Run `command` (which must listen on {port}) with the project as working directory,
    without waiting for it to listen."""
    port = port or free_port()
    argv = [part.format(port=port, python=sys.executable) for part in command]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - argv built by the caller, no shell
            argv, env=server_env(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


def start(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, port: int | None = None
) -> Server:
    """`launch`, then wait until the server listens."""
    server = launch(command, env=env, log=log, port=port)
    try:
        wait_until_listening(server)
    except BaseException:
        stop(server)
        raise
    return server


def uvicorn_command(*, workers: int = 1) -> list[str]:
    return [
        "{python}",
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--lifespan",
        "off",
        "--no-access-log",
        "--workers",
        str(workers),
    ]


def gunicorn_command(*, workers: int = 1, threads: int | None = None) -> list[str]:
    """gunicorn with the project's settings (config/gunicorn.py), as the README runs it."""
    command = ["{python}", "-m", "gunicorn", "-c", "config/gunicorn.py"]
    command += ["--bind", "127.0.0.1:{port}", "--workers", str(workers)]
    if not threads:
        return command
    # Other threads than the pool's: the connections a worker holds follow them as they would
    # in config/gunicorn.py, which sizes both from the pool.
    return [*command, "--threads", str(threads), "--worker-connections", str(2 * threads)]


def redis_command() -> list[str]:
    """A private Redis for one run: loopback only, nothing saved to disk."""
    command = ["redis-server", "--bind", "127.0.0.1", "--port", "{port}"]
    return [*command, "--save", "", "--appendonly", "no"]


@contextlib.contextmanager
def redis(*, logdir: Path) -> Iterator[str]:
    """A Redis server of its own, for processes that must share a channel layer; its URL."""
    with running(redis_command(), env={}, log=logdir / "redis.log") as server:
        yield f"redis://127.0.0.1:{server.port}/0"


@dataclass
class Site:
    """Studyhall as `make run` and the README's production recipe serve it: gunicorn answers
    every HTTP request, and uvicorn beside it the WebSockets, which pages open on its port."""

    web: Server
    sockets: Server

    @property
    def base(self) -> str:
        return self.web.base

    def log_text(self) -> str:
        return self.web.log_text() + self.sockets.log_text()


@contextlib.contextmanager
def site(*, env: Mapping[str, str], logdir: Path, workers: int = 1) -> Iterator[Site]:
    """Both servers on loopback. What a page view sends to open sockets (a chat message, the
    end of a call) crosses from gunicorn to uvicorn through Redis, so `env` needs REDIS_URL
    (`redis()` starts one)."""
    if not env.get("REDIS_URL"):
        raise ValueError("gunicorn and uvicorn share their channel layer through REDIS_URL")
    port, web_port = free_port(), free_port()
    while web_port == port:  # neither listens yet, so the same free port could come twice
        web_port = free_port()
    env = {**env, "STUDYHALL_WEBSOCKET_PORT": str(port)}
    # Both start at once (each takes a second or more to import the app), then are waited for.
    with contextlib.ExitStack() as started:
        ws = launch(
            uvicorn_command(workers=workers), env=env, log=logdir / "sockets.log", port=port
        )
        started.callback(stop, ws)
        web = launch(
            gunicorn_command(workers=workers), env=env, log=logdir / "web.log", port=web_port
        )
        started.callback(stop, web)
        wait_until_listening(ws)
        wait_until_listening(web)
        yield Site(web, ws)


def stop(server: Server, *, timeout: float = 10.0) -> None:
    if server.process.poll() is None:
        server.process.terminate()
    try:
        server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextlib.contextmanager
def running(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, port: int | None = None
) -> Iterator[Server]:
    server = start(command, env=env, log=log, port=port)
    try:
        yield server
    finally:
        stop(server)

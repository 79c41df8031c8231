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


def wait_until_listening(server: Server, *, within: float = 90.0) -> None:
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


def start(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, port: int | None = None
) -> Server:
    """Run `command` (which must listen on {port}) with the project as working directory."""
    port = port or free_port()
    argv = [part.format(port=port, python=sys.executable) for part in command]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - argv built by the caller, no shell
            argv, env=server_env(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
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

"""The college's SFTP server, through asyncssh: push files, fetch one. The server's host key
is pinned in the feed's settings, so a server that changed (or an impostor) is refused.

asyncssh is imported inside each function: it is large, and a web worker that never talks to
an SFTP server should not hold it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studyhall.feeds.models import FeedConfig

CONNECT_TIMEOUT_SECONDS = 30


class SftpFailed(Exception):
    """Could not connect, sign in or write; the message says which."""


def _options(config: FeedConfig, timeout: float = CONNECT_TIMEOUT_SECONDS) -> dict[str, Any]:
    import asyncssh

    if not config.sftp_host_key.strip():
        raise SftpFailed("The SFTP server's host key is not set, so it cannot be verified.")
    try:
        host_key = asyncssh.import_public_key(config.sftp_host_key.strip())
        keys = (
            [asyncssh.import_private_key(config.sftp_private_key)]
            if config.sftp_private_key
            else []
        )
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SftpFailed(f"A configured SSH key cannot be read: {exc}") from exc
    return {
        "host": config.sftp_host,
        "port": config.sftp_port,
        "username": config.sftp_username,
        "password": config.sftp_password or None,
        "client_keys": keys,
        "known_hosts": ([host_key], [], []),
        "agent_path": None,
        "connect_timeout": timeout,
        "login_timeout": timeout,
    }


def _run(coroutine: Any) -> Any:
    import asyncssh

    try:
        return asyncio.run(coroutine)
    except TimeoutError as exc:
        raise SftpFailed("TimeoutError: the server did not answer in time.") from exc
    except (OSError, asyncssh.Error) as exc:
        raise SftpFailed(f"{exc.__class__.__name__}: {exc}"[:480]) from exc


def push(config: FeedConfig, files: Sequence[Path]) -> None:
    """Upload each file into the configured directory, under a temporary name first and
    renamed at the end, so the college never reads half a file."""
    import asyncssh

    async def go() -> None:
        async with asyncssh.connect(**_options(config)) as conn, conn.start_sftp_client() as sftp:
            directory = config.sftp_directory.rstrip("/") or "."
            for path in files:
                final = f"{directory}/{path.name}"
                partial = final + ".part"
                await sftp.put(str(path), partial)
                await sftp.posix_rename(partial, final)

    _run(go())


def fetch(config: FeedConfig, remote_path: str) -> bytes | None:
    """The file's bytes, or None when there is no such file tonight."""
    import asyncssh

    async def go() -> bytes | None:
        async with asyncssh.connect(**_options(config)) as conn, conn.start_sftp_client() as sftp:
            try:
                async with sftp.open(remote_path, "rb") as handle:
                    data: bytes = await handle.read()
                    return data
            except asyncssh.SFTPNoSuchFile:
                return None

    result: bytes | None = _run(go())
    return result


def list_directory(config: FeedConfig, directory: str, *, timeout: float) -> list[str]:
    """The names in `directory` on the server, sorted; the whole exchange within `timeout`
    seconds (the console's connection test)."""
    import asyncssh

    async def go() -> list[str]:
        options = _options(config, timeout)
        async with asyncssh.connect(**options) as conn, conn.start_sftp_client() as client:
            names = await client.listdir(directory or ".")
            return sorted(str(n) for n in names if str(n) not in (".", ".."))

    async def bounded() -> list[str]:
        return await asyncio.wait_for(go(), timeout)

    result: list[str] = _run(bounded())
    return result

"""A real SFTP server on loopback (asyncssh, in a thread of the test process), serving one
folder, with one user who signs in by password."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

USERNAME = "knack"
PASSWORD = "nightly-feed-password"


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USERNAME and password == PASSWORD


@dataclass
class SftpServer:
    root: Path
    host_key: str
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: Any = None
    _key: Any = None

    def start(self) -> None:
        assert self._loop is not None

        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1",
                self.port,
                server_host_keys=[self._key],
                server_factory=_Server,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root).encode()),
            )

        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        assert self._loop is not None

        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)


@contextmanager
def running_sftp_server(root: Path) -> Iterator[SftpServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = SftpServer(root=root, host_key=key.export_public_key().decode().strip())
    server._loop, server._key = loop, key
    server.start()
    try:
        yield server
    finally:
        server.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

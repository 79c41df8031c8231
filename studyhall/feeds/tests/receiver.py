"""A webhook receiver on loopback that checks each delivery's signature with the
`standardwebhooks` package (an implementation independent of ours), as an integrator would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    secret: str = ""
    # While False the receiver answers 503, like an integrator's server during a deploy.
    up: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    url: str = ""


@contextmanager
def running_receiver(secret: str = "") -> Iterator[Receiver]:
    state = Receiver(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if not state.up:
                self.send_response(503)
                self.end_headers()
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(state.secret).verify(body.decode(), headers)
            except WebhookVerificationError as exc:
                state.refused.append(str(exc))
                self.send_response(400)
                self.end_headers()
                return
            state.received.append(
                {"id": headers["webhook-id"], "payload": payload, "raw": json.loads(body)}
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

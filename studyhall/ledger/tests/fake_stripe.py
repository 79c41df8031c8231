"""A local stand-in for the part of Stripe's HTTP API that Studyhall uses, for the real
`stripe` client to talk to in tests (loopback only; nothing leaves the machine).

It speaks form-encoded requests and JSON answers like api.stripe.com, keeps idempotency keys
the way Stripe does (a repeated key returns the first answer without doing anything again),
and can be told to refuse a request or to answer one only after the client has given up.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_studyhall_fake"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    stripe_account: str | None


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    reversals: dict[str, dict[str, Any]] = field(default_factory=dict)
    # path prefix → seconds to wait before answering (once), after doing the work.
    delays: dict[str, float] = field(default_factory=dict)
    # path prefix → (status, error body) to answer with instead of doing the work (once).
    refusals: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _answers: dict[tuple[str | None, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests set up and look at -------------------------------------------------

    def add_account(self, *, payouts_enabled: bool = True) -> str:
        account = self._account({"type": "express", "email": "tutor@example.test"})
        account["details_submitted"] = payouts_enabled
        account["payouts_enabled"] = payouts_enabled
        return str(account["id"])

    def reset(self) -> None:
        """Forget everything (a fresh Stripe account), keeping the server running."""
        with self._lock:
            for table in (
                self.requests,
                self.accounts,
                self.transfers,
                self.payouts,
                self.reversals,
                self.delays,
                self.refusals,
                self._answers,
            ):
                table.clear()

    def delay_once(self, path: str, seconds: float) -> None:
        self.delays[path] = seconds

    def refuse_once(self, path: str, *, status: int, code: str, message: str) -> None:
        self.refusals[path] = (
            status,
            {"error": {"type": "invalid_request_error", "code": code, "message": message}},
        )

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- the API -----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, str], headers: Any
    ) -> tuple[int, dict[str, Any], float]:
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, _error("authentication_error", None, "Invalid API Key provided."), 0
        key = headers.get("Idempotency-Key") if method == "POST" else None
        on_account = headers.get("Stripe-Account")
        with self._lock:
            self.requests.append(Request(method, path, params, key, on_account))
            if key is not None and (on_account, key) in self._answers:
                status, body = self._answers[(on_account, key)]
                return status, body, 0
            refusal = self._take(self.refusals, path)
            if refusal is not None:
                status, body = refusal
            else:
                status, body = self._route(method, path, params, on_account)
            if key is not None and status < 500:
                self._answers[(on_account, key)] = (status, body)
            return status, body, self._take(self.delays, path) or 0

    @staticmethod
    def _take(table: dict[str, Any], path: str) -> Any:
        for prefix in list(table):
            if path.startswith(prefix):
                return table.pop(prefix)
        return None

    def _next(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):08d}"

    def _route(
        self, method: str, path: str, params: dict[str, str], on_account: str | None
    ) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "accounts"]:
            return 200, self._account(params)
        if method == "GET" and parts[:2] == ["v1", "accounts"] and len(parts) == 3:
            found = self.accounts.get(parts[2])
            return (200, found) if found else _missing("account", parts[2])
        if method == "POST" and parts[:2] == ["v1", "accounts"] and parts[3:] == ["login_links"]:
            if parts[2] not in self.accounts:
                return _missing("account", parts[2])
            return 200, {
                "object": "login_link",
                "created": int(time.time()),
                "url": f"https://connect.stripe.test/express/{parts[2]}/dashboard",
            }
        if method == "POST" and parts == ["v1", "account_links"]:
            account_id = params.get("account", "")
            if account_id not in self.accounts:
                return _missing("account", account_id)
            return 200, {
                "object": "account_link",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
                "url": f"https://connect.stripe.test/setup/e/{account_id}/{params.get('type')}",
            }
        if method == "POST" and parts == ["v1", "transfers"]:
            destination = params.get("destination", "")
            if destination not in self.accounts:
                return _missing("destination account", destination)
            transfer: dict[str, Any] = {
                "id": self._next("tr"),
                "object": "transfer",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "destination": destination,
                "transfer_group": params.get("transfer_group"),
                "metadata": _metadata(params),
                "reversed": False,
            }
            self.transfers[transfer["id"]] = transfer
            return 200, transfer
        if method == "POST" and parts[:2] == ["v1", "transfers"] and parts[3:] == ["reversals"]:
            reversed_transfer = self.transfers.get(parts[2])
            if reversed_transfer is None:
                return _missing("transfer", parts[2])
            reversed_transfer["reversed"] = True
            reversal: dict[str, Any] = {
                "id": self._next("trr"),
                "object": "transfer_reversal",
                "amount": reversed_transfer["amount"],
                "transfer": reversed_transfer["id"],
                "metadata": _metadata(params),
            }
            self.reversals[reversal["id"]] = reversal
            return 200, reversal
        if method == "POST" and parts == ["v1", "payouts"]:
            if on_account not in self.accounts:
                return _missing("account", str(on_account))
            payout: dict[str, Any] = {
                "id": self._next("po"),
                "object": "payout",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "status": "pending",
                "metadata": _metadata(params),
                "account": on_account,
            }
            self.payouts[payout["id"]] = payout
            return 200, payout
        return 404, _error("invalid_request_error", "resource_missing", f"No route {path}")

    def _account(self, params: dict[str, str]) -> dict[str, Any]:
        account: dict[str, Any] = {
            "id": self._next("acct"),
            "object": "account",
            "type": params.get("type", "express"),
            "email": params.get("email"),
            "details_submitted": False,
            "payouts_enabled": False,
            "charges_enabled": False,
            "requirements": {"currently_due": ["external_account"], "disabled_reason": None},
            "metadata": _metadata(params),
            "settings": {
                "payouts": {
                    "schedule": {"interval": params.get("settings[payouts][schedule][interval]")}
                }
            },
        }
        self.accounts[str(account["id"])] = account
        return account

    def finish_onboarding(self, account_id: str) -> None:
        account = self.accounts[account_id]
        account.update(details_submitted=True, payouts_enabled=True)
        account["requirements"] = {"currently_due": [], "disabled_reason": None}


def _metadata(params: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")}


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


def _missing(what: str, ident: str) -> tuple[int, dict[str, Any]]:
    return 400, _error("invalid_request_error", "resource_missing", f"No such {what}: '{ident}'")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(body or url.query, keep_blank_values=True))
        status, answer, delay = self.server.fake.handle(method, url.path, params, self.headers)
        if delay:
            # The work is done; the answer comes after the client has stopped waiting.
            time.sleep(delay)
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_{id(answer)}")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeStripe) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    server = _Server(fake)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The Standard Webhooks signature scheme: HMAC-SHA256 over `id.timestamp.body` with the
endpoint's secret (`whsec_` + base64 of the key), sent as `v1,<base64 signature>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
KEY_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_in_use: list[str], *, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers; while a rotated secret is still honoured, both signatures are sent
    (space-separated), and a receiver that knows either one accepts the delivery."""
    signatures = " ".join(
        sign(s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_in_use
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }

"""Helpers for the API tests: a client that speaks JSON with a bearer token, and the
problem+json assertion."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

PROBLEM = "application/problem+json"


@dataclass
class Api:
    """Requests to /api/v1 as one user; bodies are JSON unless given as raw bytes."""

    token: str | None
    client: Client = field(default_factory=Client)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, *, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self.client.get("/api/v1" + path, params, headers=self._headers(headers))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(
            "/api/v1" + path,
            data=data,
            content_type="application/json",
            headers=self._headers(headers),
        )


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is problem+json with this status and code; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://studyhall.dev/problems/{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body

"""Security headers on every page: a Content-Security-Policy with a fresh nonce, and HSTS in
production (DEBUG=0)."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

ROOT = Path(__file__).resolve().parents[3]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "media-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_pages_carry_the_content_security_policy(db: None) -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    # A nonce joins script-src only on pages that render one (no page needs inline script).
    assert directives(response.headers["Content-Security-Policy"]) == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_page_template_has_inline_event_handlers() -> None:
    # The policy blocks onclick="" and friends; behaviour lives in static scripts.
    offenders = [
        str(path.relative_to(ROOT))
        for path in [
            *ROOT.glob("templates/**/*.html"),
            *ROOT.glob("studyhall/*/templates/**/*.html"),
        ]
        if re.search(r"\son[a-z]+=\"", path.read_text())
    ]
    assert offenders == []


def test_a_secure_request_gets_hsts_when_it_is_on(db: None, settings: object) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000  # type: ignore[attr-defined]
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # type: ignore[attr-defined]
    response = Client().get("/accounts/login/", secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

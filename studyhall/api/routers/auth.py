"""Signing in for a bearer token."""

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from studyhall.accounts import tokens
from studyhall.api.schemas import ProblemOut, TokenIn, TokenOut
from studyhall.core.text import clean_text

router = Router(tags=["auth"])


@router.post("/token", auth=None, response={200: TokenOut, (400, 401, 403, 422, 429): ProblemOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Exchange an email and password for a token; send it as `Authorization: Bearer <token>`.
    The token is shown only once, expires after `expires_in_days` (30 by default) and can be
    revoked in account settings. Failed attempts are limited per account and per address:
    past the limit the answer is 429 with `Retry-After`, whatever the password."""
    # A control character in the email would reach the database lookup; refuse it here.
    email = clean_text(payload.email, field="Email", max_length=254)
    with transaction.atomic(durable=True):
        token = tokens.issue_token(
            request=request,
            email=email,
            password=payload.password,
            name=clean_text(payload.name, field="Name", max_length=100),
            scope=payload.scope,
            expires_in_days=payload.expires_in_days,
        )
    return {"token": token}

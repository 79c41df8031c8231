"""Signing in for a bearer token."""

from django.http import HttpRequest
from ninja import Router

from studyhall.accounts import tokens
from studyhall.api.schemas import ProblemOut, TokenIn, TokenOut
from studyhall.core.text import clean_text

router = Router(tags=["auth"])


@router.post("/token", auth=None, response={200: TokenOut, (400, 401, 422): ProblemOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Exchange an email and password for a token; send it as `Authorization: Bearer <token>`.
    The token is shown only once."""
    # A control character in the email would reach the database lookup; refuse it here.
    email = clean_text(payload.email, field="Email", max_length=254)
    token = tokens.issue_token(request=request, email=email, password=payload.password)
    return {"token": token}

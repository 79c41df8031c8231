"""Account settings → API tokens: the list (name, created, last used, expiry), making a token
that is shown once, revoking one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from studyhall.accounts import tokens
from studyhall.accounts.models import ApiToken
from studyhall.core.models import AuditEntry

if TYPE_CHECKING:
    from conftest import Cast


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_making_a_token_shows_it_once_and_lists_it(cast: Cast) -> None:
    client = signed_in(cast.tutor)

    made = client.post(
        reverse("accounts:create_api_token"),
        {"name": "grading script", "expires_in_days": "90", "scope": "read_only"},
    )

    assert made.status_code == 302
    assert made["Location"] == "/settings/api-tokens/#new-token"
    row = ApiToken.objects.get(user=cast.tutor)
    assert (row.name, row.scope) == ("grading script", "read_only")
    html = client.get(reverse("accounts:api_tokens")).content.decode()
    assert "Your new token “grading script”" in html
    token = html.split('id="new-token-value" value="')[1].split('"')[0]
    assert tokens.token_for(token).pk == row.pk
    assert "<td>grading script</td>" in html and "<td>Read only</td>" in html
    assert "<td>Never</td>" in html  # not used yet
    again = client.get(reverse("accounts:api_tokens")).content.decode()
    assert "Your new token" not in again and token not in again


def test_the_admin_scope_is_offered_to_org_admins_only(cast: Cast) -> None:
    tutor_page = signed_in(cast.tutor).get(reverse("accounts:api_tokens")).content.decode()
    admin_page = signed_in(cast.admin).get(reverse("accounts:api_tokens")).content.decode()

    assert '<option value="admin">' not in tutor_page
    assert '<option value="admin">The admin API only</option>' in admin_page
    refused = signed_in(cast.tutor).post(
        reverse("accounts:create_api_token"),
        {"name": "x", "expires_in_days": "30", "scope": "admin"},
    )
    assert refused.status_code == 400
    assert "Select a valid choice. admin is not one of the available choices." in (
        refused.content.decode()
    )
    assert ApiToken.objects.count() == 0


def test_a_token_without_a_name_is_refused_with_a_message(cast: Cast) -> None:
    response = signed_in(cast.tutor).post(
        reverse("accounts:create_api_token"), {"name": "", "expires_in_days": "30"}
    )

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_revoking_stops_the_token_and_says_so(cast: Cast) -> None:
    issued = tokens.create_token(actor=cast.tutor, name="laptop")
    client = signed_in(cast.tutor)

    response = client.post(reverse("accounts:revoke_api_token", args=[issued.row.pk]), follow=True)

    assert "The token &#x27;laptop&#x27; is revoked; it no longer works." in (
        response.content.decode()
    )
    issued.row.refresh_from_db()
    assert issued.row.revoked_at is not None
    assert "Revoked " in response.content.decode()
    with pytest.raises(tokens.TokenRefused):
        tokens.token_for(issued.token)
    assert AuditEntry.objects.filter(action="api_token.revoked").count() == 1


def test_someone_elses_token_cannot_be_revoked(cast: Cast) -> None:
    issued = tokens.create_token(actor=cast.student, name="theirs")

    response = signed_in(cast.tutor).post(
        reverse("accounts:revoke_api_token", args=[issued.row.pk])
    )

    assert response.status_code == 404
    issued.row.refresh_from_db()
    assert issued.row.revoked_at is None


@pytest.mark.parametrize("count", [3, 45])
def test_the_list_is_paginated_with_a_fixed_query_count(
    cast: Cast, count: int, django_assert_num_queries: Any
) -> None:
    for i in range(count):
        tokens.create_token(actor=cast.tutor, name=f"token {i}")
    client = signed_in(cast.tutor)

    # session, user, may-make-admin-tokens, count, the header's two, the page of tokens
    with django_assert_num_queries(7):
        html = client.get(reverse("accounts:api_tokens")).content.decode()

    assert html.count("<td>token ") == min(count, 20)
    if count > 20:
        assert "Page 1 of 3" in html

"""Policy changes that need to know about money: the currency is fixed once earnings exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studyhall.accounts.models import User
from studyhall.core.errors import InvalidInput
from studyhall.ledger.models import Transfer
from studyhall.orgs.services.access import admin_organization
from studyhall.orgs.services.policy import update_policy


def change_policy(
    *, organization_id: int, actor: User, changes: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    organization = admin_organization(actor, organization_id)
    currency = changes.get("currency", organization.currency)
    if (
        currency != organization.currency
        and Transfer.objects.filter(organization=organization).exists()
    ):
        raise InvalidInput(
            "The currency cannot change once the organization has paid earnings.",
            code="invalid_policy",
            field="currency",
        )
    return update_policy(organization_id=organization_id, actor=actor, changes=changes)

"""Who may see an organization's exports, feeds, webhooks and reports: its admins (the same
rule as the console: 404 for outsiders, 403 for other members)."""

from __future__ import annotations

from studyhall.accounts.models import User
from studyhall.orgs.models import Organization, Role
from studyhall.orgs.services.access import admin_organization

__all__ = ["admin_organization", "administered_organizations"]


def administered_organizations(actor: User) -> list[Organization]:
    return list(
        Organization.objects.filter(
            memberships__user=actor, memberships__role=Role.ADMIN, memberships__is_active=True
        )
        .distinct()
        .order_by("name")
    )

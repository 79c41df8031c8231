"""Who may run an organization: its admins. Someone outside the organization gets 404 (it
does not exist for them); a member without the admin role, or a support agent, gets 403."""

from __future__ import annotations

from django.db import transaction

from studyhall.accounts.models import User
from studyhall.core.errors import Forbidden, NotFound
from studyhall.orgs.models import Organization, Role
from studyhall.orgs.selectors import roles_of


def require_transaction() -> None:
    """Services join their caller's transaction; running outside one is a programming error."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Run organization services inside transaction.atomic().")


def admin_organization(actor: User, organization_id: object, *, lock: bool = False) -> Organization:
    """The organization, if the actor administers it."""
    if isinstance(organization_id, bool) or not isinstance(organization_id, int):
        raise NotFound("There is no such organization.")
    queryset = Organization.objects.select_for_update() if lock else Organization.objects.all()
    organization = queryset.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("There is no such organization.")
    roles = roles_of(actor, organization.pk)
    if Role.ADMIN in roles:
        return organization
    if roles or actor.is_support_agent:
        raise Forbidden("Only the organization's admins can use its console.")
    raise NotFound("There is no such organization.")

"""Inviting people from the console: the organization's service adds them, and each person
new to the organization is sent an invitation email with a link to sign in."""

from __future__ import annotations

from collections.abc import Iterable

from studyhall.accounts.models import User
from studyhall.console.invitations import enqueue_invitation
from studyhall.core import audit
from studyhall.core.errors import Conflict, NotFound
from studyhall.orgs.models import Member, MemberStatus
from studyhall.orgs.services import people
from studyhall.orgs.services.access import admin_organization, require_transaction


def invite_person(
    *,
    organization_id: int,
    actor: User,
    email: str,
    roles: Iterable[str],
    name: str = "",
    school_id: str = "",
) -> Member:
    """`orgs.services.people.invite_person`, and the invitation email for someone who was not
    yet in the organization (someone already in it only gains the roles)."""
    require_transaction()
    address = people.clean_email(email)
    already = Member.objects.filter(organization_id=organization_id, user__email=address).exists()
    member = people.invite_person(
        organization_id=organization_id,
        actor=actor,
        email=address,
        roles=roles,
        name=name,
        school_id=school_id,
    )
    if not already:
        enqueue_invitation(member_id=member.pk, invited_by_id=actor.pk)
    return member


def resend_invitation(*, organization_id: int, user_id: int, actor: User) -> Member:
    """Send the invitation again to someone who has not signed in yet (a fresh link)."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    member = (
        Member.objects.select_for_update()
        .select_related("user")
        .filter(organization=organization, user_id=user_id)
        .first()
    )
    if member is None:
        raise NotFound("There is no such person in this organization.")
    if member.status != MemberStatus.INVITED:
        raise Conflict(
            f"{member.user.display_name} has already signed in; there is no invitation to send.",
            code="not_invited",
        )
    audit.record(
        actor=actor,
        action="person.invitation_sent",
        organization_id=organization.pk,
        user_id=member.user_id,
        email=member.user.email,
    )
    enqueue_invitation(member_id=member.pk, invited_by_id=actor.pk)
    return member

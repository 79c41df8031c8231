"""The invitation email: someone an admin added gets a link to set their password (a new
account) or to sign in (an account that already has one).

The email is a background task enqueued in the admin's transaction, so a refused or
rolled-back invitation sends nothing. It takes ids and reads what was committed, and each
invitation carries its own key (SentInvitation), so running the task twice sends one email
while a resent invitation, a new key, sends another."""

from __future__ import annotations

import uuid

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from studyhall.accounts.models import User
from studyhall.console.models import SentInvitation
from studyhall.notifications.emails import send_templated
from studyhall.orgs.models import Member, Membership, MemberStatus, Role

SECONDS_PER_DAY = 24 * 60 * 60


def enqueue_invitation(*, member_id: int, invited_by_id: int) -> None:
    """Call inside the transaction that added the person."""
    send_invitation.enqueue(
        member_id=member_id, invited_by_id=invited_by_id, key=f"invitation:{uuid.uuid4().hex}"
    )


def sign_in_link(user: User) -> tuple[str, bool]:
    """The link the email carries, and whether it sets a password: a new account gets a
    one-time set-password link (spent once the password is set), any other the sign-in page."""
    base = settings.STUDYHALL_BASE_URL
    if user.has_usable_password():
        return base + reverse("account_login"), False
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return base + path, True


def _roles(member: Member) -> str:
    roles = Membership.objects.filter(
        organization_id=member.organization_id, user_id=member.user_id, is_active=True
    ).values_list("role", flat=True)
    labels = [str(Role(r).label).lower() for r in sorted(roles)]
    return " and ".join(labels) or "a member"


@task()
def send_invitation(*, member_id: int, invited_by_id: int, key: str = "") -> int:
    """Send the invitation once under `key`, unless the person was deactivated meanwhile.
    Returns how many emails this run sent."""
    member = Member.objects.select_related("user", "organization").filter(pk=member_id).first()
    if member is None or member.status == MemberStatus.DEACTIVATED or not member.user.is_active:
        return 0
    key = key or f"invitation:m{member_id}:by{invited_by_id}"
    with transaction.atomic():
        SentInvitation.objects.get_or_create(key=key, defaults={"member": member})
    with transaction.atomic():
        # The email goes out under the row's lock and the row is marked in the same
        # transaction: a second run waits for it, or skips a row another run holds.
        claim = (
            SentInvitation.objects.select_for_update(skip_locked=True)
            .filter(key=key, sent_at__isnull=True)
            .first()
        )
        if claim is None:
            return 0
        sent = _send(member, invited_by=User.objects.filter(pk=invited_by_id).first())
        claim.sent_at = timezone.now()
        claim.save(update_fields=["sent_at"])
    return sent


def _send(member: Member, *, invited_by: User | None) -> int:
    link, sets_password = sign_in_link(member.user)
    organization = member.organization
    return send_templated(
        to=[member.user],
        subject=f"You're invited to {organization.name} on Studyhall",
        template="console/email/invitation",
        context={
            "organization": organization,
            "invited_by": invited_by,
            "roles": _roles(member),
            "link_url": link,
            "sets_password": sets_password,
            "action_label": "Set your password" if sets_password else "Sign in",
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // SECONDS_PER_DAY),
        },
    )

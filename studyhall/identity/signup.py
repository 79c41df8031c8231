"""Who may create an account themself. Sign-up is closed by default: an organization lets in
the people it invited (their account already exists) or anyone with an email at a domain it
owns; Studyhall's operators may open a public path for people founding a new organization.
"""

from __future__ import annotations

from django.conf import settings

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.orgs.models import Member, Membership, MemberStatus, Organization, Role, SignupPolicy

CLOSED_MESSAGE = (
    "Studyhall accounts come from your tutoring program. Ask your program's admin to invite "
    "you; if you were invited, sign in or use “Forgot your password?” to choose a password."
)


def public_signup_open() -> bool:
    return bool(settings.STUDYHALL_PUBLIC_ORGANIZATION_SIGNUP)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def organizations_for_domain(domain: str) -> list[Organization]:
    """The organizations that let anyone at this email domain sign up."""
    if not domain:
        return []
    return [
        org
        for org in Organization.objects.filter(signup_policy=SignupPolicy.DOMAINS).order_by("pk")
        if domain in org.signup_email_domains
    ]


def any_domain_signup() -> bool:
    return Organization.objects.filter(signup_policy=SignupPolicy.DOMAINS).exists()


def is_open() -> bool:
    return public_signup_open() or any_domain_signup()


def refusal_for(email: str) -> str | None:
    """Why this address may not sign up, or None when it may."""
    if public_signup_open():
        return None
    domain = domain_of(email)
    if organizations_for_domain(domain):
        return None
    return (
        f"No organization on Studyhall lets people at {domain or 'that address'} sign up "
        "themselves. " + CLOSED_MESSAGE
    )


def join_domain_organizations(*, user: User) -> list[Organization]:
    """Make a person whose email is now verified a student of each organization that owns its
    domain (roles they already hold stay as they are). Returns the organizations joined."""
    joined = []
    for org in organizations_for_domain(domain_of(user.email)):
        _, created = Member.objects.get_or_create(
            organization=org, user=user, defaults={"status": MemberStatus.ACTIVE}
        )
        if not created:
            continue
        Membership.objects.get_or_create(organization=org, user=user, role=Role.STUDENT)
        audit.record(
            actor=user,
            action="person.signed_up",
            organization_id=org.pk,
            user_id=user.pk,
            email=user.email,
            roles=[Role.STUDENT.value],
        )
        joined.append(org)
    return joined

"""People in an organization: invite, roles, deactivate and reactivate, rates, employee ids."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from studyhall.core.money import format_cents
from studyhall.core.text import clean_text
from studyhall.orgs.models import (
    Member,
    Membership,
    MemberStatus,
    Organization,
    Role,
    TutorRate,
)
from studyhall.orgs.services.access import admin_organization, require_transaction

SCHOOL_ID_MAX = 64
NAME_MAX = 150


def clean_email(raw: str) -> str:
    email = raw.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            f"{raw.strip() or 'An empty value'!r} is not an email address.",
            code="invalid_email",
            field="email",
        ) from exc
    return email


def clean_roles(roles: Iterable[str]) -> list[Role]:
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in Role.values]
    if unknown:
        raise InvalidInput(
            f"Unknown role {unknown[0]!r}: use student, tutor or admin.",
            code="invalid_role",
            field="roles",
        )
    if not wanted:
        raise InvalidInput("Give the person at least one role.", code="no_roles", field="roles")
    return [Role(r) for r in wanted]


def clean_school_id(raw: str) -> str:
    school_id = raw.strip()
    if len(school_id) > SCHOOL_ID_MAX:
        raise InvalidInput(
            f"A school ID has at most {SCHOOL_ID_MAX} characters.",
            code="invalid_school_id",
            field="school_id",
        )
    return clean_text(school_id, field="School ID", max_length=SCHOOL_ID_MAX)


def _member(organization: Organization, user_id: int) -> Member:
    member = (
        Member.objects.select_for_update()
        .select_related("user")
        .filter(organization=organization, user_id=user_id)
        .first()
    )
    if member is None:
        raise NotFound("There is no such person in this organization.")
    return member


def invite_person(
    *,
    organization_id: int,
    actor: User,
    email: str,
    roles: Iterable[str],
    name: str = "",
    school_id: str = "",
) -> Member:
    """Add someone by email with roles. A new person gets an account without a password and
    the status "invited" until they first sign in; someone already in the organization
    gains the roles."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    address = clean_email(email)
    wanted = clean_roles(roles)
    school_id = clean_school_id(school_id)
    name = clean_text(name.strip()[:NAME_MAX], field="Name", max_length=NAME_MAX)
    if school_id and (
        Member.objects.filter(organization=organization, school_id=school_id)
        .exclude(user__email=address)
        .exists()
    ):
        raise Conflict(
            f"School ID {school_id} already belongs to someone else in {organization.name}.",
            code="school_id_taken",
            field="school_id",
        )
    user = User.objects.filter(email=address).first()
    if user is None:
        user = User.objects.create_user(email=address, password=None, name=name)
    member, created = Member.objects.get_or_create(
        organization=organization,
        user=user,
        defaults={
            "status": MemberStatus.INVITED
            if not user.has_usable_password()
            else MemberStatus.ACTIVE,
            "school_id": school_id,
            "invited_at": timezone.now(),
        },
    )
    if not created and school_id and member.school_id != school_id:
        member.school_id = school_id
        member.save(update_fields=["school_id"])
    active = member.status != MemberStatus.DEACTIVATED
    added = [
        role
        for role in wanted
        if Membership.objects.get_or_create(
            organization=organization, user=user, role=role, defaults={"is_active": active}
        )[1]
    ]
    if not created and not added:
        raise Conflict(
            f"{user.email} already has these roles in {organization.name}.",
            code="already_member",
            field="email",
        )
    audit.record(
        actor=actor,
        action="person.invited" if created else "person.roles_added",
        organization_id=organization.pk,
        user_id=user.pk,
        email=user.email,
        roles=[str(r) for r in added],
    )
    return member


def set_roles(*, organization_id: int, user_id: int, actor: User, roles: Iterable[str]) -> Member:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    member = _member(organization, user_id)
    wanted = {str(r) for r in clean_roles(roles)}
    if user_id == actor.pk and Role.ADMIN not in wanted:
        raise RuleViolation(
            "You cannot remove your own admin role; ask another admin.",
            code="own_admin_role",
            field="roles",
        )
    current = set(
        Membership.objects.filter(organization=organization, user_id=user_id).values_list(
            "role", flat=True
        )
    )
    removed = sorted(current - wanted)
    added = sorted(wanted - current)
    Membership.objects.filter(organization=organization, user_id=user_id, role__in=removed).delete()
    active = member.status != MemberStatus.DEACTIVATED
    Membership.objects.bulk_create(
        [
            Membership(organization=organization, user_id=user_id, role=r, is_active=active)
            for r in added
        ]
    )
    if added or removed:
        audit.record(
            actor=actor,
            action="person.roles_changed",
            organization_id=organization.pk,
            user_id=user_id,
            added=[str(r) for r in added],
            removed=[str(r) for r in removed],
        )
    return member


def _sync_user_active(user: User) -> None:
    """A person can sign in while some organization keeps them active (or invited), and
    Studyhall's own staff always can."""
    usable = (
        user.is_staff
        or user.is_superuser
        or user.is_support_agent
        or Member.objects.filter(user=user).exclude(status=MemberStatus.DEACTIVATED).exists()
        or not Member.objects.filter(user=user).exists()
    )
    if user.is_active != usable:
        user.is_active = usable
        user.save(update_fields=["is_active"])


def deactivate_person(*, organization_id: int, user_id: int, actor: User) -> Member:
    """They can no longer sign in (unless another organization keeps them) or be booked here;
    their sessions, earnings and history stay."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    if user_id == actor.pk:
        raise RuleViolation("You cannot deactivate yourself.", code="deactivate_self")
    member = _member(organization, user_id)
    if member.status == MemberStatus.DEACTIVATED:
        raise Conflict(
            f"{member.user.display_name} is already deactivated.", code="already_deactivated"
        )
    before = member.status
    member.status = MemberStatus.DEACTIVATED
    member.deactivated_at = timezone.now()
    member.save(update_fields=["status", "deactivated_at"])
    Membership.objects.filter(organization=organization, user_id=user_id).update(is_active=False)
    _sync_user_active(member.user)
    audit.record(
        actor=actor,
        action="person.deactivated",
        organization_id=organization.pk,
        user_id=user_id,
        previous_status=before,
    )
    return member


def reactivate_person(*, organization_id: int, user_id: int, actor: User) -> Member:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    member = _member(organization, user_id)
    if member.status != MemberStatus.DEACTIVATED:
        raise Conflict(f"{member.user.display_name} is not deactivated.", code="not_deactivated")
    member.status = (
        MemberStatus.ACTIVE if member.user.last_login is not None else MemberStatus.INVITED
    )
    member.deactivated_at = None
    member.save(update_fields=["status", "deactivated_at"])
    Membership.objects.filter(organization=organization, user_id=user_id).update(is_active=True)
    _sync_user_active(member.user)
    audit.record(
        actor=actor,
        action="person.reactivated",
        organization_id=organization.pk,
        user_id=user_id,
        status=member.status,
    )
    return member


def check_rate(organization: Organization, cents: int) -> None:
    low, high = organization.min_hourly_rate_cents, organization.max_hourly_rate_cents
    if not low <= cents <= high:
        currency = organization.currency
        raise RuleViolation(
            f"The hourly rate must be between {format_cents(low, currency)} and "
            f"{format_cents(high, currency)} (the organization's policy); "
            f"{format_cents(cents, currency)} is outside.",
            code="rate_out_of_bounds",
            field="hourly_rate",
            minimum_cents=low,
            maximum_cents=high,
        )


def _tutor_membership(organization: Organization, user_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user_id=user_id, role=Role.TUTOR)
        .first()
    )
    if membership is None:
        if Member.objects.filter(organization=organization, user_id=user_id).exists():
            raise RuleViolation(
                "Only tutors have an hourly rate and a payroll employee id; give them the "
                "tutor role first.",
                code="not_a_tutor",
            )
        raise NotFound("There is no such person in this organization.")
    return membership


def set_tutor_rate(
    *, organization_id: int, tutor_id: int, actor: User, hourly_rate_cents: int | None
) -> int:
    """The tutor's own rate, within the policy's bounds; None returns them to the default.
    Only completions after the change earn the new rate: each completion keeps its own."""
    require_transaction()
    organization = admin_organization(actor, organization_id, lock=True)
    _tutor_membership(organization, tutor_id)
    previous = (
        TutorRate.objects.filter(organization=organization, tutor_id=tutor_id)
        .values_list("hourly_rate_cents", flat=True)
        .first()
    )
    if hourly_rate_cents is None:
        TutorRate.objects.filter(organization=organization, tutor_id=tutor_id).delete()
        effective = organization.default_hourly_rate_cents
    else:
        check_rate(organization, hourly_rate_cents)
        TutorRate.objects.update_or_create(
            organization=organization,
            tutor_id=tutor_id,
            defaults={"hourly_rate_cents": hourly_rate_cents},
        )
        effective = hourly_rate_cents
    if previous != hourly_rate_cents:
        audit.record(
            actor=actor,
            action="person.rate_set",
            organization_id=organization.pk,
            user_id=tutor_id,
            previous_cents=previous,
            hourly_rate_cents=hourly_rate_cents,
        )
    return effective


def set_employee_id(*, organization_id: int, tutor_id: int, actor: User, employee_id: str) -> None:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    membership = _tutor_membership(organization, tutor_id)
    value = employee_id.strip()
    if len(value) > 64:
        raise InvalidInput(
            "An employee id has at most 64 characters.",
            code="invalid_employee_id",
            field="employee_id",
        )
    value = clean_text(value, field="Employee id", max_length=64)
    if membership.employee_id == value:
        return
    previous = membership.employee_id
    membership.employee_id = value
    membership.save(update_fields=["employee_id"])
    audit.record(
        actor=actor,
        action="person.employee_id_set",
        organization_id=organization.pk,
        user_id=tutor_id,
        previous=previous,
        employee_id=value,
    )

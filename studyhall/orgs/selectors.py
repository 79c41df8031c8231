from studyhall.accounts.models import User
from studyhall.orgs.models import Membership, Organization, Role, TutorRate


def roles_of(user: User, organization_id: int) -> set[str]:
    return set(
        Membership.objects.filter(user=user, organization_id=organization_id).values_list(
            "role", flat=True
        )
    )


def is_member(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(user=user, organization_id=organization_id).exists()


def has_role(user: User, organization_id: int, role: Role) -> bool:
    return Membership.objects.filter(user=user, organization_id=organization_id, role=role).exists()


def hourly_rate_cents(*, organization: Organization, tutor_id: int) -> int:
    """The tutor's override for this organization, else the organization's default."""
    override = (
        TutorRate.objects.filter(organization=organization, tutor_id=tutor_id)
        .values_list("hourly_rate_cents", flat=True)
        .first()
    )
    return override if override is not None else organization.default_hourly_rate_cents


def organizations_of(user: User) -> list[Organization]:
    return list(Organization.objects.filter(memberships__user=user).distinct())

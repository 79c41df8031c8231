from django.db.models import F, OuterRef, Subquery
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce

from studyhall.accounts.models import User
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Membership,
    Organization,
    Role,
    TutorCourse,
    TutorRate,
)


def roles_of(user: User, organization_id: int) -> set[str]:
    return set(
        Membership.objects.filter(
            user=user, organization_id=organization_id, is_active=True
        ).values_list("role", flat=True)
    )


def is_member(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organization_id=organization_id, is_active=True
    ).exists()


def has_role(user: User, organization_id: int, role: Role) -> bool:
    return Membership.objects.filter(
        user=user, organization_id=organization_id, role=role, is_active=True
    ).exists()


def hourly_rate_cents(*, organization: Organization, tutor_id: int) -> int:
    """The tutor's override for this organization, else the organization's default."""
    override = (
        TutorRate.objects.filter(organization=organization, tutor_id=tutor_id)
        .values_list("hourly_rate_cents", flat=True)
        .first()
    )
    return override if override is not None else organization.default_hourly_rate_cents


def hourly_rate_expression(
    *, organization_field: str = "organization", tutor_field: str = "tutor"
) -> Expression:
    """The same rule as `hourly_rate_cents`, as an annotation on rows that name an
    organization and a tutor (a session), so the rate comes with the row that is read anyway."""
    override = TutorRate.objects.filter(
        organization_id=OuterRef(f"{organization_field}_id"),
        tutor_id=OuterRef(f"{tutor_field}_id"),
    ).values("hourly_rate_cents")[:1]
    return Coalesce(Subquery(override), F(f"{organization_field}__default_hourly_rate_cents"))


def organizations_of(user: User) -> list[Organization]:
    return list(
        Organization.objects.filter(memberships__user=user, memberships__is_active=True).distinct()
    )


# -- courses: who takes them and who tutors them ------------------------------------------


def is_enrolled(*, student_id: int, course: Course) -> bool:
    return Enrollment.objects.filter(
        course=course, course__archived_at__isnull=True, student_id=student_id
    ).exists()


def is_approved_tutor(*, tutor_id: int, course: Course) -> bool:
    return TutorCourse.objects.filter(
        course=course, tutor_id=tutor_id, status=ApprovalStatus.ACTIVE
    ).exists()


def enrolled_courses(student: User) -> list[Course]:
    """The courses the user takes, in organizations where they are a student."""
    return list(
        Course.objects.filter(
            enrollments__student=student,
            archived_at__isnull=True,
            organization__memberships__user=student,
            organization__memberships__role=Role.STUDENT,
            organization__memberships__is_active=True,
        )
        .select_related("organization")
        .distinct()
        .order_by("organization__name", "code")
    )


def tutored_courses(tutor: User) -> list[Course]:
    """The courses the user is approved to tutor, in organizations where they are a tutor."""
    return list(
        Course.objects.filter(
            tutor_approvals__tutor=tutor,
            tutor_approvals__status=ApprovalStatus.ACTIVE,
            archived_at__isnull=True,
            organization__memberships__user=tutor,
            organization__memberships__role=Role.TUTOR,
            organization__memberships__is_active=True,
        )
        .select_related("organization")
        .distinct()
        .order_by("organization__name", "code")
    )


def tutors_of_course(course: Course) -> list[User]:
    """Tutors approved for the course who are still tutors of its organization."""
    return list(
        User.objects.filter(
            tutor_courses__course=course,
            tutor_courses__status=ApprovalStatus.ACTIVE,
            memberships__organization_id=course.organization_id,
            memberships__role=Role.TUTOR,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("name", "email")
    )


def students_of_course(course: Course) -> list[User]:
    """Students enrolled in the course who are still students of its organization."""
    return list(
        User.objects.filter(
            enrollments__course=course,
            memberships__organization_id=course.organization_id,
            memberships__role=Role.STUDENT,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("name", "email")
    )

import zoneinfo
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from studyhall.accounts.models import validate_time_zone
from studyhall.core.money import CURRENCY_CHOICES, format_cents

# Below a dollar an hour a 5-minute session would earn nothing, and an earning of zero cents
# is not a transfer the ledger can record.
MIN_HOURLY_RATE_CENTS = 100
# The lengths a session may have (tutoring.rules.DURATION_CHOICES, which orgs cannot import).
SESSION_LENGTHS = list(range(5, 91, 5))


class PayoutProvider(models.TextChoices):
    STRIPE = "stripe", "Stripe Connect (tutors connect a bank account)"
    PAYROLL = "payroll", "Payroll export (an org admin downloads a CSV each week)"


class SignupPolicy(models.TextChoices):
    INVITED = "invited", "Invited people only"
    DOMAINS = "domains", "Invited people, and anyone with an email at the organization's domains"


# The most a program may pay an hour unless an operator raises it in the org's policy: the
# Django admin once let $800/h through, and a typo in a rate is money.
DEFAULT_MAX_HOURLY_RATE_CENTS = 10_000


class Organization(models.Model):
    """A college or tutoring program, with its policy settings."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    grace_hours = models.PositiveIntegerField(
        default=72, help_text="Hours after a session ends during which its tutor can log it."
    )
    classroom_closes_minutes = models.PositiveSmallIntegerField(
        default=90,
        help_text="Minutes after a session's scheduled end until its online classroom closes; "
        "a call can no longer move the logging deadline after that.",
    )
    min_recap_chars = models.PositiveIntegerField(
        default=150, help_text="Characters the three recap answers must hold together."
    )
    default_hourly_rate_cents = models.BigIntegerField(default=1500)
    min_hourly_rate_cents = models.BigIntegerField(
        default=MIN_HOURLY_RATE_CENTS, help_text="The lowest hourly rate an admin may set."
    )
    max_hourly_rate_cents = models.BigIntegerField(
        default=DEFAULT_MAX_HOURLY_RATE_CENTS, help_text="The highest hourly rate an admin may set."
    )
    signup_policy = models.CharField(
        max_length=16,
        choices=SignupPolicy.choices,
        default=SignupPolicy.INVITED,
        help_text="Who may create an account in the organization.",
    )
    # Lower-case domains without "@" ("college.edu"); used when signup_policy is "domains".
    signup_email_domains = models.JSONField(default=list, blank=True)
    payout_provider = models.CharField(
        max_length=16,
        choices=PayoutProvider.choices,
        default=PayoutProvider.STRIPE,
        help_text="How tutors are paid: Stripe transfers, or the org's own payroll.",
    )
    payout_delay_days = models.PositiveSmallIntegerField(
        default=12,
        help_text="Days from the last day (Sunday) of a week to its payout date; 12 is the "
        "Friday of the second week after.",
    )
    min_payout_cents = models.BigIntegerField(
        default=100, help_text="A smaller weekly payout rolls into the next week."
    )
    # Booking limits (policy), checked whenever a session is booked, accepted or moved.
    max_group_size = models.PositiveSmallIntegerField(
        default=6, help_text="Students a tutor may invite to one session."
    )
    max_session_minutes = models.PositiveSmallIntegerField(
        default=90, help_text="The longest session that can be booked (5 to 90, in steps of 5)."
    )
    student_weekly_minutes_per_course = models.PositiveIntegerField(
        default=180, help_text="Minutes a student may book per course per week (Monday–Sunday)."
    )
    tutor_weekly_minutes = models.PositiveIntegerField(
        default=900, help_text="Minutes a tutor may be booked per week (Monday–Sunday)."
    )
    pair_sessions_per_day = models.PositiveSmallIntegerField(
        default=1, help_text="Sessions one tutor and one student may have on one calendar day."
    )
    # After a session: each student who came confirms it happened as logged, or disputes it;
    # the earning is paid out only once confirmed (silence confirms after the hours below).
    confirmations_required = models.BooleanField(
        default=True,
        help_text="Students confirm each completed session before its earning is paid out.",
    )
    auto_confirm_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Hours after completion when a student's silence confirms."
    )
    # Recaps worth reading: a near-copy of the tutor's own recent recaps, or filler.
    recap_check = models.CharField(
        max_length=8,
        choices=[
            ("refuse", "Refuse it"),
            ("flag", "Accept it, flagged for the admins"),
            ("off", "Do not check"),
        ],
        default="refuse",
        help_text="What happens to a recap that nearly repeats an earlier one or is filler.",
    )
    recap_similarity_percent = models.PositiveSmallIntegerField(
        default=90, help_text="How similar to an earlier recap (word pairs) counts as a copy."
    )
    # A state's own 1099 threshold on top of the federal one (some states keep $600).
    state_1099_threshold_cents = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Paid amount in a year from which the state also expects a 1099 (cents).",
    )
    # No-shows (ADR 17): when an online session's tutor counts as not having come, and what
    # each person's no-shows in a term lead to (0 turns a consequence off).
    tutor_no_show_minutes = models.PositiveSmallIntegerField(
        default=15,
        help_text="Minutes after the start when an online session whose student waited in the "
        "classroom without the tutor is missed as a tutor no-show.",
    )
    no_show_warning_threshold = models.PositiveSmallIntegerField(
        default=2, help_text="No-shows in a term that bring a warning (0: no warnings)."
    )
    no_show_suspension_threshold = models.PositiveSmallIntegerField(
        default=3,
        help_text="No-shows in a term that suspend booking until an org admin lifts it "
        "(0: never suspended).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(payout_provider__in=PayoutProvider.values),
                name="org_payout_provider_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(payout_delay_days__lte=60), name="org_payout_delay_in_range"
            ),
            models.CheckConstraint(
                condition=models.Q(min_payout_cents__gte=1), name="org_min_payout_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(recap_similarity_percent__gte=50)
                & models.Q(recap_similarity_percent__lte=100),
                name="org_recap_similarity_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(recap_check__in=["refuse", "flag", "off"]),
                name="org_recap_check_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(auto_confirm_hours__gte=1, auto_confirm_hours__lte=24 * 30),
                name="org_auto_confirm_hours_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(state_1099_threshold_cents__isnull=True)
                | models.Q(state_1099_threshold_cents__gte=1),
                name="org_state_1099_threshold_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(default_hourly_rate_cents__gte=MIN_HOURLY_RATE_CENTS),
                name="org_rate_at_least_one_dollar",
            ),
            models.CheckConstraint(
                condition=models.Q(min_hourly_rate_cents__gte=MIN_HOURLY_RATE_CENTS)
                & models.Q(min_hourly_rate_cents__lte=models.F("max_hourly_rate_cents")),
                name="org_rate_bounds_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(default_hourly_rate_cents__gte=models.F("min_hourly_rate_cents"))
                & models.Q(default_hourly_rate_cents__lte=models.F("max_hourly_rate_cents")),
                name="org_default_rate_within_bounds",
            ),
            models.CheckConstraint(
                condition=models.Q(signup_policy__in=SignupPolicy.values),
                name="org_signup_policy_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(grace_hours__gte=1, grace_hours__lte=24 * 30),
                name="org_grace_hours_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(classroom_closes_minutes__lte=24 * 60),
                name="org_classroom_closes_within_a_day",
            ),
            models.CheckConstraint(
                condition=models.Q(max_group_size__gte=1, max_group_size__lte=50),
                name="org_max_group_size_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_session_minutes__in=SESSION_LENGTHS),
                name="org_max_session_minutes_5_to_90_step_5",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    student_weekly_minutes_per_course__gte=5,
                    student_weekly_minutes_per_course__lte=7 * 24 * 60,
                ),
                name="org_student_weekly_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    tutor_weekly_minutes__gte=5, tutor_weekly_minutes__lte=7 * 24 * 60
                ),
                name="org_tutor_weekly_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pair_sessions_per_day__gte=1, pair_sessions_per_day__lte=24),
                name="org_pair_sessions_per_day_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(tutor_no_show_minutes__gte=1, tutor_no_show_minutes__lte=120),
                name="org_tutor_no_show_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    no_show_warning_threshold__lte=50, no_show_suspension_threshold__lte=50
                ),
                name="org_no_show_thresholds_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    TUTOR = "tutor", "Tutor"
    ADMIN = "admin", "Org admin"


class Membership(models.Model):
    """One role of one user in one organization; a peer tutor holds two rows."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # False while the person is deactivated in the organization (Member.status): their roles
    # stop counting, their history stays. Kept by studyhall.orgs.services.people.
    is_active = models.BooleanField(default=True)
    employee_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The tutor's employee id in the organization's payroll (tutor memberships).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "role"], name="one_membership_per_role"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organization}"


class MemberStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated"


class Member(models.Model):
    """A person in an organization, whatever their roles: status and the school's own ID."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_members"
    )
    status = models.CharField(
        max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # The school's student (or staff) ID, the key of roster imports; blank when unknown.
    school_id = models.CharField(max_length=64, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Copies of the user's name and email, so that the console's People list can read an
    # organization's members in name order from one index instead of sorting all of them
    # through the join. Filled on creation and kept by studyhall.orgs.sorting.
    sort_name = models.CharField(max_length=150, blank=True, editable=False)
    sort_email = models.CharField(max_length=254, blank=True, editable=False)

    class Meta:
        ordering = ["organization", "user"]
        indexes = [
            models.Index(
                fields=["organization", "sort_name", "sort_email", "id"],
                name="member_org_name_order",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_member_per_org"),
            models.UniqueConstraint(
                fields=["organization", "school_id"],
                condition=~models.Q(school_id=""),
                name="school_id_unique_per_org",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=MemberStatus.values), name="member_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organization} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not (self.sort_name or self.sort_email):
            self.sort_name, self.sort_email = self.user.name, self.user.email
        super().save(*args, **kwargs)


class Course(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="courses")
    code = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    # Archived courses keep their sessions but can no longer be booked or enrolled in.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="course_code_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class TutorRate(models.Model):
    """A tutor's own hourly rate in one organization, overriding the organization default."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_rates"
    )
    hourly_rate_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "tutor"], name="one_rate_per_tutor"),
            models.CheckConstraint(
                condition=models.Q(hourly_rate_cents__gte=MIN_HOURLY_RATE_CENTS),
                name="tutor_rate_at_least_one_dollar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tutor} at {self.organization}: {self.hourly_rate_cents} cents/h"

    def clean(self) -> None:
        # The Django admin's forms call this; the console goes through orgs.services.people.
        org = self.organization
        low, high = org.min_hourly_rate_cents, org.max_hourly_rate_cents
        if self.hourly_rate_cents is not None and not low <= self.hourly_rate_cents <= high:
            raise ValidationError(
                {
                    "hourly_rate_cents": f"Must be between {low} and {high} cents "
                    f"(the policy of {org.name})."
                }
            )


class Enrollment(models.Model):
    """A student taking a course: they may book tutors approved for it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "student"]
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="one_enrollment_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.course.code}"


class ApprovalStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"  # the tutor applied; an admin has not decided
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class TutorCourse(models.Model):
    """A tutor's standing for one course: applied (unverified), approved (active) or disabled.
    Only active approvals let students book the tutor for the course."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tutor_approvals")
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_courses"
    )
    status = models.CharField(
        max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.ACTIVE
    )
    note = models.TextField(blank=True, help_text="What the tutor wrote when applying.")
    transcript = models.FileField(upload_to="transcripts/%Y/", blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "tutor"]
        verbose_name = "tutor approval"
        constraints = [
            models.UniqueConstraint(
                fields=["course", "tutor"], name="one_approval_per_tutor_course"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ApprovalStatus.values),
                name="tutor_approval_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tutor} tutors {self.course.code}"


class Term(models.Model):
    """A term of the organization's calendar (Fall 2026), the period reports cover."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=100)
    start = models.DateField()
    end = models.DateField(help_text="The term's last day, inclusive.")

    class Meta:
        ordering = ["organization", "-start"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="term_name_per_org"),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="term_ends_after_it_starts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start}–{self.end})"


class BudgetUnit(models.TextChoices):
    MONEY = "money", "Money"
    HOURS = "hours", "Hours of tutoring"


# The program a new organization starts with: no cap, any student, any course.
DEFAULT_PROGRAM_NAME = "General tutoring"
OPEN_START = date(2000, 1, 1)
OPEN_END = date(2099, 12, 31)


class Program(models.Model):
    """What an organization pays for: a set of students in a set of courses (optionally with a
    set of tutors) over a date range, within a budget in money (cents) or hours (minutes).

    The default program, if the organization marks one, pays for sessions no other program
    covers. Booking and completion check coverage and the budget left (`tutoring.programs`);
    each program's spending is its own ledger account.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="programs"
    )
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The program's last day, inclusive.")
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="funding_programs"
    )
    courses = models.ManyToManyField(Course, blank=True, related_name="programs")
    # Empty: any tutor approved for the course.
    tutors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="tutoring_programs"
    )
    budget_unit = models.CharField(
        max_length=8, choices=BudgetUnit.choices, default=BudgetUnit.MONEY
    )
    # Cents for a money budget, minutes for an hours budget; blank: no cap.
    budget_amount = models.BigIntegerField(null=True, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Pays for the sessions no other program covers."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="program_name_per_org"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="one_default_program_per_org",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="program_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_unit__in=BudgetUnit.values),
                name="program_budget_unit_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | models.Q(budget_amount__gte=0),
                name="program_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_default=True, archived_at__isnull=False),
                name="default_program_not_archived",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.archived_at is None

    def format_amount(self, amount: int) -> str:
        """An amount in this program's unit: $1,500.00, or 12 h 30 min."""
        if self.budget_unit == BudgetUnit.MONEY:
            return format_cents(amount, self.organization.currency)
        return format_minutes(amount)

    @property
    def budget_label(self) -> str:
        if self.budget_amount is None:
            return "No cap"
        return self.format_amount(self.budget_amount)


def format_minutes(minutes: int) -> str:
    """Hours of a budget: 40 h, 12 h 30 min, 45 min; a shortfall keeps its sign."""
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if not hours:
        return f"{sign}{rest} min" if rest else "0 h"
    return f"{sign}{hours:,} h" if not rest else f"{sign}{hours:,} h {rest} min"

import zoneinfo

from django.conf import settings
from django.db import models

from studyhall.accounts.models import validate_time_zone
from studyhall.core.money import CURRENCY_CHOICES

# Below a dollar an hour a 5-minute session would earn nothing, and an earning of zero cents
# is not a transfer the ledger can record.
MIN_HOURLY_RATE_CENTS = 100


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
    min_recap_chars = models.PositiveIntegerField(
        default=150, help_text="Characters the three recap answers must hold together."
    )
    default_hourly_rate_cents = models.BigIntegerField(default=1500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_hourly_rate_cents__gte=MIN_HOURLY_RATE_CENTS),
                name="org_rate_at_least_one_dollar",
            ),
            models.CheckConstraint(
                condition=models.Q(grace_hours__gte=1, grace_hours__lte=24 * 30),
                name="org_grace_hours_in_range",
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


class Course(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="courses")
    code = models.CharField(max_length=32)
    title = models.CharField(max_length=200)

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

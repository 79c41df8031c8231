"""Forms turn the console's posted text into typed values; the services decide the rest."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core import validators

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.core.money import CURRENCY_CHOICES, parse_decimal_amount
from studyhall.orgs.models import ApprovalStatus, Course, PayoutProvider, Role, SignupPolicy
from studyhall.orgs.services.policy import (
    BOOLEAN_SETTINGS,
    INTEGER_SETTINGS,
    OPTIONAL_CENTS_SETTINGS,
)
from studyhall.tutoring.booking_forms import PlaceFields
from studyhall.tutoring.services.scheduling import REASON_MAX_CHARS

ROLE_CHOICES = Role.choices


def refuse(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal next to the field it names, or on the form as a whole."""
    field = error.extra.get("field")
    form.add_error(
        field if isinstance(field, str) and field in form.fields else None, error.message
    )


class MoneyField(forms.CharField):
    """An amount typed as text ("15.00"), cleaned to cents. Its length is checked on the
    text: the length validators a CharField adds cannot measure the cents it returns."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators = [
            v
            for v in self.validators
            if not isinstance(v, validators.MaxLengthValidator | validators.MinLengthValidator)
        ]

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        if self.max_length is not None and len(text) > self.max_length:
            raise forms.ValidationError(f"Type at most {self.max_length} characters.")
        try:
            return parse_decimal_amount(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class InviteForm(forms.Form):
    email = forms.CharField(label="Email", max_length=254)
    name = forms.CharField(label="Name", max_length=150, required=False)
    school_id = forms.CharField(label="School ID", max_length=64, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class RateForm(forms.Form):
    hourly_rate = MoneyField(
        label="Hourly rate",
        required=False,
        max_length=12,
        help_text="Leave empty to pay the organization's default rate.",
    )


class EmployeeIdForm(forms.Form):
    employee_id = forms.CharField(label="Payroll employee id", max_length=64, required=False)


class CourseForm(forms.Form):
    code = forms.CharField(label="Code", max_length=32)
    title = forms.CharField(label="Title", max_length=200)


class EnrollForm(forms.Form):
    email = forms.CharField(label="Student's email or school ID", max_length=254)


class ApprovalForm(forms.Form):
    tutor = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(
        choices=[(ApprovalStatus.ACTIVE, "Active"), (ApprovalStatus.DISABLED, "Disabled")]
    )
    reason = forms.CharField(label="Reason (optional)", max_length=2000, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=REASON_MAX_CHARS,
        help_text="The tutor and every student on the session see it.",
    )


# Students are named by email or school ID, separated by commas, semicolons or new lines.
STUDENT_SEPARATORS = re.compile(r"[,;\s]+")
MAX_STUDENTS_NAMED = 50


class BookForm(PlaceFields):
    """A session an admin books for a tutor; the start is in the organization's time zone."""

    tutor = forms.TypedChoiceField(label="Tutor", coerce=int)
    course = forms.TypedChoiceField(label="Course", coerce=int)
    students = forms.CharField(
        label="Students",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Their emails or school IDs, separated by commas or new lines.",
    )

    def __init__(
        self, *args: Any, zone: ZoneInfo, tutors: list[User], courses: list[Course], **kwargs: Any
    ) -> None:
        super().__init__(*args, zone=zone, **kwargs)
        tutor = self.fields["tutor"]
        course = self.fields["course"]
        assert isinstance(tutor, forms.TypedChoiceField)
        assert isinstance(course, forms.TypedChoiceField)
        tutor.choices = [("", "Choose a tutor"), *((t.pk, t.display_name) for t in tutors)]
        course.choices = [("", "Choose a course"), *((c.pk, c.code) for c in courses)]
        self.fields["time"].help_text = f"In the organization's time zone, {zone.key}."
        self.fields["notes"].help_text = "What the session is for; the tutor and students see it."
        self.order_fields(["tutor", "course", "students"])

    def clean_students(self) -> list[str]:
        named = [s for s in STUDENT_SEPARATORS.split(self.cleaned_data["students"]) if s]
        if not named:
            raise forms.ValidationError("Name at least one student.")
        if len(named) > MAX_STUDENTS_NAMED:
            raise forms.ValidationError(f"Name at most {MAX_STUDENTS_NAMED} students.")
        return list(dict.fromkeys(named))


class ResolveAbsenceForm(forms.Form):
    decision = forms.ChoiceField(
        label="What happened",
        choices=[
            ("tutor_came", "The tutor came: the session can be logged"),
            ("tutor_absent", "The tutor did not come: the session is missed, counted as a no-show"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        required=False,
        help_text="Kept in the audit log with your decision.",
    )

    @property
    def tutor_came(self) -> bool:
        return bool(self.cleaned_data["decision"] == "tutor_came")


class LiftSuspensionForm(forms.Form):
    role = forms.ChoiceField(
        choices=[("student", "Student"), ("tutor", "Tutor")], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label="Why lift it",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="The person is told their booking is restored; the reason is audited.",
    )


class RosterForm(forms.Form):
    file = forms.FileField(label="Roster CSV file")


class ApplyForm(forms.Form):
    course = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label="Why you can tutor it (grade, experience)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    transcript = forms.FileField(label="Transcript (optional: PDF, PNG or JPEG)", required=False)


MONEY_SETTINGS = {
    "default_hourly_rate_cents": "default_hourly_rate",
    "min_hourly_rate_cents": "min_hourly_rate",
    "max_hourly_rate_cents": "max_hourly_rate",
    "min_payout_cents": "min_payout",
    "state_1099_threshold_cents": "state_1099_threshold",
}
# The policy page's fieldsets: (legend, id, fields), in order.
POLICY_GROUPS = [
    (
        "Logging sessions",
        "logging",
        ["grace_hours", "classroom_closes_minutes", "min_recap_chars"],
    ),
    ("Recaps worth reading", "recaps", ["recap_check", "recap_similarity_percent"]),
    (
        "Students confirm sessions",
        "confirmations",
        ["confirmations_required", "auto_confirm_hours"],
    ),
    (
        "Booking limits",
        "booking",
        [
            "max_session_minutes",
            "max_group_size",
            "student_weekly_minutes_per_course",
            "tutor_weekly_minutes",
            "pair_sessions_per_day",
        ],
    ),
    (
        "No-shows",
        "no-shows",
        ["tutor_no_show_minutes", "no_show_warning_threshold", "no_show_suspension_threshold"],
    ),
    (
        "Pay and payouts",
        "pay",
        [
            "default_hourly_rate",
            "min_hourly_rate",
            "max_hourly_rate",
            "payout_provider",
            "payout_delay_days",
            "min_payout",
            "state_1099_threshold",
        ],
    ),
    ("Organization", "organization", ["time_zone", "currency"]),
    ("Who may sign up", "signup", ["signup_policy", "signup_email_domains"]),
]


class PolicyForm(forms.Form):
    grace_hours = forms.IntegerField(
        label="Grace period (hours after a session ends)",
        help_text="How long a tutor can still log a session; Support logs it after that.",
    )
    classroom_closes_minutes = forms.IntegerField(
        label="Classroom closes (minutes after the scheduled end)",
        help_text="0 to 1440. A call after that no longer moves the logging deadline.",
    )
    min_recap_chars = forms.IntegerField(label="Minimum recap length (characters)")
    recap_check = forms.ChoiceField(
        label="A recap that nearly repeats an earlier one, or is filler",
        choices=[
            ("refuse", "Refuse it"),
            ("flag", "Accept it, flagged for the admins"),
            ("off", "Do not check"),
        ],
    )
    recap_similarity_percent = forms.IntegerField(
        label="Similarity that counts as a copy (%)",
        help_text="50 to 100: how much of a recap's word pairs an earlier recap of the tutor's "
        "may share.",
    )
    confirmations_required = forms.BooleanField(
        label="Students confirm each completed session before its earning is paid out",
        required=False,
    )
    auto_confirm_hours = forms.IntegerField(
        label="Silence confirms after (hours)",
        help_text="1 to 720 hours after completion; a dispute keeps its part held.",
    )
    default_hourly_rate = MoneyField(label="Default hourly rate", max_length=12)
    min_hourly_rate = MoneyField(label="Lowest hourly rate an admin may set", max_length=12)
    max_hourly_rate = MoneyField(label="Highest hourly rate an admin may set", max_length=12)
    max_session_minutes = forms.IntegerField(label="Longest session (minutes)")
    max_group_size = forms.IntegerField(label="Students in one group session")
    student_weekly_minutes_per_course = forms.IntegerField(
        label="Minutes a student may book per course per week"
    )
    tutor_weekly_minutes = forms.IntegerField(label="Minutes a tutor may be booked per week")
    pair_sessions_per_day = forms.IntegerField(
        label="Sessions one tutor and one student may have per day"
    )
    tutor_no_show_minutes = forms.IntegerField(
        label="An online tutor is a no-show after (minutes)",
        help_text="1 to 120. When a student waited in the classroom and the tutor has not "
        "joined this long after the start, the session is missed as a tutor no-show.",
    )
    no_show_warning_threshold = forms.IntegerField(
        label="No-shows in a term that bring a warning",
        help_text="0 turns warnings off. Counted per term, or over the last 120 days when no "
        "term covers today.",
    )
    no_show_suspension_threshold = forms.IntegerField(
        label="No-shows in a term that suspend booking",
        help_text="0 turns suspensions off. A suspended person cannot book or be booked until "
        "an admin lifts it on their page.",
    )
    payout_provider = forms.ChoiceField(label="Payout provider", choices=PayoutProvider.choices)
    payout_delay_days = forms.IntegerField(label="Payout delay (days after the week's Sunday)")
    min_payout = MoneyField(label="Minimum payout", max_length=12)
    state_1099_threshold = MoneyField(
        label="State 1099 threshold (optional)",
        max_length=12,
        required=False,
        help_text="Paid in a year from which your state also expects a 1099; empty if none.",
    )
    time_zone = forms.CharField(label="Time zone", max_length=64)
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)
    signup_policy = forms.ChoiceField(
        label="Who may sign up", choices=SignupPolicy.choices, widget=forms.RadioSelect
    )
    signup_email_domains = forms.CharField(
        label="Email domains allowed to sign up",
        required=False,
        max_length=2000,
        help_text="Separated by spaces or commas, like college.edu students.college.edu.",
    )

    # The form's own field for each policy setting.
    @staticmethod
    def field_of(setting: str) -> str:
        return MONEY_SETTINGS.get(setting, setting)

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (legend, anchor, [self[name] for name in names])
            for legend, anchor, names in POLICY_GROUPS
        ]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        for setting in [
            *INTEGER_SETTINGS,
            *OPTIONAL_CENTS_SETTINGS,
            *BOOLEAN_SETTINGS,
            "payout_provider",
            "recap_check",
            "time_zone",
            "currency",
            "signup_policy",
        ]:
            changes[setting] = data[self.field_of(setting)]
        changes["signup_email_domains"] = data["signup_email_domains"]
        return changes

    def refuse(self, error: DomainError) -> None:
        field = error.extra.get("field")
        name = self.field_of(field) if isinstance(field, str) else None
        self.add_error(name if name in self.fields else None, error.message)

"""The program forms: posted text into the typed `ProgramInput` the program services take."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from studyhall.accounts.models import User
from studyhall.core.money import parse_decimal_amount
from studyhall.orgs.models import BudgetUnit, Course, Organization, Program
from studyhall.orgs.services.programs import ProgramInput


def parse_hours(text: str) -> int:
    """'40', '12.5', '0.75' hours → minutes (whole minutes, at most two decimals)."""
    cleaned = text.strip().replace(",", "")
    try:
        hours = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("Enter hours like 40 or 12.5") from exc
    if not hours.is_finite() or hours < 0 or hours.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("Enter hours like 40 or 12.5, with at most two decimals")
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        raise ValueError("Enter hours that make whole minutes (like 12.5 or 0.75)")
    return int(minutes)


class ProgramForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    starts_on = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    budget_unit = forms.ChoiceField(
        label="Budget in", choices=BudgetUnit.choices, widget=forms.RadioSelect
    )
    budget = forms.CharField(
        label="Budget",
        max_length=20,
        required=False,
        help_text="An amount like 1500.00, or hours like 40; leave empty for no cap.",
    )
    courses = forms.ModelMultipleChoiceField(
        label="Courses it pays for",
        queryset=Course.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    tutors = forms.ModelMultipleChoiceField(
        label="Only these tutors (optional)",
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked to pay for any tutor approved for the course.",
    )
    is_default = forms.BooleanField(
        label="Default program (pays for sessions no other program covers)", required=False
    )

    def __init__(self, *args: Any, organization: Organization, tutors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        courses = self.fields["courses"]
        assert isinstance(courses, forms.ModelMultipleChoiceField)
        courses.queryset = Course.objects.filter(
            organization=organization, archived_at__isnull=True
        ).order_by("code")
        tutor_field = self.fields["tutors"]
        assert isinstance(tutor_field, forms.ModelMultipleChoiceField)
        tutor_field.queryset = tutors

    @classmethod
    def initial_for(cls, program: Program) -> dict[str, Any]:
        budget = ""
        if program.budget_amount is not None:
            if program.budget_unit == BudgetUnit.MONEY:
                whole, part = divmod(program.budget_amount, 100)
                budget = f"{whole}.{part:02d}"
            else:
                budget = f"{Decimal(program.budget_amount) / 60:f}".rstrip("0").rstrip(".")
        return {
            "name": program.name,
            "starts_on": program.starts_on,
            "ends_on": program.ends_on,
            "budget_unit": program.budget_unit,
            "budget": budget,
            "courses": list(program.courses.all()),
            "tutors": list(program.tutors.all()),
            "is_default": program.is_default,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("budget") or "").strip()
        data["budget_amount"] = None
        if text:
            try:
                data["budget_amount"] = (
                    parse_hours(text)
                    if data.get("budget_unit") == BudgetUnit.HOURS
                    else parse_decimal_amount(text)
                )
            except ValueError as exc:
                self.add_error("budget", str(exc))
        return data

    def program_input(self, *, student_ids: list[int] | None) -> ProgramInput:
        data = self.cleaned_data
        return ProgramInput(
            name=data["name"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            budget_unit=data["budget_unit"],
            budget_amount=data["budget_amount"],
            course_ids=[c.pk for c in data["courses"]],
            student_ids=student_ids,
            tutor_ids=[t.pk for t in data["tutors"]],
            is_default=data["is_default"],
        )


class ProgramStudentsForm(forms.Form):
    students = forms.CharField(
        label="Students' emails or school IDs, one a line",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20_000,
    )

    def wanted(self) -> list[str]:
        lines = self.cleaned_data["students"].replace(",", "\n").splitlines()
        return list(dict.fromkeys(line.strip() for line in lines if line.strip()))

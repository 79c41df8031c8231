"""The booking forms: a request, an invitation, a new time. They only parse what was typed and
turn the date and time into a moment in the viewer's time zone; the rules (lengths, limits,
who may book) belong to the services, so the page and the API refuse with the same words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from studyhall.accounts.models import User
from studyhall.tutoring.models import Mode
from studyhall.tutoring.rules import DURATION_OPTIONS
from studyhall.tutoring.services.scheduling import (
    LOCATION_MAX_CHARS,
    NOTES_MAX_CHARS,
    REASON_MAX_CHARS,
)


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The wall-clock `day` and `clock` in `zone` as an aware datetime. A time the clocks skip
    (2:30 AM on the night they spring forward) is refused; a time that happens twice (the
    night they fall back) is the first of the two. A day at the calendar's very ends (year 1
    or 9999), where the moment cannot be moved into UTC, is refused too."""
    moment = datetime.combine(day, clock, tzinfo=zone)
    try:
        moment.astimezone(UTC).astimezone(zone)
    except OverflowError:
        raise forms.ValidationError(
            "Choose a date within a year of today: sessions are booked at most a year ahead.",
            code="date_out_of_range",
        ) from None
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise forms.ValidationError(
            f"{clock:%H:%M} does not exist on {day:%a, %b} {day.day} in {zone.key}: the clocks "
            "jump forward that night. Choose another time."
        )
    return moment


class WhenForm(forms.Form):
    """A start (date and time in the viewer's zone) and a length."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300}),
    )
    minutes = forms.TypedChoiceField(
        label="Length", coerce=int, choices=DURATION_OPTIONS, initial=60
    )

    def __init__(self, *args: Any, zone: ZoneInfo, max_minutes: int = 90, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.zone = zone
        minutes = self.fields["minutes"]
        assert isinstance(minutes, forms.TypedChoiceField)
        minutes.choices = [(m, label) for m, label in DURATION_OPTIONS if m <= max_minutes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time"):
            try:
                data["start"] = local_moment(data["date"], data["time"], self.zone)
            except forms.ValidationError as error:
                self.add_error("date" if error.code == "date_out_of_range" else "time", error)
        return data


class PlaceFields(WhenForm):
    mode = forms.ChoiceField(
        label="Where", choices=Mode.choices, initial=Mode.ONLINE, widget=forms.RadioSelect
    )
    location = forms.CharField(
        label="Place",
        required=False,
        max_length=LOCATION_MAX_CHARS,
        help_text="A room or a building, for an in-person session.",
    )
    notes = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you would like to work on.",
    )


class RequestForm(PlaceFields):
    pass


class InviteForm(PlaceFields):
    students = forms.TypedMultipleChoiceField(
        label="Students", coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, students: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["students"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(s.pk, s.display_name) for s in students]
        self.fields["notes"].help_text = "What you plan to cover; your students see it."
        self.order_fields(["students"])


class ProposeForm(WhenForm):
    message = forms.CharField(
        label="Message",
        required=False,
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the new time; the other side sees it.",
    )

"""The student's answer to "Did this session happen as logged?" on the session page."""

from __future__ import annotations

from django import forms

from studyhall.tutoring.models import DisputeKind
from studyhall.tutoring.rules import MINUTE_STEP


class DisputeForm(forms.Form):
    kind = forms.ChoiceField(
        label="What was different?",
        choices=DisputeKind.choices,
        widget=forms.RadioSelect,
        initial=DisputeKind.SHORTER,
    )
    shorter_by_minutes = forms.IntegerField(
        label="Shorter by (minutes)",
        required=False,
        min_value=MINUTE_STEP,
        max_value=85,
        step_size=MINUTE_STEP,
        help_text="In 5-minute steps; only for a shorter session.",
    )
    reason = forms.CharField(
        label="What happened?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Support reads it next to the tutor's log.",
        required=False,
    )

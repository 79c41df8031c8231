"""The Complete Session form. It only parses and redisplays what was typed: every rule (the
18 durations, the three prompts, the 150 characters) belongs to the completion service, so the
page and the API refuse with the same words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from studyhall.tutoring.rules import DURATION_OPTIONS, RECAP_ANSWER_MAX_CHARS, RECAP_PROMPTS
from studyhall.tutoring.services.completion import REASON_MAX_CHARS

RECAP_FIELDS = tuple(RECAP_PROMPTS)
ROUND_UP_HINT = "If the real time falls between two choices, round up."


def _answer_field(key: str) -> forms.CharField:
    return forms.CharField(
        label=RECAP_PROMPTS[key],
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "required": True,
                "maxlength": RECAP_ANSWER_MAX_CHARS,
                "data-recap-answer": True,
                "aria-describedby": "recap-count recap-rule",
            }
        ),
    )


class CompletionForm(forms.Form):
    minutes = forms.CharField(
        label="Time spent",
        required=False,
        help_text=ROUND_UP_HINT,
        widget=forms.Select(choices=[("", "Choose…"), *DURATION_OPTIONS], attrs={"required": True}),
    )
    topics_covered = _answer_field("topics_covered")
    tutee_progress = _answer_field("tutee_progress")
    next_steps = _answer_field("next_steps")
    # Made on GET and kept on every redisplay, so a double click or a resubmit completes once.
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    on_behalf_reason = forms.CharField(
        label="Reason (logged on the tutor's behalf)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "required": True, "maxlength": REASON_MAX_CHARS}),
    )

    no_shows = forms.TypedMultipleChoiceField(
        label="Did not come",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick anyone who said they would come and did not; they get no recap.",
    )

    def __init__(
        self,
        *args: Any,
        on_behalf: bool = False,
        accepted_students: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not on_behalf:
            del self.fields["on_behalf_reason"]
        # Only worth asking in a group: a one-to-one session nobody came to is not logged.
        if len(accepted_students) > 1:
            self.fields["no_shows"].choices = list(accepted_students)  # type: ignore[attr-defined]
        else:
            del self.fields["no_shows"]

    def clean_minutes(self) -> int | str | None:
        """A whole number when it looks like one; anything else goes to the service as sent,
        which refuses it with `invalid_duration`."""
        raw: str = self.cleaned_data["minutes"]
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) <= 3:
            return int(raw)
        return raw

    def recap(self) -> dict[str, object]:
        return {key: self.cleaned_data.get(key, "") for key in RECAP_FIELDS}

    def answers(self) -> dict[str, str]:
        """What was typed, for the count shown next to the prompts."""
        return {key: str(self.data.get(key, "")) for key in RECAP_FIELDS} if self.is_bound else {}


def recap_count_text(counted: int, minimum: int) -> str:
    """'142 / 150 characters — 8 more needed'; static/js/recap-count.js writes the same."""
    shown = f"{counted} / {minimum} characters"
    if counted < minimum:
        return f"{shown} — {minimum - counted} more needed"
    return f"{shown} — enough"

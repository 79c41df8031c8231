"""The Complete Session form, and the duration field every form that logs time uses. They only
parse and redisplay what was typed: every rule (the 18 durations, the three prompts, the 150
characters) belongs to the completion service, so the page, the classroom and the API refuse
with the same words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from studyhall.core.errors import DomainError
from studyhall.tutoring.models import ParticipantState, Session
from studyhall.tutoring.rules import (
    CONFIRMATION_CODES,
    DURATION_OPTIONS,
    RECAP_ANSWER_MAX_CHARS,
    RECAP_PROMPTS,
)
from studyhall.tutoring.services.completion import REASON_MAX_CHARS
from studyhall.web.form_errors import put_refusal_on_form

RECAP_FIELDS = tuple(RECAP_PROMPTS)
# The fields of the completion form a refusal is about, where the error does not name one.
FIELD_OF_ERROR = {
    "invalid_duration": ("minutes", "Choose one of the listed times."),
    "reason_required": ("on_behalf_reason", "Say why you are logging it for the tutor."),
}
FIELD_OF_NAME = {"Reason": ("on_behalf_reason", "Fix the reason.")}
CONFIRM_TIME_LABEL = "The time I chose is right: log it anyway"
CONFIRM_TIME_HINT = "The session is then flagged for your program to review."
CONFIRM_TIME_ASK = "Tick this if the time you chose is right."
ROUND_UP_HINT = "If the real time falls between two choices, round up."


class DurationField(forms.Field):
    """The time spent: a choice of the 18 durations with the round-up hint. It reads a whole
    number of minutes, or None when nothing readable was chosen; whether that is one of the
    listed times is the service's rule (`invalid_duration`), so every client hears the same."""

    def __init__(self, *, label: str = "Time spent", asked: bool = True, **kwargs: Any) -> None:
        attrs = {"required": True} if asked else {}
        kwargs.setdefault("help_text", ROUND_UP_HINT)
        super().__init__(
            label=label,
            required=False,
            widget=forms.Select(choices=[("", "Choose…"), *DURATION_OPTIONS], attrs=attrs),
            **kwargs,
        )

    def to_python(self, value: Any) -> int | None:
        raw = str(value).strip() if value is not None else ""
        # As every text field does: a NUL makes the form unreadable, not a wrong time.
        ProhibitNullCharactersValidator()(raw)
        if raw.isascii() and raw.isdigit() and len(raw) <= 3:
            return int(raw)
        return None


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
    minutes = DurationField()
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

    # Asked only after a warning that the time is well above what the classroom measured (or
    # nothing was measured); hidden until then.
    confirm_time = forms.BooleanField(
        label=CONFIRM_TIME_LABEL, required=False, help_text=CONFIRM_TIME_HINT
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

    @classmethod
    def for_session(
        cls, session: Session, data: Any = None, *, on_behalf: bool = False, **kwargs: Any
    ) -> CompletionForm:
        """The form for `session`: in a group, its accepted students can be marked absent.
        Pass a session with its participants prefetched (`selectors.with_details`)."""
        accepted = [
            (p.user_id, p.user.display_name)
            for p in session.participants.all()
            if p.state == ParticipantState.ACCEPTED
        ]
        return cls(data, on_behalf=on_behalf, accepted_students=accepted, **kwargs)

    # Set when the service asked the tutor to confirm the time: the page shows the checkbox.
    confirmation_asked = False

    def refuse(self, exc: DomainError) -> list[str]:
        """Mark the fields the service's refusal is about; the page, the classroom and the
        API's clients all see the same ones."""
        if exc.code in CONFIRMATION_CODES:
            self.confirmation_asked = True
            self.add_error("confirm_time", CONFIRM_TIME_ASK)
            return ["confirm_time"]
        return put_refusal_on_form(self, exc, by_code=FIELD_OF_ERROR, by_name=FIELD_OF_NAME)

    def asks_confirmation(self) -> bool:
        """Whether the checkbox is shown: once asked, or once ticked, it stays."""
        return self.confirmation_asked or bool(self.is_bound and self["confirm_time"].value())

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

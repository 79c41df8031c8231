"""Support's forms. They only parse and redisplay what was typed; every rule (the 18
durations, the recap, the reasons) belongs to the services, so a page and a retry refuse with
the same words."""

from __future__ import annotations

from typing import Any

from django import forms

from studyhall.support.models import ProposalKind
from studyhall.support.services.chat import MESSAGE_MAX_CHARS
from studyhall.support.services.contact import EMAIL_MAX_CHARS, NAME_MAX_CHARS
from studyhall.support.services.corrections import REASON_MAX_CHARS as CORRECTION_REASON_MAX_CHARS
from studyhall.support.services.late_logging import DECLINE_REASON_MAX_CHARS, REASON_MAX_CHARS
from studyhall.tutoring.forms import DurationField
from studyhall.tutoring.rules import RECAP_ANSWER_MAX_CHARS, RECAP_PROMPTS

RECAP_FIELDS = tuple(RECAP_PROMPTS)
# The limits are the services' own, so the page never lets through what they refuse.


def _text_field(
    label: str, *, max_length: int, rows: int = 3, attrs: dict[str, Any] | None = None
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": rows, "required": True, "maxlength": max_length, **(attrs or {})}
        ),
    )


RECAP_ATTRS = {"data-recap-answer": True, "aria-describedby": "recap-count recap-rule"}


class _LabelsWithoutColon(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MessageForm(_LabelsWithoutColon):
    body = _text_field("Message", max_length=MESSAGE_MAX_CHARS, rows=2)


class LateLogForm(_LabelsWithoutColon):
    minutes = DurationField()
    topics_covered = _text_field(
        RECAP_PROMPTS["topics_covered"],
        max_length=RECAP_ANSWER_MAX_CHARS,
        attrs=RECAP_ATTRS,
    )
    tutee_progress = _text_field(
        RECAP_PROMPTS["tutee_progress"],
        max_length=RECAP_ANSWER_MAX_CHARS,
        attrs=RECAP_ATTRS,
    )
    next_steps = _text_field(
        RECAP_PROMPTS["next_steps"],
        max_length=RECAP_ANSWER_MAX_CHARS,
        attrs=RECAP_ATTRS,
    )
    reason = _text_field(
        "Why is it late?",
        max_length=REASON_MAX_CHARS,
        rows=2,
        attrs={"aria-describedby": "reason-hint"},
    )

    def recap(self) -> dict[str, object]:
        return {key: self.cleaned_data.get(key, "") for key in RECAP_FIELDS}

    def answers(self) -> dict[str, str]:
        """What was typed, for the character count next to the prompts."""
        source = self.data if self.is_bound else self.initial
        return {key: str(source.get(key, "")) for key in RECAP_FIELDS}


class DeclineForm(_LabelsWithoutColon):
    reason = _text_field(
        "Why are you declining? The tutor reads this.", max_length=DECLINE_REASON_MAX_CHARS
    )


class CorrectionForm(_LabelsWithoutColon):
    kind = forms.ChoiceField(
        label="Correction",
        choices=ProposalKind.choices,
        widget=forms.RadioSelect,
        initial=ProposalKind.ADJUST_MINUTES,
    )
    minutes = DurationField(label="New time (for a change of the logged time)", asked=False)
    reason = _text_field("Reason", max_length=CORRECTION_REASON_MAX_CHARS)


class RejectForm(_LabelsWithoutColon):
    note = _text_field("Why not?", max_length=CORRECTION_REASON_MAX_CHARS, rows=2)


class ContactForm(_LabelsWithoutColon):
    """The contact form for someone not signed in. The service checks every field."""

    name = forms.CharField(
        label="Your name",
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "name", "maxlength": NAME_MAX_CHARS, "required": True}
        ),
    )
    email = forms.CharField(
        label="Email to answer to",
        required=False,
        strip=False,
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "maxlength": EMAIL_MAX_CHARS, "required": True}
        ),
    )
    message = _text_field("How can we help?", max_length=MESSAGE_MAX_CHARS, rows=4)


class StartConversationForm(_LabelsWithoutColon):
    body = _text_field("Message", max_length=MESSAGE_MAX_CHARS, rows=3)

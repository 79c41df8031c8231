from __future__ import annotations

from django import forms

from studyhall.feeds.models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(label="Endpoint URL", max_length=500, help_text="https://…")
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )

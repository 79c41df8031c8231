"""The email-choices form of the Settings page. It parses; the service decides."""

from __future__ import annotations

from typing import Any

from django import forms

from studyhall.notifications.models import Kind


class EmailPreferencesForm(forms.Form):
    """One checkbox per kind: also send it by email (it is always in the app)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.BooleanField(label=kind.label, required=False)

    def choices(self) -> dict[str, bool]:
        return {kind: bool(self.cleaned_data.get(kind)) for kind in Kind.values}

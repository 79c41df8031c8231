"""Sign-up (with the time zone) and the account settings forms. Forms parse; the services
decide."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.http import HttpRequest

from studyhall.accounts.models import TokenScope, User
from studyhall.accounts.timezones import zone_choices

TIME_ZONE_HELP = (
    "Every time in Studyhall and in its emails is shown in this zone. We picked the one your "
    "browser reports; change it if it is wrong."
)


def time_zone_field(*, include: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Time zone",
        choices=zone_choices(include=include),
        initial="UTC",
        help_text=TIME_ZONE_HELP,
        widget=forms.Select(attrs={"autocomplete": "off"}),
    )


# allauth ships no type hints, so its base class is Any to mypy.
class SignupForm(AllauthSignupForm):  # type: ignore[misc]
    """allauth's sign-up with the person's name and time zone.

    A new person belongs to no organization yet, so the zone cannot default to the
    organization's: the page preselects the zone the browser reports (a small script), and
    UTC when scripts are off. Settings can change it at any time."""

    name = forms.CharField(
        label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = time_zone_field()
        # Only an untouched form gets the browser's zone; a re-shown form keeps the choice.
        if not self.is_bound:
            self.fields["time_zone"].widget.attrs["data-detect-time-zone"] = "1"
        self.order_fields(["name", "email", "password1", "password2", "time_zone"])

    def clean_email(self) -> str:
        email: str = super().clean_email()
        refusal = get_adapter().signup_refusal(email)
        if refusal:
            raise forms.ValidationError(refusal, code="signup_closed")
        return email

    def custom_signup(self, request: HttpRequest, user: Any) -> None:
        assert isinstance(user, User)
        user.name = self.cleaned_data["name"].strip()
        user.time_zone = self.cleaned_data["time_zone"]
        user.save(update_fields=["name", "time_zone"])


class TimeZoneForm(forms.Form):
    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = time_zone_field(include=current)
        self.fields["time_zone"].help_text = "Every time in Studyhall and its emails uses it."


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What it is for, so you recognise it later (e.g. “grading script”).",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")],
        initial=30,
    )
    scope = forms.ChoiceField(label="May do", initial="full")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = [
            (TokenScope.FULL.value, "Everything you may do"),
            (TokenScope.READ_ONLY.value, "Read only"),
        ]
        if viewer.memberships.filter(role="admin").exists():
            scopes.append((TokenScope.ADMIN.value, "The admin API only"))
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = scopes

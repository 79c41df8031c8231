from __future__ import annotations

from typing import Any

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


HOURS = [(h, f"{h:02d}:00") for h in range(24)]


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never shows a value, not even the one just typed into a form that
    came back with an error: what it takes is a secret."""

    def format_value(self, value: object) -> str | None:
        return None


class FeedForm(forms.Form):
    """The nightly feed's settings as typed; the service checks the folders, the host key and
    what an SFTP server needs. The password and private key are never rendered back."""

    enabled = forms.BooleanField(label="Run the feed every night", required=False)
    run_at_hour = forms.TypedChoiceField(label="Run after", choices=HOURS, coerce=int, initial=2)
    export_directory = forms.CharField(label="Export folder", max_length=200, required=False)
    roster_directory = forms.CharField(label="Roster pickup folder", max_length=200, required=False)
    deactivate_missing = forms.BooleanField(
        label="The roster is complete: deactivate people missing from it", required=False
    )
    sftp_host = forms.CharField(label="SFTP server", max_length=255, required=False)
    sftp_port = forms.IntegerField(
        label="Port",
        initial=22,
        min_value=1,
        max_value=65535,
        error_messages={
            "required": "Give the server's port (SFTP is usually 22).",
            "invalid": "A port is a whole number from 1 to 65535.",
            "min_value": "A port is a whole number from 1 to 65535.",
            "max_value": "A port is a whole number from 1 to 65535.",
        },
    )
    sftp_username = forms.CharField(label="Username", max_length=150, required=False)
    sftp_password = forms.CharField(
        label="Password",
        max_length=255,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
    )
    forget_password = forms.BooleanField(label="Forget the saved password", required=False)
    sftp_private_key = forms.CharField(
        label="Private key (OpenSSH)", required=False, widget=WriteOnlyTextarea
    )
    forget_private_key = forms.BooleanField(label="Forget the saved private key", required=False)
    sftp_host_key = forms.CharField(label="Server's host key", required=False, max_length=2000)
    sftp_directory = forms.CharField(label="Remote folder", max_length=500, required=False)
    sftp_roster_path = forms.CharField(label="Remote roster file", max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        folder: str,
        has_password: bool = False,
        has_private_key: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        hints = {
            "run_at_hour": "In the organization's time zone.",
            "export_directory": f"A folder inside your organization's feed folder, {folder}, "
            "such as exports. Leave blank to use that folder itself. Each night's files go "
            "into a folder named by its date.",
            "roster_directory": f"A folder inside {folder} where roster.csv is picked up. Leave "
            "blank to take the roster from the SFTP server, or to import none.",
            "sftp_host": "Leave blank to write the files on Studyhall's server only.",
            "sftp_password": "A password is saved. Leave blank to keep it."
            if has_password
            else "No password is saved.",
            "sftp_private_key": "A private key is saved. Leave blank to keep it."
            if has_private_key
            else "Instead of a password or beside it: an OpenSSH private key without a "
            "passphrase. No key is saved.",
            "sftp_host_key": "Required with a server: one known_hosts line or the server's "
            "public key (ssh-ed25519 AAAA…). Every connection is refused unless the server "
            "shows this key.",
            "sftp_directory": "Where the exports are put on the server (. is the folder you "
            "sign in to).",
            "sftp_roster_path": "The roster file to fetch, such as inbound/roster.csv.",
        }
        for name, hint in hints.items():
            self.fields[name].help_text = hint
        if not has_password:
            del self.fields["forget_password"]
        if not has_private_key:
            del self.fields["forget_private_key"]

    def secret(self, name: str, forget: str) -> str | None:
        """None keeps the saved one, "" forgets it, anything else replaces it."""
        value = self.cleaned_data[name]
        if value.strip():
            return str(value)
        return "" if self.cleaned_data.get(forget) else None

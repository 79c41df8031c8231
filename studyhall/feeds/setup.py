"""An org admin sets up the nightly feed from the console: the folders it writes to and reads
from, the college's SFTP server, and two actions (test the connection, run tonight's feed).

The folders are the server's disk, so an organization only ever names folders inside its own
(STUDYHALL_FEEDS_ROOT/<organization's slug>/): a path is relative to that folder, may not
climb out of it with `..`, may not be absolute, and may not leave it through a link. The SFTP
password and private key are write-only: they are never shown again, and saving without them
keeps the ones saved. The host key is required with a server, so every connection is checked
against it (docs/adr/0011)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput
from studyhall.feeds import sftp
from studyhall.feeds.access import admin_organization
from studyhall.feeds.models import FeedConfig
from studyhall.feeds.tasks import run_feed_now
from studyhall.orgs.models import Organization
from studyhall.orgs.services.access import require_transaction

FOLDER_MAX_CHARS = 200
TEST_TIMEOUT_SECONDS = 10
SHOWN_ENTRIES = 10


def organization_folder(organization: Organization) -> Path:
    """The one folder of the server's disk an organization's feed may use."""
    return Path(settings.STUDYHALL_FEEDS_ROOT) / organization.slug


def shown_folder(organization: Organization, stored: str) -> str:
    """A saved folder as the admin wrote it: relative to the organization's folder. A folder
    outside it (set by the server's operators) is shown whole."""
    if not stored:
        return ""
    base = organization_folder(organization).resolve()
    try:
        return str(Path(stored).relative_to(base))
    except ValueError:
        return stored


def confined_folder(organization: Organization, value: str, *, field: str, current: str) -> str:
    """The absolute folder for `value`, a path inside the organization's folder, or a
    refusal that says why. Blank stays blank; the saved folder, unchanged, is kept."""
    value = value.strip()
    if not value or value in (current, shown_folder(organization, current)):
        return current if value else ""
    base = organization_folder(organization).resolve()
    inside = f"inside your organization's feed folder ({organization.slug}/)"
    if "\x00" in value or "\\" in value or len(value) > FOLDER_MAX_CHARS:
        raise InvalidInput(
            f"Give a folder {inside} with plain names separated by /, such as exports/nightly.",
            code="invalid_folder",
            field=field,
        )
    path = PurePosixPath(value)
    if path.is_absolute() or value.startswith("~"):
        raise InvalidInput(
            f"Give a folder {inside}, such as exports/nightly; a path from the root of the "
            "server is not allowed.",
            code="folder_outside",
            field=field,
        )
    if ".." in path.parts:
        raise InvalidInput(
            f"A folder may not climb out with “..”; give a folder {inside}.",
            code="folder_outside",
            field=field,
        )
    resolved = (base / Path(*path.parts)).resolve()
    if resolved != base and base not in resolved.parents:
        # A link inside the folder that points elsewhere.
        raise InvalidInput(
            f"That folder leads outside your organization's feed folder; give a folder {inside}.",
            code="folder_outside",
            field=field,
        )
    return str(resolved)


def host_key_line(text: str) -> str:
    """The server's public key out of a known_hosts line (`host ssh-ed25519 AAAA…`) or a
    public key line (`ssh-ed25519 AAAA… comment`), as `type base64`; or a refusal."""
    import asyncssh  # large; imported where used (see feeds.sftp)

    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    refusal = InvalidInput(
        "Paste the server's host key as one line of known_hosts (host ssh-ed25519 AAAA…) or "
        "its public key (ssh-ed25519 AAAA…); ask the college for it, or run "
        "ssh-keyscan against the server.",
        code="invalid_host_key",
        field="sftp_host_key",
    )
    if len(lines) != 1:
        raise refusal
    words = lines[0].split()
    for i, word in enumerate(words[:-1]):
        if word.startswith(("ssh-", "ecdsa-", "sk-")):
            candidate = f"{word} {words[i + 1]}"
            try:
                asyncssh.import_public_key(candidate)
            except (asyncssh.KeyImportError, ValueError):
                raise refusal from None
            return candidate
    raise refusal


def checked_private_key(text: str) -> str:
    import asyncssh

    try:
        asyncssh.import_private_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise InvalidInput(
            "This private key cannot be read; paste an OpenSSH private key without a "
            f"passphrase ({exc}).",
            code="invalid_private_key",
            field="sftp_private_key",
        ) from exc
    return text.strip() + "\n"


@dataclass(frozen=True)
class FeedSettings:
    """What the admin typed. `sftp_password` and `sftp_private_key`: None keeps the saved
    one, "" forgets it."""

    enabled: bool
    run_at_hour: int
    export_directory: str
    roster_directory: str
    sftp_host: str
    sftp_port: int
    sftp_username: str
    sftp_password: str | None
    sftp_private_key: str | None
    sftp_host_key: str
    sftp_directory: str
    sftp_roster_path: str
    deactivate_missing: bool


PLAIN_FIELDS = (
    "enabled",
    "run_at_hour",
    "export_directory",
    "roster_directory",
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_host_key",
    "sftp_directory",
    "sftp_roster_path",
    "deactivate_missing",
)


def config_of(organization: Organization) -> FeedConfig | None:
    return FeedConfig.objects.filter(organization=organization).first()


def save_feed_settings(*, actor: User, organization_id: int, values: FeedSettings) -> FeedConfig:
    """Create or change the organization's feed. The feed acts (applies the roster) as the
    admin who saved it last. Audited with the names of what changed, never the secrets."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    config = FeedConfig.objects.select_for_update().filter(organization=organization).first()
    created = config is None
    if config is None:
        config = FeedConfig(organization=organization, run_as=actor)
    if not 0 <= values.run_at_hour <= 23:
        raise InvalidInput("Choose an hour from 0 to 23.", code="invalid_hour", field="run_at_hour")
    if not 1 <= values.sftp_port <= 65535:
        raise InvalidInput(
            "A port is a number from 1 to 65535 (SFTP is usually 22).",
            code="invalid_port",
            field="sftp_port",
        )
    new: dict[str, object] = {
        "enabled": values.enabled,
        "run_at_hour": values.run_at_hour,
        "export_directory": confined_folder(
            organization,
            values.export_directory,
            field="export_directory",
            current=config.export_directory,
        ),
        "roster_directory": confined_folder(
            organization,
            values.roster_directory,
            field="roster_directory",
            current=config.roster_directory,
        ),
        "sftp_host": values.sftp_host.strip(),
        "sftp_port": values.sftp_port,
        "sftp_username": values.sftp_username.strip(),
        "sftp_host_key": host_key_line(values.sftp_host_key)
        if values.sftp_host_key.strip()
        else "",
        "sftp_directory": values.sftp_directory.strip() or ".",
        "sftp_roster_path": values.sftp_roster_path.strip(),
        "deactivate_missing": values.deactivate_missing,
    }
    password = config.sftp_password if values.sftp_password is None else values.sftp_password
    private_key = config.sftp_private_key
    if values.sftp_private_key is not None:
        private_key = (
            checked_private_key(values.sftp_private_key) if values.sftp_private_key.strip() else ""
        )
    if new["sftp_host"]:
        if not new["sftp_username"]:
            raise InvalidInput(
                "Give the username to sign in to the SFTP server with.",
                code="sftp_username_missing",
                field="sftp_username",
            )
        if not new["sftp_host_key"]:
            raise InvalidInput(
                "Give the SFTP server's host key, so that Studyhall only ever sends files to "
                "that server.",
                code="sftp_host_key_missing",
                field="sftp_host_key",
            )
        if not password and not private_key:
            raise InvalidInput(
                "Give a password or a private key to sign in to the SFTP server with.",
                code="sftp_secret_missing",
                field="sftp_password",
            )
    changed = sorted(name for name, value in new.items() if getattr(config, name) != value)
    secrets = sorted(
        name
        for name, value in (("sftp_password", password), ("sftp_private_key", private_key))
        if getattr(config, name) != value
    )
    for name, value in new.items():
        setattr(config, name, value)
    config.sftp_password, config.sftp_private_key = password, private_key
    config.run_as = actor
    config.save()
    audit.record(
        actor=actor,
        action="feed.configured",
        organization_id=organization.pk,
        created=created,
        changed=changed,
        secrets_changed=secrets,
    )
    return config


def request_run(*, actor: User, organization_id: int) -> date:
    """Enqueue tonight's feed for the organization now. The run is the nightly job's own, so
    asking twice (or the job coming later the same night) repeats no step."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    config = config_of(organization)
    if config is None:
        raise Conflict("Save the feed's settings first.", code="feed_not_set_up")
    night = timezone.now().astimezone(organization.zone).date()
    run_feed_now.enqueue(organization_id=organization.pk, night=night.isoformat())
    audit.record(
        actor=actor,
        action="feed.run_requested",
        organization_id=organization.pk,
        night=night.isoformat(),
    )
    return night


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_connection(*, actor: User, organization_id: int) -> ConnectionCheck:
    """Connect to the saved SFTP server with the saved host key and sign-in, and list the
    export folder there; within TEST_TIMEOUT_SECONDS. Writes nothing, holds no transaction."""
    organization = admin_organization(actor, organization_id)
    config = config_of(organization)
    if config is None or not config.pushes:
        raise Conflict(
            "There is no SFTP server to test yet; save its settings first.",
            code="sftp_not_set_up",
        )
    where = f"{config.sftp_username}@{config.sftp_host}:{config.sftp_port}"
    try:
        names = sftp.list_directory(config, config.sftp_directory, timeout=TEST_TIMEOUT_SECONDS)
    except sftp.SftpFailed as exc:
        return ConnectionCheck(False, f"Could not use {where}: {exc}")
    shown = ", ".join(names[:SHOWN_ENTRIES]) + (" …" if len(names) > SHOWN_ENTRIES else "")
    count = "1 entry" if len(names) == 1 else f"{len(names)} entries"
    holds = f"holds {count}: {shown}" if names else "is empty"
    return ConnectionCheck(
        True,
        f"Connected to {where}; the host key matched. The folder {config.sftp_directory} {holds}.",
    )

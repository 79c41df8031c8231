"""The nightly feed: write the exports to a directory, push them to the college's SFTP
server, pick up the roster file and apply it through the console's roster import, and email
the admins what happened.

One FeedRun per organization and night records each step as it is done, so running the job
again the same night (a retry, a second scheduler) repeats nothing: files are not rewritten,
the roster is not applied twice, no second summary is sent. A push that fails is retried on
each later run of the job, up to MAX_PUSH_ATTEMPTS, and its outcome is reported by email.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.console.services import roster
from studyhall.core.errors import DomainError
from studyhall.feeds import sftp
from studyhall.feeds.exports import EXPORTS
from studyhall.feeds.models import FeedConfig, FeedRun, PushStatus
from studyhall.notifications.emails import send_templated
from studyhall.orgs.models import Role

MAX_PUSH_ATTEMPTS = 5
ROSTER_FILENAME = "roster.csv"
# Longer than a night's files, push, roster and email take; a dead worker's claim lapses.
CLAIM_LEASE = timedelta(hours=1)


def export_folder(config: FeedConfig, night: date) -> Path:
    base = (
        Path(config.export_directory)
        if config.export_directory
        else (Path(settings.STUDYHALL_FEEDS_ROOT) / config.organization.slug)
    )
    return base / night.isoformat()


def _write_exports(config: FeedConfig, night: date) -> dict[str, int]:
    folder = export_folder(config, night)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for export in EXPORTS.values():
        # Written beside the final name and renamed, so a reader never sees half a file.
        handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{export.name}.")
        count = -1
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            for line in export.lines(config.organization):
                out.write(line)
                count += 1
        os.replace(partial, folder / export.filename)
        rows[export.filename] = count
    return rows


# -- the roster ------------------------------------------------------------------------------


def _fetch_roster(config: FeedConfig) -> tuple[str, bytes] | None:
    if config.roster_directory:
        path = Path(config.roster_directory) / ROSTER_FILENAME
        return (path.name, path.read_bytes()) if path.exists() else None
    if config.pushes and config.sftp_roster_path:
        data = sftp.fetch(config, config.sftp_roster_path)
        return (Path(config.sftp_roster_path).name, data) if data is not None else None
    return None


def _without_lines(text: str, bad_lines: set[int]) -> str:
    """The file minus the rows that were refused (by the line each ended on)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for values in reader:
        if reader.line_num not in bad_lines:
            writer.writerow(values)
    return out.getvalue()


@dataclass
class RosterOutcome:
    filename: str = ""
    sha256: str = ""
    summary: dict[str, int] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _apply_roster(config: FeedConfig, filename: str, data: bytes) -> RosterOutcome:
    """Apply every good row through the console's import; report the refused ones with
    their reasons. A file that cannot be read at all is reported, and nothing is applied."""
    outcome = RosterOutcome(filename=filename, sha256=hashlib.sha256(data).hexdigest())
    organization = config.organization
    actor = config.run_as
    try:
        with transaction.atomic():
            text = roster.decode(data)
            _, errors = roster.parse(text)
            outcome.rejected = errors
            good = _without_lines(text, {e["line"] for e in errors}).encode()
            checked = roster.check_roster(
                organization_id=organization.pk,
                actor=actor,
                filename=filename,
                data=good,
                deactivate_missing=config.deactivate_missing,
            )
            if checked.errors:
                # Rows that parse but the organization refuses (an unknown person's conflict).
                outcome.rejected += checked.errors
                good = _without_lines(good.decode(), {e["line"] for e in checked.errors}).encode()
                checked = roster.check_roster(
                    organization_id=organization.pk,
                    actor=actor,
                    filename=filename,
                    data=good,
                    deactivate_missing=config.deactivate_missing,
                )
            outcome.summary = roster.apply_roster(
                organization_id=organization.pk, import_id=checked.pk, actor=actor
            )
    except DomainError as exc:
        outcome.error = exc.message[:480]
    return outcome


# -- one night ---------------------------------------------------------------------------------


def run_night(config: FeedConfig, night: date) -> FeedRun | None:
    """The night's steps not yet done, or None when another run of the job holds the night."""
    organization = config.organization
    run, _ = FeedRun.objects.get_or_create(
        organization=organization,
        night=night,
        defaults={
            "push_status": PushStatus.PENDING if config.pushes else PushStatus.NOT_CONFIGURED
        },
    )
    if not _claim(run):
        return None
    try:
        _run_steps(config, run)
    finally:
        FeedRun.objects.filter(pk=run.pk).update(claimed_until=None)
        run.claimed_until = None
    return run


def _claim(run: FeedRun) -> bool:
    """Take the night for this run of the job: a second scheduler or a retry that starts while
    the first is still writing, pushing or mailing leaves it alone, so nothing happens twice.
    A claim lapses after CLAIM_LEASE, so a worker that died does not hold the night forever.
    The claim is one conditional UPDATE, so no lock is held while the steps run."""
    now = timezone.now()
    claimed = (
        FeedRun.objects.filter(pk=run.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE)
    )
    if claimed:
        run.refresh_from_db()
    return bool(claimed)


def _run_steps(config: FeedConfig, run: FeedRun) -> None:
    night = run.night
    if run.exports_written_at is None:
        run.exports = _write_exports(config, night)
        run.exports_written_at = timezone.now()
        run.save(update_fields=["exports", "exports_written_at"])

    if run.push_status in (PushStatus.PENDING, PushStatus.RETRYING):
        _push(config, run)

    if run.roster_done_at is None:
        try:
            found = _fetch_roster(config)
        except sftp.SftpFailed as exc:
            found = None
            run.roster_error = f"The roster file could not be fetched: {exc}"[:500]
        # Recorded in the transaction that applies the file: a worker dying in between
        # cannot leave the roster applied and the night not knowing it.
        with transaction.atomic():
            if found is not None:
                outcome = _apply_roster(config, *found)
                run.roster_filename = outcome.filename
                run.roster_sha256 = outcome.sha256
                run.roster_summary = outcome.summary
                run.roster_rejected = outcome.rejected
                run.roster_error = outcome.error
            run.roster_done_at = timezone.now()
            run.save(
                update_fields=[
                    "roster_filename",
                    "roster_sha256",
                    "roster_summary",
                    "roster_rejected",
                    "roster_error",
                    "roster_done_at",
                ]
            )

    if run.summary_sent_at is None:
        _email(config, run, subject=f"Studyhall nightly feed for {night:%b %-d, %Y}")
        run.summary_sent_at = timezone.now()
        run.save(update_fields=["summary_sent_at"])
    elif run.push_status in (PushStatus.PUSHED, PushStatus.FAILED) and (
        run.push_attempts > 1 and run.push_report_sent_at is None
    ):
        # The summary said the push was being retried; say how that ended.
        _email(
            config,
            run,
            subject=f"Studyhall nightly feed for {night:%b %-d, %Y}: push "
            + ("succeeded on retry" if run.push_status == PushStatus.PUSHED else "failed"),
        )
        run.push_report_sent_at = timezone.now()
        run.save(update_fields=["push_report_sent_at"])


def _push(config: FeedConfig, run: FeedRun) -> None:
    folder = export_folder(config, run.night)
    files = [folder / e.filename for e in EXPORTS.values()]
    run.push_attempts += 1
    try:
        sftp.push(config, files)
    except sftp.SftpFailed as exc:
        run.push_error = str(exc)[:500]
        run.push_status = (
            PushStatus.FAILED if run.push_attempts >= MAX_PUSH_ATTEMPTS else PushStatus.RETRYING
        )
    else:
        run.push_status = PushStatus.PUSHED
        run.pushed_at = timezone.now()
        run.push_error = ""
    run.save(update_fields=["push_attempts", "push_error", "push_status", "pushed_at"])


def _email(config: FeedConfig, run: FeedRun, *, subject: str) -> int:
    admins = User.objects.filter(
        memberships__organization=config.organization,
        memberships__role=Role.ADMIN,
        memberships__is_active=True,
        is_active=True,
    ).distinct()
    return send_templated(
        to=admins,
        subject=subject,
        template="feeds/email/nightly_summary",
        context={
            "organization": config.organization,
            "run": run,
            "config": config,
            "max_attempts": MAX_PUSH_ATTEMPTS,
        },
    )


def due_configs(now: datetime) -> list[tuple[FeedConfig, date]]:
    due = []
    for config in FeedConfig.objects.filter(enabled=True).select_related("organization", "run_as"):
        local = now.astimezone(config.organization.zone)
        if local.hour >= config.run_at_hour:
            due.append((config, local.date()))
    return due


def run_due_feeds(*, now: datetime | None = None) -> list[int]:
    """Every organization whose night has come (and pushes still being retried)."""
    now = now or timezone.now()
    runs = [run_night(config, night) for config, night in due_configs(now)]
    done = [run.pk for run in runs if run is not None]
    for retrying in FeedRun.objects.filter(push_status=PushStatus.RETRYING).exclude(pk__in=done):
        config = FeedConfig.objects.select_related("organization", "run_as").get(
            organization_id=retrying.organization_id
        )
        run = run_night(config, retrying.night)
        if run is not None:
            done.append(run.pk)
    return done

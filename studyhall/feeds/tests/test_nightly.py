"""The nightly feed end to end, against a real SFTP server on loopback: exports pushed, a
roster file with one bad row picked up and applied, one summary email; a rerun changes
nothing; a push that failed is retried and reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core import mail

from studyhall.console.models import RosterImport
from studyhall.feeds import nightly
from studyhall.feeds.models import FeedConfig, FeedRun
from studyhall.feeds.tests.scene import build_scene
from studyhall.feeds.tests.sftp_server import PASSWORD, USERNAME, SftpServer, running_sftp_server
from studyhall.orgs.models import Member

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

# 3:00 in New York on Tuesday, March 10, 2026 (EDT since Sunday).
NIGHT = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
FILES = [
    "payouts.csv",
    "recaps.csv",
    "sessions.csv",
    "transactions.csv",
    "tutor_requests.csv",
    "users.csv",
]
ROSTER = (
    "school_id,email,name,roles,enrolled_courses,tutor_courses,status\n"
    "S-3001,nia@example.test,Nia Park,student,CHEM 110,,active\n"
    "S-1001,maya@example.test,Maya Chen-Ortiz,student,CHEM 110,,active\n"
    "S-3002,not-an-email,Bad Row,student,,,active\n"
)


@pytest.fixture
def sftp_root(tmp_path: Path) -> Path:
    root = tmp_path / "sftp"
    (root / "outbound").mkdir(parents=True)
    (root / "inbound").mkdir()
    (root / "inbound" / "roster.csv").write_text(ROSTER)
    return root


@pytest.fixture
def server(sftp_root: Path) -> Iterator[SftpServer]:
    with running_sftp_server(sftp_root) as s:
        yield s


def feed(cast: Cast, server: SftpServer, tmp_path: Path) -> FeedConfig:
    return FeedConfig.objects.create(
        organization=cast.org,
        run_as=cast.admin,
        export_directory=str(tmp_path / "exports"),
        sftp_host="127.0.0.1",
        sftp_port=server.port,
        sftp_username=USERNAME,
        sftp_password=PASSWORD,
        sftp_host_key=server.host_key,
        sftp_directory="/outbound",
        sftp_roster_path="/inbound/roster.csv",
    )


def run_job() -> list[int]:
    with time_machine.travel(NIGHT, tick=False):
        return nightly.run_due_feeds()


def test_the_night_end_to_end_and_a_rerun_that_changes_nothing(
    cast: Cast, server: SftpServer, sftp_root: Path, tmp_path: Path
) -> None:
    build_scene(cast)
    feed(cast, server, tmp_path)
    mail.outbox.clear()

    [run_id] = run_job()

    run = FeedRun.objects.get(pk=run_id)
    assert run.night == date(2026, 3, 10)
    local = tmp_path / "exports" / "2026-03-10"
    assert sorted(p.name for p in local.iterdir()) == FILES
    pushed = sftp_root / "outbound"
    assert sorted(p.name for p in pushed.iterdir()) == FILES
    for name in FILES:
        assert (pushed / name).read_bytes() == (local / name).read_bytes()
    assert run.exports == {
        "sessions.csv": 3,
        "users.csv": 5,
        "tutor_requests.csv": 1,
        "recaps.csv": 1,
        "transactions.csv": 2,
        "payouts.csv": 1,
    }
    assert (run.push_status, run.push_attempts) == ("pushed", 1)

    # The roster: Nia added, Maya renamed, the bad row rejected with its reason.
    assert run.roster_summary["to_add"] == 1
    assert run.roster_summary["to_update"] == 1
    assert run.roster_rejected == [{"line": 4, "errors": run.roster_rejected[0]["errors"]}]
    assert "email" in run.roster_rejected[0]["errors"][0]
    assert Member.objects.get(organization=cast.org, school_id="S-3001").user.name == "Nia Park"
    assert Member.objects.get(organization=cast.org, school_id="S-1001").user.name == (
        "Maya Chen-Ortiz"
    )
    assert not Member.objects.filter(organization=cast.org, school_id="S-3002").exists()

    [summary] = mail.outbox
    assert summary.to == ["admin@example.test"]
    assert summary.subject == "Studyhall nightly feed for Mar 10, 2026"
    assert "- sessions.csv: 3 rows" in summary.body
    assert "SFTP push: Pushed (1 attempt)" in summary.body
    assert "roster.csv — 1 added, 1 updated, 0 deactivated, 1 rejected." in summary.body
    assert "- line 4: " in summary.body

    # The same night again: nothing written, pushed, imported or sent.
    before = {p.name: p.stat().st_mtime_ns for p in [*local.iterdir(), *pushed.iterdir()]}
    imports = RosterImport.objects.count()
    assert run_job() == [run_id]
    assert {p.name: p.stat().st_mtime_ns for p in [*local.iterdir(), *pushed.iterdir()]} == before
    assert RosterImport.objects.count() == imports
    assert len(mail.outbox) == 1
    run.refresh_from_db()
    assert run.push_attempts == 1


def test_a_failed_push_is_retried_and_reported(
    cast: Cast, server: SftpServer, sftp_root: Path, tmp_path: Path
) -> None:
    config = feed(cast, server, tmp_path)
    config.sftp_roster_path = ""
    config.save(update_fields=["sftp_roster_path"])
    server.stop()  # the college's server is down tonight
    mail.outbox.clear()

    [run_id] = run_job()
    run = FeedRun.objects.get(pk=run_id)
    assert (run.push_status, run.push_attempts) == ("retrying", 1)
    assert run.push_error.startswith("ConnectionRefusedError") or "refused" in run.push_error
    [first] = mail.outbox
    assert "attempt 1 of 5 failed" in first.body
    assert list((sftp_root / "outbound").iterdir()) == []

    server.start()  # back, on the same port
    assert run_job() == [run_id]
    run.refresh_from_db()
    assert (run.push_status, run.push_attempts) == ("pushed", 2)
    assert sorted(p.name for p in (sftp_root / "outbound").iterdir()) == FILES
    assert [m.subject for m in mail.outbox] == [
        "Studyhall nightly feed for Mar 10, 2026",
        "Studyhall nightly feed for Mar 10, 2026: push succeeded on retry",
    ]
    assert run_job() == [run_id]
    assert len(mail.outbox) == 2


def test_a_wrong_host_key_is_refused(
    cast: Cast, server: SftpServer, sftp_root: Path, tmp_path: Path
) -> None:
    import asyncssh

    config = feed(cast, server, tmp_path)
    config.sftp_host_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    config.save(update_fields=["sftp_host_key"])
    [run_id] = run_job()
    run = FeedRun.objects.get(pk=run_id)
    assert run.push_status == "retrying"
    assert "Host key" in run.push_error or "host key" in run.push_error
    assert list((sftp_root / "outbound").iterdir()) == []


def test_nothing_runs_before_the_organizations_hour(cast: Cast, tmp_path: Path) -> None:
    FeedConfig.objects.create(
        organization=cast.org, run_as=cast.admin, export_directory=str(tmp_path), run_at_hour=4
    )
    assert run_job() == []  # 3:00 in New York
    assert FeedRun.objects.count() == 0


def local_feed(cast: Cast, tmp_path: Path) -> FeedConfig:
    roster = tmp_path / "roster"
    roster.mkdir()
    (roster / "roster.csv").write_text(ROSTER)
    return FeedConfig.objects.create(
        organization=cast.org,
        run_as=cast.admin,
        export_directory=str(tmp_path / "exports"),
        roster_directory=str(roster),
    )


def test_a_night_another_run_of_the_job_holds_is_left_alone_until_its_claim_lapses(
    cast: Cast, tmp_path: Path
) -> None:
    local_feed(cast, tmp_path)
    held = FeedRun.objects.create(
        organization=cast.org,
        night=date(2026, 3, 10),
        push_status="not_configured",
        claimed_until=NIGHT + nightly.CLAIM_LEASE,
    )
    mail.outbox.clear()

    assert run_job() == []

    held.refresh_from_db()
    assert (held.exports_written_at, held.roster_done_at, held.summary_sent_at) == (
        None,
        None,
        None,
    )
    assert not (tmp_path / "exports").exists()
    assert RosterImport.objects.count() == 0
    assert mail.outbox == []

    # The other run died: an hour on, its claim has lapsed and this one does the night once.
    with time_machine.travel(NIGHT + nightly.CLAIM_LEASE + timedelta(minutes=15), tick=False):
        assert nightly.run_due_feeds() == [held.pk]
    held.refresh_from_db()
    assert held.claimed_until is None
    assert held.roster_summary["to_add"] == 1
    assert RosterImport.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_roster_is_applied_only_with_the_night_knowing_it(
    cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_feed(cast, tmp_path)
    real_save = FeedRun.save

    def worker_dies_recording_the_roster(self: FeedRun, *args: Any, **kwargs: Any) -> None:
        if "roster_done_at" in (kwargs.get("update_fields") or ()):
            raise SystemExit("the worker was stopped")
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(FeedRun, "save", worker_dies_recording_the_roster)
    with pytest.raises(SystemExit):
        run_job()

    assert RosterImport.objects.count() == 0
    assert not Member.objects.filter(organization=cast.org, school_id="S-3001").exists()
    assert FeedRun.objects.get().claimed_until is None

    monkeypatch.setattr(FeedRun, "save", real_save)
    run_job()
    assert RosterImport.objects.count() == 1
    assert Member.objects.get(organization=cast.org, school_id="S-3001").user.name == "Nia Park"

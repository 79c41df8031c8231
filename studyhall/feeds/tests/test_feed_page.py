"""The console's Nightly feed page: an org admin sets the feed up (folders confined to the
organization's own feed folder, the SFTP server with a checked host key, write-only secrets),
tests the SFTP connection against a real server, runs tonight's feed now, and sees the recent
nights. Other organizations' admins get 404, other members 403."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh
import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, reverse

from studyhall.core.models import AuditEntry
from studyhall.feeds import setup, urls
from studyhall.feeds.models import FeedConfig, FeedRun
from studyhall.feeds.tests.sftp_server import PASSWORD, USERNAME, SftpServer, running_sftp_server
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.testing.tasks import queued_task_paths, run_queued_tasks

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York
FEED_URLS = [
    p for p in urls.urlpatterns if isinstance(p, URLPattern) and (p.name or "").startswith("feed")
]
FILES = [
    "payouts.csv",
    "recaps.csv",
    "sessions.csv",
    "transactions.csv",
    "tutor_requests.csv",
    "users.csv",
]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def feeds_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "feeds"
    root.mkdir()
    settings.STUDYHALL_FEEDS_ROOT = str(root)
    return root


@pytest.fixture
def admin(cast: Cast, client: Client) -> Client:
    client.force_login(cast.admin)
    return client


def page(cast: Cast) -> str:
    return f"/console/{cast.org.pk}/feed/"


def text_of(response: Any) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def new_host_key() -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return str(key.export_public_key().decode().strip())


def form(**change: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enabled": "on",
        "run_at_hour": "3",
        "export_directory": "exports",
        "roster_directory": "",
        "sftp_host": "",
        "sftp_port": "22",
        "sftp_username": "",
        "sftp_password": "",
        "sftp_private_key": "",
        "sftp_host_key": "",
        "sftp_directory": ".",
        "sftp_roster_path": "",
    }
    values.update(change)
    return {k: v for k, v in values.items() if v is not None}


def org_folder(cast: Cast, feeds_root: Path) -> Path:
    return (feeds_root / cast.org.slug).resolve()


# -- settings ----------------------------------------------------------------------------------


def test_an_admin_sets_up_the_feed_inside_the_organizations_folder(
    cast: Cast, admin: Client, feeds_root: Path
) -> None:
    response = admin.post(
        page(cast), form(export_directory="out/nightly", roster_directory="inbound")
    )

    assert response.status_code == 302, text_of(response)
    config = FeedConfig.objects.get()
    base = org_folder(cast, feeds_root)
    assert (config.enabled, config.run_at_hour, config.run_as) == (True, 3, cast.admin)
    assert (config.export_directory, config.roster_directory) == (
        str(base / "out" / "nightly"),
        str(base / "inbound"),
    )
    entry = AuditEntry.objects.get(action="feed.configured")
    assert (entry.actor, entry.organization_id) == (cast.admin, cast.org.pk)
    assert entry.data["created"] is True
    assert entry.data["secrets_changed"] == []
    shown = admin.get(page(cast))
    assert 'value="out/nightly"' in shown.content.decode()
    assert "The nightly feed's settings are saved." in text_of(shown)


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        (
            "../other-college",
            "A folder may not climb out with “..”; give a folder inside your organization's "
            "feed folder ({slug}/).",
        ),
        (
            "exports/../../x",
            "A folder may not climb out with “..”; give a folder inside your organization's "
            "feed folder ({slug}/).",
        ),
        (
            "/etc/cron.d",
            "Give a folder inside your organization's feed folder ({slug}/), such as "
            "exports/nightly; a path from the root of the server is not allowed.",
        ),
        (
            "~/exports",
            "Give a folder inside your organization's feed folder ({slug}/), such as "
            "exports/nightly; a path from the root of the server is not allowed.",
        ),
    ],
)
def test_a_folder_outside_the_organizations_is_refused_and_nothing_is_saved(
    cast: Cast, admin: Client, folder: str, message: str
) -> None:
    for field in ("export_directory", "roster_directory"):
        response = admin.post(page(cast), form(**{field: folder}))

        assert response.status_code == 400
        assert message.format(slug=cast.org.slug) in text_of(response)
    assert FeedConfig.objects.count() == 0
    assert not AuditEntry.objects.filter(action="feed.configured").exists()


def test_a_link_that_leads_out_of_the_folder_is_refused(
    cast: Cast, admin: Client, feeds_root: Path, tmp_path: Path
) -> None:
    base = feeds_root / cast.org.slug
    base.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (base / "sneaky").symlink_to(tmp_path / "elsewhere")

    response = admin.post(page(cast), form(export_directory="sneaky/exports"))

    assert response.status_code == 400
    assert (
        "That folder leads outside your organization's feed folder; give a folder inside your "
        f"organization's feed folder ({cast.org.slug}/)." in text_of(response)
    )
    assert FeedConfig.objects.count() == 0


def test_an_sftp_server_needs_a_username_a_secret_and_its_host_key(
    cast: Cast, admin: Client
) -> None:
    key = new_host_key()
    cases = [
        (
            form(sftp_host="sftp.example.edu", sftp_password="pw", sftp_host_key=key),
            "Give the username to sign in to the SFTP server with.",
        ),
        (
            form(sftp_host="sftp.example.edu", sftp_username="knack", sftp_host_key=key),
            "Give a password or a private key to sign in to the SFTP server with.",
        ),
        (
            form(sftp_host="sftp.example.edu", sftp_username="knack", sftp_password="pw"),
            "Give the SFTP server's host key, so that Studyhall only ever sends files to that "
            "server.",
        ),
        (
            form(
                sftp_host="sftp.example.edu",
                sftp_username="knack",
                sftp_password="pw",
                sftp_host_key="ssh-ed25519 not-a-key",
            ),
            "Paste the server's host key as one line of known_hosts",
        ),
        (
            form(sftp_host="sftp.example.edu", sftp_username="knack", sftp_private_key="junk"),
            "This private key cannot be read; paste an OpenSSH private key without a passphrase",
        ),
    ]
    for data, message in cases:
        response = admin.post(page(cast), data)
        assert response.status_code == 400
        assert message in text_of(response), message
    assert FeedConfig.objects.count() == 0


@pytest.mark.parametrize("port", ["0", "65536", "twenty-two", ""])
def test_a_port_must_be_one_to_65535(cast: Cast, admin: Client, port: str) -> None:
    response = admin.post(page(cast), form(sftp_port=port))

    assert response.status_code == 400
    message = (
        "Give the server's port (SFTP is usually 22)."
        if port == ""
        else "A port is a whole number from 1 to 65535."
    )
    assert message in text_of(response)
    assert FeedConfig.objects.count() == 0


def test_a_known_hosts_line_is_kept_as_the_servers_key(cast: Cast, admin: Client) -> None:
    key = new_host_key()

    response = admin.post(
        page(cast),
        form(
            sftp_host="sftp.example.edu",
            sftp_username="knack",
            sftp_password="pw",
            sftp_host_key=f"[sftp.example.edu]:2222 {key}",
        ),
    )

    assert response.status_code == 302, text_of(response)
    assert FeedConfig.objects.get().sftp_host_key == " ".join(key.split()[:2])


def test_the_password_and_private_key_are_write_only(cast: Cast, admin: Client) -> None:
    private = asyncssh.generate_private_key("ssh-ed25519")
    private_text = private.export_private_key().decode()
    key = new_host_key()
    sftp = {"sftp_host": "sftp.example.edu", "sftp_username": "knack", "sftp_host_key": key}
    admin.post(
        page(cast),
        form(**sftp, sftp_password="s3cret-pass-word", sftp_private_key=private_text),
    )
    config = FeedConfig.objects.get()
    assert config.sftp_password == "s3cret-pass-word"
    assert config.sftp_private_key == private_text.strip() + "\n"
    entry = AuditEntry.objects.get(action="feed.configured")
    assert entry.data["secrets_changed"] == ["sftp_password", "sftp_private_key"]
    assert "s3cret" not in str(entry.data) and "PRIVATE" not in str(entry.data)

    shown = admin.get(page(cast)).content.decode()
    assert "s3cret-pass-word" not in shown
    assert "PRIVATE KEY" not in shown and private_text.splitlines()[1] not in shown
    assert "A password is saved. Leave blank to keep it." in shown

    # Blank keeps them; a form sent back with an error does not echo what was typed.
    assert admin.post(page(cast), form(**sftp, run_at_hour="4")).status_code == 302
    config.refresh_from_db()
    assert (config.run_at_hour, config.sftp_password) == (4, "s3cret-pass-word")
    assert config.sftp_private_key == private_text.strip() + "\n"
    refused = admin.post(
        page(cast), form(**sftp, sftp_private_key=private_text, export_directory="../x")
    ).content.decode()
    assert "PRIVATE KEY" not in refused and "s3cret" not in refused

    # Forgetting the password keeps the key.
    admin.post(page(cast), form(**sftp, forget_password="on"))
    config.refresh_from_db()
    assert config.sftp_password == ""
    assert config.sftp_private_key == private_text.strip() + "\n"


# -- test the connection ----------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SftpServer]:
    root = tmp_path / "sftp"
    (root / "outbound").mkdir(parents=True)
    (root / "outbound" / "hello.txt").write_text("hi")
    with running_sftp_server(root) as running:
        yield running


def sftp_form(server: SftpServer, **change: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sftp_host": "127.0.0.1",
        "sftp_port": str(server.port),
        "sftp_username": USERNAME,
        "sftp_password": PASSWORD,
        "sftp_host_key": server.host_key,
        "sftp_directory": "/outbound",
    }
    return form(**{**values, **change})


def test_testing_the_connection_signs_in_and_lists_the_folder(
    cast: Cast, admin: Client, server: SftpServer
) -> None:
    assert admin.post(page(cast), sftp_form(server)).status_code == 302

    response = admin.post(f"{page(cast)}test/", follow=True)

    assert (
        f"Connected to {USERNAME}@127.0.0.1:{server.port}; the host key matched. The folder "
        "/outbound holds 1 entry: hello.txt." in text_of(response)
    )


def test_a_server_showing_another_host_key_is_reported(
    cast: Cast, admin: Client, server: SftpServer
) -> None:
    admin.post(page(cast), sftp_form(server, sftp_host_key=new_host_key()))

    response = admin.post(f"{page(cast)}test/", follow=True)

    text = text_of(response)
    assert f"Could not use {USERNAME}@127.0.0.1:{server.port}: HostKeyNotVerifiable" in text


def test_a_wrong_password_is_reported(cast: Cast, admin: Client, server: SftpServer) -> None:
    admin.post(page(cast), sftp_form(server, sftp_password="wrong"))

    result = setup.check_connection(actor=cast.admin, organization_id=cast.org.pk)

    assert result.ok is False
    assert result.message.startswith(
        f"Could not use {USERNAME}@127.0.0.1:{server.port}: PermissionDenied"
    )


def test_testing_without_a_server_says_so(cast: Cast, admin: Client) -> None:
    admin.post(page(cast), form())

    response = admin.post(f"{page(cast)}test/", follow=True)

    assert "There is no SFTP server to test yet; save its settings first." in text_of(response)


# -- run now and the recent nights ------------------------------------------------------------


def test_running_tonights_feed_now_end_to_end_and_again(
    cast: Cast, admin: Client, feeds_root: Path
) -> None:
    admin.post(page(cast), form(export_directory="exports"))

    response = admin.post(f"{page(cast)}run/", follow=True)

    assert "The feed for Mar 10, 2026 is queued" in text_of(response)
    assert queued_task_paths() == ["studyhall.feeds.tasks.run_feed_now"]
    assert run_queued_tasks() == 1
    run = FeedRun.objects.get()
    assert (run.organization, run.night, run.push_status) == (
        cast.org,
        date(2026, 3, 10),
        "not_configured",
    )
    folder = org_folder(cast, feeds_root) / "exports" / "2026-03-10"
    assert sorted(p.name for p in folder.iterdir()) == FILES
    written_at, summary_at = run.exports_written_at, run.summary_sent_at
    assert summary_at is not None

    admin.post(f"{page(cast)}run/")
    run_queued_tasks()

    run = FeedRun.objects.get()
    assert (run.exports_written_at, run.summary_sent_at) == (written_at, summary_at)
    assert AuditEntry.objects.filter(action="feed.run_requested").count() == 2
    listed = text_of(admin.get(page(cast)))
    assert "Mar 10, 2026" in listed
    assert "users.csv: " in listed and "No SFTP server configured" in listed


def test_running_before_the_feed_is_set_up_is_refused(cast: Cast, admin: Client) -> None:
    response = admin.post(f"{page(cast)}run/", follow=True)

    assert "Save the feed's settings first." in text_of(response)
    assert queued_task_paths() == []
    assert not AuditEntry.objects.filter(action="feed.run_requested").exists()


def test_the_recent_nights_are_paginated_in_pinned_queries(
    cast: Cast, admin: Client, django_assert_num_queries: Any
) -> None:
    with transaction.atomic():
        setup.save_feed_settings(
            actor=cast.admin,
            organization_id=cast.org.pk,
            values=setup.FeedSettings(
                enabled=True,
                run_at_hour=2,
                export_directory="",
                roster_directory="",
                sftp_host="",
                sftp_port=22,
                sftp_username="",
                sftp_password=None,
                sftp_private_key=None,
                sftp_host_key="",
                sftp_directory=".",
                sftp_roster_path="",
                deactivate_missing=False,
            ),
        )
    for day in range(1, 13):
        FeedRun.objects.create(
            organization=cast.org,
            night=date(2026, 2, day),
            exports={"users.csv": day},
            roster_filename="roster.csv",
            roster_summary={"to_add": 1, "to_update": 0, "to_deactivate": 0},
            roster_rejected=[{"line": 3, "errors": ["Give a valid email."]}],
        )
    FeedRun.objects.create(organization=cast.other_org, night=date(2026, 2, 20))
    admin.get(page(cast))  # the session and the viewer are loaded once

    with django_assert_num_queries(QUERIES):
        first = admin.get(page(cast))
    with django_assert_num_queries(QUERIES):
        second = admin.get(page(cast), {"page": 2})

    assert "Page 1 of 2 (12 in all)" in text_of(first)
    assert "Feb 12, 2026" in text_of(first) and "Feb 2, 2026" not in text_of(first)
    assert "Feb 20, 2026" not in text_of(first)
    assert "Feb 2, 2026" in text_of(second) and "Feb 1, 2026" in text_of(second)
    assert "Line 3: Give a valid email." in text_of(first)


QUERIES = 9


# -- who may ----------------------------------------------------------------------------------


def test_every_feed_url_is_in_the_matrix() -> None:
    assert sorted(str(p.name) for p in FEED_URLS) == ["feed", "feed_run", "feed_test"]


@pytest.mark.parametrize("pattern", FEED_URLS, ids=lambda p: p.name)
def test_feed_url_access(cast: Cast, pattern: URLPattern) -> None:
    url = reverse(f"feeds:{pattern.name}", kwargs={"org_id": cast.org.pk})
    other_admin = f.add_member(cast.other_org, f.make_user(), Role.ADMIN)

    def signed_in(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    for method in ("get", "post"):
        response = getattr(signed_in(other_admin), method)(url)
        assert response.status_code in (404, 405), (method, response.status_code)
    assert signed_in(other_admin).post(url).status_code == 404
    for member in (cast.tutor, cast.student, cast.agent):
        assert signed_in(member).post(url).status_code == 403, member
    assert Client().post(url).status_code == 302
    assert signed_in(cast.admin).post(url).status_code in (302, 400)
    assert FeedConfig.objects.count() == 0
    assert queued_task_paths() == []

"""Roster import: the dry run, all-or-nothing apply, idempotence, bad files, and scale."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console.models import ImportStatus, RosterImport
from studyhall.console.services.roster import HEADER, RosterRefused, apply_roster, check_roster
from studyhall.console.tests.conftest import signed_in
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Member,
    Membership,
    MemberStatus,
    Program,
    TutorCourse,
)
from studyhall.testing import factories as f

HEAD = ",".join(HEADER)
GOOD = f"""{HEAD}
S-1,nia@college.test,Nia New,student,CHEM 110;BIO 101,,
S-2,ted@college.test,Ted Tutor,tutor;student,BIO 101,CHEM 110,
S-3,dee@college.test,Dee Gone,student,,,deactivated
"""


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "members": Member.objects.count(),
        "memberships": Membership.objects.count(),
        "courses": Course.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "approvals": TutorCourse.objects.count(),
        "audit": AuditEntry.objects.exclude(action="roster.applied").count(),
    }


def check(cast: Cast, text: str | bytes, **kwargs: Any) -> RosterImport:
    data = text.encode() if isinstance(text, str) else text
    with transaction.atomic():
        return check_roster(
            organization_id=cast.org.pk, actor=cast.admin, filename="r.csv", data=data, **kwargs
        )


def apply(cast: Cast, roster: RosterImport) -> dict[str, int]:
    with transaction.atomic():
        return apply_roster(organization_id=cast.org.pk, import_id=roster.pk, actor=cast.admin)


def test_dry_run_writes_nothing_but_the_report(cast: Cast) -> None:
    before = counts()
    roster = check(cast, GOOD)
    assert counts() == before
    assert roster.status == ImportStatus.CHECKED
    assert roster.summary == {
        "rows": 3,
        "to_add": 3,
        "to_update": 0,
        "to_deactivate": 0,
        "to_reactivate": 0,
        "courses_to_add": 1,
        "roles_to_add": 4,
        "enrollments_to_add": 3,
        "approvals_to_add": 1,
        "program_students_to_add": 0,
    }


def test_apply_then_apply_again_changes_nothing(cast: Cast) -> None:
    before = counts()
    summary = apply(cast, check(cast, GOOD))
    assert summary["to_add"] == 3
    after = counts()
    assert after == {
        **before,
        "users": before["users"] + 3,
        "members": before["members"] + 3,
        "memberships": before["memberships"] + 4,
        "courses": before["courses"] + 1,
        "enrollments": before["enrollments"] + 3,
        "approvals": before["approvals"] + 1,
    }
    assert AuditEntry.objects.get(action="roster.applied").data["to_add"] == 3
    nia = User.objects.get(email="nia@college.test")
    assert (nia.name, nia.has_usable_password(), nia.is_active) == ("Nia New", False, True)
    assert Member.objects.get(user=nia).status == MemberStatus.INVITED
    dee = User.objects.get(email="dee@college.test")
    assert dee.is_active is False
    assert TutorCourse.objects.get(tutor__email="ted@college.test").status == ApprovalStatus.ACTIVE

    second = check(cast, GOOD)
    assert {k: v for k, v in second.summary.items() if k != "rows"} == dict.fromkeys(
        [k for k in second.summary if k != "rows"], 0
    )
    apply(cast, second)
    assert counts() == after


def test_update_keyed_by_school_id(cast: Cast) -> None:
    apply(cast, check(cast, GOOD))
    changed = GOOD.replace("nia@college.test,Nia New", "nia.new@college.test,Nia Newer")
    roster = check(cast, changed)
    assert (roster.summary["to_add"], roster.summary["to_update"]) == (0, 1)
    apply(cast, roster)
    assert User.objects.get(email="nia.new@college.test").name == "Nia Newer"


def test_full_roster_deactivates_the_missing(cast: Cast) -> None:
    apply(cast, check(cast, GOOD))
    only_two = "\n".join(GOOD.splitlines()[:3]) + "\n"
    roster = check(cast, only_two, deactivate_missing=True)
    assert roster.summary["to_deactivate"] == 0  # S-3 was already deactivated
    apply(cast, check(cast, "\n".join(GOOD.splitlines()[:2]) + "\n", deactivate_missing=True))
    assert User.objects.get(email="ted@college.test").is_active is False


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (
            b"id,email,name\nS-1,a@b.test,A\n",
            "roster_bad_header",
            "The header line must be exactly: school_id,email,name,roles,enrolled_courses,"
            "tutor_courses,status (optionally followed by ,programs) (missing school_id, roles, "
            "enrolled_courses, tutor_courses, status; unknown 'id').",
        ),
        (
            (HEAD + "\nS-1,ren\xe9@b.test,Ren\xe9,student,,,\n").encode("latin-1"),
            "roster_not_utf8",
            "The file is not UTF-8 text (line 2 has a character that cannot be read). In "
            "Excel, save it as “CSV UTF-8 (Comma delimited)”.",
        ),
        (b"", "roster_empty", "The file is empty; it needs the header line."),
        (
            (
                HEAD
                + "\nS-1,nia@college.test,Nia,student,,,\nS-2,ted@college.test,T\x00ed,tutor,,,\n"
            ).encode(),
            "roster_control_character",
            "Line 3 has an invisible control character (U+0000); remove it and upload the "
            "file again.",
        ),
        (
            (HEAD + "\nS-1\x07,nia@college.test,Nia,student,,,\n").encode(),
            "roster_control_character",
            "Line 2 has an invisible control character (U+0007); remove it and upload the "
            "file again.",
        ),
    ],
)
@pytest.mark.postgres
def test_unreadable_files_are_refused_with_a_clear_message(
    cast: Cast, data: bytes, code: str, message: str
) -> None:
    before = counts()
    with pytest.raises(RosterRefused) as caught:
        check(cast, data)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert counts() == before
    assert RosterImport.objects.count() == 0


def test_row_errors_have_line_numbers_and_block_the_whole_file(cast: Cast) -> None:
    text = f"""{HEAD}
S-1,nia@college.test,Nia,student,,,
S-2,not-an-email,Bad,student,,,
S-1,other@college.test,Dup,student,,,
S-4,nia@college.test,Dup mail,student,,,
S-5,x@college.test,X,dean,,,
"""
    before = counts()
    roster = check(cast, text)
    assert roster.status == ImportStatus.INVALID
    assert roster.errors == [
        {"line": 3, "errors": ["'not-an-email' is not an email address"]},
        {"line": 4, "errors": ["school ID S-1 is also on line 2"]},
        {"line": 5, "errors": ["email nia@college.test is also on line 2"]},
        {"line": 6, "errors": ["unknown role 'dean' (use student, tutor, admin)"]},
    ]
    with pytest.raises(Exception) as caught:
        apply(cast, roster)
    assert getattr(caught.value, "code", "") == "roster_has_errors"
    assert counts() == before


def test_a_50_mb_file_is_refused_on_the_page_and_nothing_is_written(cast: Cast) -> None:
    before = counts()
    big = SimpleUploadedFile("big.csv", (HEAD + "\n").encode() + b"x" * (50 * 1024 * 1024))
    response = signed_in(cast.admin).post(
        reverse("console:roster", args=[cast.org.pk]), {"file": big}
    )
    assert response.status_code == 400
    assert (
        "The file is 50.0 MB; a roster file may be at most 10 MB. Split it into smaller files."
        in response.content.decode()
    )
    assert counts() == before
    assert RosterImport.objects.count() == 0


def test_the_pages_dry_run_then_apply(cast: Cast) -> None:
    client = signed_in(cast.admin)
    response = client.post(
        reverse("console:roster", args=[cast.org.pk]),
        {"file": SimpleUploadedFile("roster.csv", GOOD.encode())},
    )
    roster = RosterImport.objects.get()
    assert response["Location"] == reverse("console:roster_import", args=[cast.org.pk, roster.pk])
    assert "Apply 3 rows" in client.get(response["Location"]).content.decode()
    response = client.post(reverse("console:roster_apply", args=[cast.org.pk, roster.pk]))
    page = client.get(response["Location"]).content.decode()
    assert "Imported 3 rows: 3 added, 0 updated, 0 deactivated." in page


def test_management_command(cast: Cast, tmp_path: Any, capsys: Any) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(GOOD)
    call_command("import_roster", str(path), org=cast.org.slug, actor=cast.admin.email)
    assert "3 rows: 3 to add, 0 to update, 0 to deactivate, 0 errors (dry run)" in (
        capsys.readouterr().out
    )
    assert User.objects.filter(email="nia@college.test").count() == 0
    call_command("import_roster", str(path), org=cast.org.slug, actor=cast.admin.email, apply=True)
    assert "Applied." in capsys.readouterr().out
    assert User.objects.filter(email="nia@college.test").count() == 1


def test_twenty_thousand_rows_import_in_seconds(cast: Cast) -> None:
    lines = [HEAD] + [
        f"S-{i},p{i}@college.test,Person {i},student,CHEM 110;C{i % 40},," for i in range(20_000)
    ]
    text = "\n".join(lines) + "\n"
    # CPU time, not wall time: the machine running the suite may be shared.
    started = time.process_time()
    roster = check(cast, text)
    summary = apply(cast, roster)
    elapsed = time.process_time() - started
    assert (summary["to_add"], summary["enrollments_to_add"]) == (20_000, 40_000)
    assert (
        Member.objects.filter(organization=cast.org, school_id__startswith="S-").count() == 20_000
    )
    assert elapsed < 30, f"{elapsed:.1f} s"
    started = time.process_time()
    again = check(cast, text)
    assert again.summary["to_add"] == 0
    assert time.process_time() - started < 15


def test_the_optional_programs_column_enrols_students_into_programs(cast: Cast) -> None:
    grant = f.make_program(cast.org, name="STEM grant", courses=[cast.course])
    writing = f.make_program(cast.org, name="Writing hours", courses=[cast.course])
    old = f.make_program(cast.org, name="Old grant", courses=[cast.course])
    Program.objects.filter(pk=old.pk).update(archived_at=timezone.now())
    Member.objects.filter(organization=cast.org, user=cast.student).update(school_id="S-9")
    text = f"""{HEAD},programs
S-1,nia@college.test,Nia New,student,CHEM 110,,,STEM grant;writing HOURS
S-9,maya@example.test,,student,,,,STEM grant
S-2,ted@college.test,Ted Tutor,tutor,,CHEM 110,,STEM grant
S-3,ann@college.test,Ann,student,,,,Old grant
"""
    roster = check(cast, text)
    assert roster.errors == [
        {"line": 4, "errors": ["programs needs the student role"]},
        {"line": 5, "errors": ["there is no open program called 'Old grant'"]},
    ]
    good = "\n".join(text.splitlines()[:3]) + "\n"
    roster = check(cast, good)
    assert roster.summary["program_students_to_add"] == 3
    summary = apply(cast, roster)
    assert summary["program_students_to_add"] == 3
    nia = User.objects.get(email="nia@college.test")
    assert set(grant.students.all()) == {nia, cast.student}
    assert list(writing.students.all()) == [nia]
    # Applying the same file again changes nothing.
    assert check(cast, good).summary["program_students_to_add"] == 0


def test_a_roster_without_the_programs_column_still_reads(cast: Cast) -> None:
    assert check(cast, GOOD).status == ImportStatus.CHECKED
    with pytest.raises(RosterRefused) as refused:
        check(cast, f"{HEAD},grants\n")
    assert refused.value.message == (
        f"The header line must be exactly: {HEAD} (optionally followed by ,programs) "
        "(unknown 'grants')."
    )

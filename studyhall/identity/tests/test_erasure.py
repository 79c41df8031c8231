"""Erasing a person: personal data goes, the ledger and audit facts stay anonymised, and the
database dump holds neither their name, nor their email, nor their messages."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from studyhall.accounts.models import User
from studyhall.core.errors import NotFound
from studyhall.core.models import AuditEntry
from studyhall.identity import download, erasure
from studyhall.ledger.models import Account
from studyhall.orgs.models import Member, Role
from studyhall.support.models import Conversation, Message
from studyhall.support.services.chat import post_agent_reply, post_user_message
from studyhall.support.services.contact import contact_support
from studyhall.testing import factories as f
from studyhall.testing.second_factor import totp_code
from studyhall.tutoring.models import Completion
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

SECRET_MESSAGE = "My locker code is 4417 and I live at 12 Elm Street"


def dump() -> str:
    assert connection.vendor == "sqlite"
    raw = connection.connection
    assert raw is not None
    return "\n".join(raw.iterdump())


def completed_session(cast: Cast) -> Any:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with transaction.atomic():
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    return session


def earnings(cast: Cast) -> int:
    return Account.objects.get(kind="tutor_earnings", user=cast.tutor).balance_cents


def test_erasing_a_paid_students_data_leaves_the_ledger_whole_and_no_trace(cast: Cast) -> None:
    session = completed_session(cast)
    Member.objects.filter(user=cast.student).update(school_id="S-102938")
    with transaction.atomic():
        message = post_user_message(actor=cast.student, body=SECRET_MESSAGE)
        post_agent_reply(
            actor=cast.agent,
            conversation_id=message.conversation_id,
            body="Thanks Maya Chen, noted (maya@example.test).",
        )
    before = earnings(cast)
    assert before == 1500
    assert "Maya Chen" in dump() and "maya@example.test" in dump()

    with transaction.atomic():
        erasure.erase_person(actor=cast.admin, user_id=cast.student.pk)

    text = dump()
    for secret in ("Maya Chen", "maya@example.test", SECRET_MESSAGE, "S-102938", "Maya "):
        assert secret not in text, secret
    call_command("check_ledger", stdout=io.StringIO())
    assert earnings(cast) == before
    erased = User.objects.get(pk=cast.student.pk)
    assert (erased.name, erased.email, erased.is_active) == (
        "Erased person",
        f"erased-{cast.student.pk}@erased.invalid",
        False,
    )
    assert not erased.has_usable_password()
    # The session and its recap stay, with the name taken out.
    completion = Completion.objects.get(session=session)
    assert completion.tutee_progress == (
        "[erased] solved the last two problems on her own and explained each step."
    )
    assert session.participants.get().user_id == cast.student.pk
    assert set(Message.objects.values_list("body", flat=True)) == {erasure.ERASED_MESSAGE}
    entry = AuditEntry.objects.get(action="person.erased")
    assert (entry.actor, entry.data) == (cast.admin, {"user_id": cast.student.pk})
    # The completion's audit fact stays.
    assert AuditEntry.objects.filter(action="session.completed", session=session).count() == 1


def test_erasing_a_short_name_takes_out_the_word_and_leaves_longer_words_whole(
    cast: Cast,
) -> None:
    ann = f.add_member(cast.org, f.make_user(email="ann@example.test", name="Ann"), Role.STUDENT)
    anna = f.add_member(cast.org, f.make_user(name="Anna Berg"), Role.STUDENT)
    course = f.make_course(cast.org, code="REV 101", title="Annual Review")
    with transaction.atomic():
        post_user_message(actor=cast.student2, body="I study with Ann; Annabel joins us.")

    with transaction.atomic():
        erasure.erase_person(actor=cast.admin, user_id=ann.pk)

    assert Message.objects.get(author=cast.student2).body == (
        "I study with [erased]; Annabel joins us."
    )
    assert User.objects.get(pk=anna.pk).name == "Anna Berg"
    course.refresh_from_db()
    assert (course.code, course.title) == ("REV 101", "Annual Review")
    assert "ann@example.test" not in dump()


def test_erasing_clears_what_they_wrote_through_the_contact_form(cast: Cast) -> None:
    with transaction.atomic():
        theirs = contact_support(
            name="Maya C.", email="MAYA@example.test", message="I lost my password, " * 2
        )
        post_agent_reply(
            actor=cast.agent, conversation_id=theirs.conversation_id, body="Hello Maya C., done."
        )
        someone_else = contact_support(
            name="Jo", email="jo@example.test", message="Where is the library? " * 2
        )

    with transaction.atomic():
        erasure.erase_person(actor=cast.admin, user_id=cast.student.pk)

    conversation = Conversation.objects.get(pk=theirs.conversation_id)
    assert (conversation.contact_name, conversation.contact_email) == (
        "Erased person",
        f"erased-{cast.student.pk}@erased.invalid",
    )
    assert list(conversation.messages.values_list("body", flat=True)) == [
        erasure.ERASED_MESSAGE,
        erasure.ERASED_MESSAGE,
    ]
    other = Conversation.objects.get(pk=someone_else.conversation_id)
    assert (other.contact_name, other.contact_email) == ("Jo", "jo@example.test")
    assert list(other.messages.values_list("body", flat=True)) == [
        "Where is the library? Where is the library?"
    ]
    text = dump()
    for secret in ("Maya C.", "I lost my password", "MAYA@example.test"):
        assert secret not in text, secret


def test_erasing_clears_the_payroll_employee_id(cast: Cast) -> None:
    cast.tutor.memberships.update(employee_id="E-5521")

    with transaction.atomic():
        erasure.erase_person(actor=cast.admin, user_id=cast.tutor.pk)

    assert list(cast.tutor.memberships.values_list("employee_id", flat=True)) == [""]
    assert "E-5521" not in dump()


def test_the_erased_person_can_no_longer_sign_in(cast: Cast) -> None:
    with transaction.atomic():
        erasure.erase_person(actor=cast.agent, user_id=cast.student.pk)

    response = Client().post(
        "/accounts/login/", {"login": "maya@example.test", "password": f.PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


def test_an_admin_of_another_org_cannot_erase_and_nothing_changes(cast: Cast) -> None:
    other_admin = f.add_member(cast.other_org, f.make_user(name="Other Admin"), Role.ADMIN)

    with pytest.raises(NotFound), transaction.atomic():
        erasure.erase_person(actor=other_admin, user_id=cast.student.pk)

    cast.student.refresh_from_db()
    assert cast.student.name == "Maya Chen"
    assert not AuditEntry.objects.filter(action="person.erased").exists()


def test_a_tutor_cannot_erase_anyone(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.tutor)

    response = client.post(
        f"/privacy/people/{cast.student.pk}/erase/", {"confirm": cast.student.email}
    )

    assert response.status_code == 404
    cast.student.refresh_from_db()
    assert cast.student.name == "Maya Chen"


def test_the_erase_page_asks_for_the_email_before_erasing(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.agent)
    # Erasing is a people action: the agent proves the second factor first.
    assert client.post("/accounts/2fa/reauthenticate/", {"code": totp_code()}).status_code == 302
    url = f"/privacy/people/{cast.student.pk}/erase/"

    page = client.get(url).content.decode()
    assert "Type their email, maya@example.test, to confirm" in page
    wrong = client.post(url, {"confirm": "nope"})
    assert wrong.status_code == 400
    assert "Type the person&#x27;s email exactly to confirm." in wrong.content.decode()
    assert User.objects.get(pk=cast.student.pk).name == "Maya Chen"

    done = client.post(url, {"confirm": "maya@example.test"})
    assert done.status_code == 302
    assert User.objects.get(pk=cast.student.pk).name == "Erased person"


def test_the_download_holds_the_persons_recaps_and_no_one_elses_private_data(
    cast: Cast,
) -> None:
    mine = completed_session(cast)
    theirs = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2])
    with transaction.atomic():
        complete_session(
            session_id=theirs.pk,
            actor=cast.tutor,
            minutes=30,
            recap={**f.GOOD_RECAP, "tutee_progress": "Sam Lee struggled with every step of it."},
        )
        post_user_message(actor=cast.student2, body="Sam's private question")
        post_user_message(actor=cast.student, body="Maya's own question")
    client = Client()
    client.force_login(cast.student)

    response = client.get("/privacy/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == sorted(
        f"studyhall-data/{n}"
        for n in [
            "profile.json",
            "memberships.csv",
            "sessions.csv",
            "recaps_written.json",
            "recaps_received.json",
            "support_messages.json",
            "notifications.csv",
            "earnings.csv",
            "payouts.csv",
        ]
    )
    everything = "\n".join(archive.read(n).decode() for n in names)
    assert f'"session": {mine.pk}' in archive.read("studyhall-data/recaps_received.json").decode()
    assert f.GOOD_RECAP["tutee_progress"] in everything
    assert "Maya's own question" in everything
    assert "Sam Lee" not in everything and "Sam's private question" not in everything
    assert "sam@example.test" not in everything and "tutor@example.test" not in everything
    assert download.build_zip(cast.student)[:2] == b"PK"

"""The person page: the invitation email an admin's invite sends, and a tutor's earnings."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console.models import SentInvitation
from studyhall.console.tests.conftest import signed_in
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Member, MemberStatus
from studyhall.testing import factories as f
from studyhall.testing.tasks import queued_task_paths, run_queued_tasks
from studyhall.tutoring.services.completion import complete_session

INVITATION_TASK = "studyhall.console.invitations.send_invitation"


def _people_url(cast: Cast) -> str:
    return reverse("console:people", kwargs={"org_id": cast.org.pk})


def _person_url(cast: Cast, user: User, name: str = "console:person") -> str:
    return reverse(name, kwargs={"org_id": cast.org.pk, "user_id": user.pk})


def _link(body: object) -> str:
    return next(word for word in str(body).split() if word.startswith("http"))


def test_an_invited_person_gets_a_link_to_set_their_password(cast: Cast) -> None:
    response = signed_in(cast.admin).post(
        _people_url(cast),
        {"email": "Nia@College.test", "name": "Nia New", "roles": ["student", "tutor"]},
    )
    assert response.status_code == 302
    assert queued_task_paths() == [INVITATION_TASK]
    assert mail.outbox == []  # nothing is sent before the invitation commits and the task runs
    assert run_queued_tasks() == 1

    [email] = mail.outbox
    assert email.to == ["nia@college.test"]
    assert email.subject == "You're invited to Test College on Studyhall"
    assert (
        "Ada Admin invited you to Test College's tutoring program on Studyhall, as " in email.body
    )
    assert "as student and tutor." in email.body
    link = _link(email.body)
    assert "Set your password: " + link in email.body
    assert isinstance(email, EmailMultiAlternatives)
    html = str(email.alternatives[0][0])
    assert f'href="{link}"' in html
    assert ">Set your password</a>" in html

    # The link really sets a password, and signing in makes the invitation active.
    browser = Client()
    page = browser.get(urlparse(link).path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else urlparse(link).path
    done = browser.post(
        form_url, {"password1": "a long new passphrase 42", "password2": "a long new passphrase 42"}
    )
    assert done.status_code == 302
    user = User.objects.get(email="nia@college.test")
    assert user.check_password("a long new passphrase 42")
    assert Member.objects.get(user=user).status == MemberStatus.INVITED
    signed = Client()
    signed.post(
        reverse("account_login"),
        {"login": "nia@college.test", "password": "a long new passphrase 42"},
    )
    assert Member.objects.get(user=user).status == MemberStatus.ACTIVE
    # The link is spent once used.
    again = Client().get(urlparse(link).path, follow=True)
    assert b"password1" not in again.content


def test_someone_with_an_account_is_sent_to_the_sign_in_page(cast: Cast) -> None:
    f.make_user(email="known@example.test", name="Kim Known")  # has a password elsewhere
    signed_in(cast.admin).post(
        _people_url(cast), {"email": "known@example.test", "roles": ["tutor"]}
    )
    run_queued_tasks()
    [email] = mail.outbox
    assert _link(email.body).endswith(reverse("account_login"))
    assert "Sign in: " in email.body
    assert "the password you already use on Studyhall" in email.body


def test_a_refused_invitation_sends_nothing(cast: Cast) -> None:
    response = signed_in(cast.admin).post(
        _people_url(cast), {"email": "maya@example.test", "roles": ["student"]}
    )
    assert response.status_code == 400  # already a student here
    assert queued_task_paths() == []
    response = signed_in(cast.admin).post(_people_url(cast), {"email": "no", "roles": ["student"]})
    assert response.status_code == 400
    assert queued_task_paths() == []


def test_adding_roles_to_a_member_sends_no_invitation(cast: Cast) -> None:
    response = signed_in(cast.admin).post(
        _people_url(cast), {"email": "maya@example.test", "roles": ["tutor"]}
    )
    assert response.status_code == 302
    assert queued_task_paths() == []


def test_the_invitation_can_be_sent_again_until_they_sign_in(cast: Cast) -> None:
    client = signed_in(cast.admin)
    client.post(_people_url(cast), {"email": "nia@college.test", "roles": ["student"]})
    run_queued_tasks()
    nia = User.objects.get(email="nia@college.test")
    assert b"Send the invitation again" in client.get(_person_url(cast, nia)).content
    response = client.post(_person_url(cast, nia, "console:person_invitation"))
    assert response.status_code == 302
    run_queued_tasks()
    assert [m.to for m in mail.outbox] == [["nia@college.test"], ["nia@college.test"]]
    assert (
        AuditEntry.objects.filter(action="person.invitation_sent", data__user_id=nia.pk).count()
        == 1
    )

    # Someone who has signed in has no invitation to resend.
    client.post(_person_url(cast, cast.student, "console:person_invitation"))
    assert queued_task_paths() == []
    assert len(mail.outbox) == 2


def test_an_invitation_task_run_twice_sends_one_email(cast: Cast) -> None:
    signed_in(cast.admin).post(
        _people_url(cast), {"email": "nia@college.test", "roles": ["student"]}
    )
    assert run_queued_tasks() == 1

    # A worker that died before recording its result runs the task again.
    assert run_queued_tasks(again=True) == 1

    assert [m.to for m in mail.outbox] == [["nia@college.test"]]
    [sent] = SentInvitation.objects.all()
    assert sent.sent_at is not None
    assert sent.member == Member.objects.get(user__email="nia@college.test")


def test_the_api_invitation_sends_the_same_email(cast: Cast) -> None:
    from studyhall.accounts.tokens import issue_token
    from studyhall.api.tests.support import Api

    api = Api(token=issue_token(request=None, email=cast.admin.email, password=f.PASSWORD))
    response = api.post(
        f"/admin/orgs/{cast.org.pk}/people", {"email": "api@college.test", "roles": ["student"]}
    )
    assert response.status_code == 201, response.content
    run_queued_tasks()
    [email] = mail.outbox
    assert email.to == ["api@college.test"]
    assert "/accounts/password/reset/key/" in _link(email.body)


def test_a_tutors_page_shows_their_earnings(cast: Cast) -> None:
    f.set_rate(cast.org, cast.tutor, 1800)
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=50, recap=f.GOOD_RECAP)
    page = signed_in(cast.admin).get(_person_url(cast, cast.tutor)).content.decode()
    assert '<h2 id="earnings-heading">Earnings</h2>' in page
    assert "Balance not yet paid out: <strong>$15.00</strong>" in page
    assert "50 min × $18.00/h = $15.00" in page
    student_page = signed_in(cast.admin).get(_person_url(cast, cast.student)).content.decode()
    assert "earnings-heading" not in student_page

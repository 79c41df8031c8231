"""Support's decisions and payout events reach people through the notifications: a line in the
app always, and an email unless they turned that kind off on the Settings page."""

from __future__ import annotations

from typing import Any

from django.core import mail

from conftest import Cast
from studyhall.notifications.models import Kind, Notification
from studyhall.notifications.services import set_email_preferences
from studyhall.support.services.late_logging import decline_late_log, request_late_log
from studyhall.testing.factories import GOOD_RECAP
from studyhall.tutoring.models import Session

WHY = "The session was never held; the room log shows it empty."


def _declined(cast: Cast, late: Session, capture: Any) -> None:
    request = request_late_log(
        actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason="Forgot."
    )
    with capture(execute=True):
        decline_late_log(actor=cast.agent, request_id=request.pk, reason=WHY)


def test_a_declined_late_log_is_in_the_app_and_emailed(
    cast: Cast, late: Session, django_capture_on_commit_callbacks: Any
) -> None:
    _declined(cast, late, django_capture_on_commit_callbacks)
    notice = Notification.objects.get(user=cast.tutor, kind=Kind.LATE_LOG)
    assert (notice.event, notice.title, notice.session_id, notice.link) == (
        "late_log_declined",
        f"Support could not log your CHEM 110 session: {WHY}",
        late.pk,
        f"/sessions/{late.pk}/",
    )
    [email] = [m for m in mail.outbox if m.to == ["tutor@example.test"]]
    assert email.subject == "Support could not log your session (CHEM 110)"
    assert f"Why: {WHY}" in email.body
    assert "Open the session: http" in email.body
    assert "“Answers from Support to late-log requests”" in email.body  # the shared footer


def test_turned_off_the_decision_is_only_in_the_app(
    cast: Cast, late: Session, django_capture_on_commit_callbacks: Any
) -> None:
    set_email_preferences(actor=cast.tutor, by_email={Kind.LATE_LOG: False})
    _declined(cast, late, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(user=cast.tutor, kind=Kind.LATE_LOG).count() == 1
    assert [m for m in mail.outbox if m.to == ["tutor@example.test"]] == []


def test_the_settings_page_offers_the_new_kinds(cast: Cast, client: Any) -> None:
    client.force_login(cast.tutor)
    page = client.get("/settings/").content.decode()
    for kind in (Kind.LATE_LOG, Kind.CORRECTION, Kind.PAYOUT):
        assert f'name="{kind.value}"' in page
        assert str(kind.label) in page

"""After a correction, the session page, `GET /api/v1/sessions/{id}` and the sessions export
lead with the current minutes and earnings, and keep what was logged and each correction
beneath."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api
from studyhall.feeds.exports import EXPORTS
from studyhall.testing import factories as f
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.corrections import adjust_completion_minutes

ApiAs = Callable[[User | None], Api]


def corrected(cast: Cast) -> Session:
    """55 min at $15/h ($13.75), then changed to 30 min ($7.50)."""
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=2),
    )
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=f.GOOD_RECAP)
    adjust_completion_minutes(
        session_id=session.pk,
        actor=cast.agent,
        minutes=30,
        reason="The student left after half an hour.",
        idempotency_key="fix-1",
    )
    return session


def test_the_api_leads_with_the_current_figures(cast: Cast, api_as: ApiAs) -> None:
    session = corrected(cast)
    body = api_as(cast.tutor).get(f"/sessions/{session.pk}").json()
    assert body["minutes"] == 30
    assert body["earnings"] == {"amount_cents": 750, "currency": "USD"}
    assert body["logged_minutes"] == 55
    assert body["logged_earnings"] == {"amount_cents": 1375, "currency": "USD"}
    [correction] = body["corrections"]
    assert {k: v for k, v in correction.items() if k != "created_at"} == {
        "kind": "adjust_minutes",
        "minutes_before": 55,
        "minutes_after": 30,
        "amount_before": {"amount_cents": 1375, "currency": "USD"},
        "amount_after": {"amount_cents": 750, "currency": "USD"},
        "reason": "The student left after half an hour.",
    }
    # A student sees the minutes and that a correction happened, never money or the reason.
    body = api_as(cast.student).get(f"/sessions/{session.pk}").json()
    assert (body["minutes"], body["earnings"], body["logged_earnings"]) == (30, None, None)
    assert body["corrections"][0]["reason"] is None
    assert body["corrections"][0]["amount_after"] is None


def test_the_session_page_leads_with_the_current_figures(client: Client, cast: Cast) -> None:
    session = corrected(cast)
    client.force_login(cast.tutor)
    html = client.get(f"/sessions/{session.pk}/").content.decode()
    assert '<dd id="current-minutes">30 min (corrected)</dd>' in html
    assert '<dd id="current-earnings">$7.50</dd>' in html
    assert '<dd id="as-logged">55 min, $13.75</dd>' in html
    assert html.index('id="current-minutes"') < html.index('id="as-logged"')
    assert html.index('id="as-logged"') < html.index('id="correction-')


def test_the_sessions_export_leads_with_the_current_figures(cast: Cast) -> None:
    session = corrected(cast)
    text = "".join(EXPORTS["sessions"].lines(cast.org))
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["session_id"] == str(session.pk)]
    assert (row["minutes_logged"], row["earnings"]) == ("30", "7.50")
    assert (row["minutes_as_logged"], row["earnings_as_logged"]) == ("55", "13.75")
    assert row["corrections"].endswith(" 55→30 min 13.75→7.50")

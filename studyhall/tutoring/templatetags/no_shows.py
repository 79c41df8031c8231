"""The no-show parts of the pages: on the session page, why a missed session was missed (with
a way to book again) and "My tutor didn't come" for the students of an in-person session;
a person's no-shows this term where they are shown."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.orgs.models import Organization
from studyhall.tutoring.models import MissedReason, Session, Status, TutorAbsenceReport
from studyhall.tutoring.no_shows import Standing, standing_of
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.services.no_show_notices import rebook_link

register = template.Library()


@register.inclusion_tag("tutoring/_no_show_panel.html", takes_context=True)
def no_show_panel(context: template.Context, session: Session, viewer: User) -> dict[str, Any]:
    """Pass a session whose participants are prefetched (`selectors.with_details`). Costs a
    query only on an in-person session that is reported, or that the viewer may report."""
    may = session_permissions(viewer, session)
    missed_reason = session.missed_reason if session.status == Status.MISSED else ""
    is_student = may.mine is not None
    mine: TutorAbsenceReport | None = None
    reported = session.tutor_absence_reported_at is not None
    if not session.is_online and (reported or may.report_tutor_absent):
        mine = TutorAbsenceReport.objects.filter(session=session, reporter=viewer).first()
    return {
        "csrf_token": context.get("csrf_token"),
        "session": session,
        "missed_reason": missed_reason,
        "missed_label": MissedReason(missed_reason).label if missed_reason else "",
        "tutor_no_show": missed_reason == MissedReason.TUTOR_NO_SHOW,
        "rebook_url": rebook_link(session) if is_student else "",
        "can_report": may.report_tutor_absent and mine is None,
        "my_report": mine,
        "reported": reported,
        "is_tutor": may.is_tutor,
    }


@register.simple_tag
def no_show_standing(organization: Organization, person: User) -> Standing:
    """The person's no-shows in the current counting period and standing suspensions."""
    return standing_of(organization, person, now=timezone.now())

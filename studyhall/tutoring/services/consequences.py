"""What each person's no-shows lead to in a counting period (ADR 17): a warning at the
organization's warning threshold, once a period, and a booking suspension at its suspension
threshold, until an org admin lifts it (`no_shows.lift_suspension`)."""

from __future__ import annotations

from datetime import datetime

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.orgs.models import Organization
from studyhall.tutoring.models import BookingSuspension, NoShowWarning
from studyhall.tutoring.no_shows import counting_period, local_today, no_shows_of
from studyhall.tutoring.services import no_show_notices


def count_no_show(
    *, organization: Organization, user_id: int, role: str, actor: User | None, now: datetime
) -> str | None:
    """A no-show was just recorded for `user_id` in `role`: count their no-shows in the
    period and warn or suspend as the policy says. Returns "warned", "suspended" or None.

    A warning comes once a period; a suspension whenever the count reaches the threshold and
    no suspension already stands for it (one lifted at 3 is given again at 4). The caller
    holds the session's lock; the person's standing rows are read after it."""
    warn_at = organization.no_show_warning_threshold
    suspend_at = organization.no_show_suspension_threshold
    if not warn_at and not suspend_at:
        return None
    period = counting_period(organization, today=local_today(organization, now))
    count = no_shows_of(organization, user_id, role=role, period=period)
    mine = {"organization": organization, "user_id": user_id, "role": role}
    if suspend_at and count >= suspend_at:
        already = (
            BookingSuspension.objects.filter(
                **mine, period_end__gte=period.start, no_shows__gte=count
            ).exists()
            or BookingSuspension.objects.filter(**mine, lifted_at__isnull=True).exists()
        )
        if already:
            return None
        suspension = BookingSuspension.objects.create(
            **mine,
            period_start=period.start,
            period_end=period.end,
            period_name=period.label,
            no_shows=count,
        )
        audit.record(
            actor=actor,
            action="no_show.suspended",
            organization_id=organization.pk,
            user_id=user_id,
            role=role,
            no_shows=count,
            threshold=suspend_at,
            period=period.label,
            suspension_id=suspension.pk,
        )
        no_show_notices.after_commit_standing(event="suspended", record_id=suspension.pk)
        return "suspended"
    if warn_at and count >= warn_at:
        if NoShowWarning.objects.filter(**mine, period_end__gte=period.start).exists():
            return None
        warning = NoShowWarning.objects.create(
            **mine, period_start=period.start, period_end=period.end, no_shows=count
        )
        audit.record(
            actor=actor,
            action="no_show.warned",
            organization_id=organization.pk,
            user_id=user_id,
            role=role,
            no_shows=count,
            threshold=warn_at,
            period=period.label,
            warning_id=warning.pk,
        )
        no_show_notices.after_commit_standing(event="warned", record_id=warning.pk)
        return "warned"
    return None

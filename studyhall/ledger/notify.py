"""Telling a tutor about their payout (initiated, paid, failed) once the change is committed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from studyhall.ledger.models import Payout
from studyhall.notifications.emails import send_templated

SUBJECTS = {
    "initiated": "Your Studyhall payout is on its way",
    "paid": "Your Studyhall payout was paid",
    "failed": "Your Studyhall payout failed — action needed",
}


def after_commit_tell_tutor(*, payout_id: int, event: str) -> None:
    if event not in SUBJECTS:
        raise ValueError(f"unknown payout event {event!r}")

    def send() -> None:
        tell_tutor(payout_id, event)

    transaction.on_commit(send, robust=True)


def tell_tutor(payout_id: int, event: str) -> int:
    payout = Payout.objects.select_related("tutor", "batch", "organization").get(pk=payout_id)
    return send_templated(
        to=[payout.tutor],
        subject=SUBJECTS[event],
        template=f"ledger/email/payout_{event}",
        context={
            "payout": payout,
            "batch": payout.batch,
            "organization": payout.organization,
            "settings_url": settings.STUDYHALL_BASE_URL + reverse("ledger:settings"),
        },
    )

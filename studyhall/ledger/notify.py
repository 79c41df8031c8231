"""Telling a tutor about their payout (initiated, paid, failed) once the change is committed:
in the app, and by email unless they turned payout emails off."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from studyhall.core.money import format_cents
from studyhall.ledger.models import Payout
from studyhall.notifications.models import Kind
from studyhall.notifications.services import Message, deliver

SUBJECTS = {
    "initiated": "Your Studyhall payout is on its way",
    "paid": "Your Studyhall payout was paid",
    "failed": "Your Studyhall payout failed — action needed",
}
TITLES = {
    "initiated": "Your payout of {amount} from {org} is on its way.",
    "paid": "Your payout of {amount} from {org} was paid.",
    "failed": "Your payout of {amount} from {org} failed; see what to do.",
}


def after_commit_tell_tutor(*, payout_id: int, event: str) -> None:
    if event not in SUBJECTS:
        raise ValueError(f"unknown payout event {event!r}")

    def send() -> None:
        tell_tutor(payout_id, event)

    transaction.on_commit(send, robust=True)


def tell_tutor(payout_id: int, event: str) -> int:
    payout = Payout.objects.select_related("tutor", "batch", "organization").get(pk=payout_id)
    amount = format_cents(payout.amount_cents, payout.currency)
    message = Message(
        user=payout.tutor,
        title=TITLES[event].format(amount=amount, org=payout.organization.name),
        subject=SUBJECTS[event],
        template=f"ledger/email/payout_{event}",
        context={
            "payout": payout,
            "batch": payout.batch,
            "organization": payout.organization,
            "settings_url": settings.STUDYHALL_BASE_URL + reverse("ledger:settings"),
        },
    )
    return deliver(
        [message],
        kind=Kind.PAYOUT,
        event=f"payout_{event}",
        link=reverse("ledger:transactions"),
    )

"""Demo payout data for `manage.py seed_demo`: Demo University pays its tutors through payroll
(so the demo works offline), and last week's earning is already in a scheduled payout."""

from __future__ import annotations

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.ledger.payouts import build_batch
from studyhall.ledger.weeks import last_finished_week
from studyhall.orgs.models import Membership, Organization, PayoutProvider, Role


def seed_demo_payouts(*, organization: Organization, tutor: User) -> None:
    organization.payout_provider = PayoutProvider.PAYROLL
    organization.save(update_fields=["payout_provider"])
    Membership.objects.filter(organization=organization, user=tutor, role=Role.TUTOR).update(
        employee_id="DU-10482"
    )
    now = timezone.now()
    build_batch(
        organization_id=organization.pk,
        week_start=last_finished_week(now, organization.zone),
        actor=None,
        now=now,
    )

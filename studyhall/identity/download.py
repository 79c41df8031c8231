"""A person's own data, as a zip of JSON and CSV: profile, memberships, sessions, recaps they
wrote and received, their messages with Support, notifications, earnings and payouts.

Only what is theirs: other people appear by display name where the person met them (their
tutor, their session), never with an email, and another student's data never appears.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.db.models import Q
from django.utils import timezone

from studyhall.accounts.models import ApiToken, User
from studyhall.ledger.models import Entry, Payout
from studyhall.notifications.models import Notification
from studyhall.orgs.models import Member, Membership
from studyhall.support.models import Message
from studyhall.tutoring.models import Completion, Session


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _when(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _recap(completion: Completion) -> dict[str, Any]:
    session = completion.session
    return {
        "session": session.pk,
        "course": session.course.code,
        "tutor": session.tutor.display_name,
        "scheduled_start": _when(session.scheduled_start),
        "minutes": completion.minutes,
        "topics_covered": completion.topics_covered,
        "tutee_progress": completion.tutee_progress,
        "next_steps": completion.next_steps,
        "logged_at": _when(completion.created_at),
    }


def build_zip(person: User) -> bytes:
    sessions = (
        Session.objects.filter(Q(tutor=person) | Q(participants__user=person))
        .distinct()
        .select_related("course", "organization", "tutor")
        .order_by("scheduled_start", "pk")
    )
    recaps = Completion.objects.select_related("session__course", "session__tutor")
    written = recaps.filter(session__tutor=person).order_by("session__scheduled_start")
    received = (
        recaps.filter(session__participants__user=person)
        .exclude(session__tutor=person)
        .distinct()
        .order_by("session__scheduled_start")
    )
    profile = {
        "email": person.email,
        "name": person.name,
        "time_zone": person.time_zone,
        "date_joined": _when(person.date_joined),
        "last_login": _when(person.last_login),
        "support_agent": person.is_support_agent,
        "school_ids": {
            m.organization.name: m.school_id
            for m in Member.objects.filter(user=person).select_related("organization")
            if m.school_id
        },
        "campus_sign_in": [
            {
                "provider": a.provider,
                "identifier": a.uid,
                "attributes": a.extra_data,
                "last_sign_in": _when(a.last_login),
            }
            for a in SocialAccount.objects.filter(user=person).order_by("pk")
        ],
        "api_tokens": [
            {"name": t.name, "created": _when(t.created_at), "expires": _when(t.expires_at)}
            for t in ApiToken.objects.filter(user=person)
        ],
        "exported_at": _when(timezone.now()),
    }
    files: dict[str, str] = {
        "profile.json": json.dumps(profile, indent=2, ensure_ascii=False),
        "memberships.csv": _csv(
            ["organization", "role", "active", "since"],
            (
                (m.organization.name, m.role, m.is_active, _when(m.created_at))
                for m in Membership.objects.filter(user=person).select_related("organization")
            ),
        ),
        "sessions.csv": _csv(
            [
                "session",
                "organization",
                "course",
                "tutor",
                "you were",
                "scheduled_start",
                "planned_minutes",
                "mode",
                "status",
            ],
            (
                (
                    s.pk,
                    s.organization.name,
                    s.course.code,
                    s.tutor.display_name,
                    "tutor" if s.tutor_id == person.pk else "student",
                    _when(s.scheduled_start),
                    s.planned_minutes,
                    s.mode,
                    s.status,
                )
                for s in sessions
            ),
        ),
        "recaps_written.json": json.dumps(
            [_recap(c) for c in written], indent=2, ensure_ascii=False
        ),
        "recaps_received.json": json.dumps(
            [_recap(c) for c in received], indent=2, ensure_ascii=False
        ),
        "support_messages.json": json.dumps(
            [
                {
                    "conversation": m.conversation_id,
                    "from": "Support" if m.from_agent else "you",
                    "body": m.body,
                    "at": _when(m.created_at),
                }
                for m in Message.objects.filter(conversation__user=person).order_by("pk")
            ],
            indent=2,
            ensure_ascii=False,
        ),
        "notifications.csv": _csv(
            ["at", "kind", "title", "read"],
            (
                (_when(n.created_at), n.kind, n.title, n.read_at is not None)
                for n in Notification.objects.filter(user=person).order_by("pk")
            ),
        ),
        "earnings.csv": _csv(
            ["at", "kind", "session", "amount_cents", "currency", "description"],
            (
                (
                    _when(e.transfer.created_at),
                    e.transfer.kind,
                    e.transfer.session_id or "",
                    e.amount_cents,
                    e.transfer.currency,
                    e.transfer.description,
                )
                for e in Entry.objects.filter(account__user=person)
                .select_related("transfer")
                .order_by("transfer__created_at", "pk")
            ),
        ),
        "payouts.csv": _csv(
            ["payout", "organization", "amount_cents", "currency", "minutes", "status"],
            (
                (p.pk, p.organization.name, p.amount_cents, p.currency, p.minutes, p.status)
                for p in Payout.objects.filter(tutor=person).select_related("organization")
            ),
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(f"studyhall-data/{name}", text)
    return buffer.getvalue()

"""Telling people things: an in-app notification for everyone, and the same by email for
those who want that kind by email.

Callers run these after their own change has committed (from `transaction.on_commit` or a
background task): a notification is news about committed state, and a slow mail server must
never hold a lock or undo a booking. The in-app rows and the unread counter change together
in one transaction; email goes out after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.notifications.emails import send_templated
from studyhall.notifications.models import EMAIL_BECAUSE, EmailPreference, Kind, Notification
from studyhall.notifications.selectors import email_choices, email_wanted

TITLE_MAX_CHARS = 300


@dataclass(frozen=True)
class Message:
    """What one person is told: a one-line title in the app, an email from a template pair."""

    user: User
    title: str
    subject: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


def deliver(
    messages: Sequence[Message],
    *,
    kind: Kind,
    event: str,
    session_id: int | None = None,
    link: str = "",
) -> int:
    """Record each message in the app, then email those who want this kind by email.
    Returns how many emails were sent."""
    record(messages, kind=kind, event=event, session_id=session_id, link=link)
    return send_emails(messages, kind=kind, link=link)


def deliver_once(
    messages: Sequence[Message],
    *,
    key: str,
    kind: Kind,
    event: str,
    session_id: int | None = None,
    link: str = "",
) -> int:
    """`deliver` for background tasks, which run at least once: each person is told once
    under `key`, however often this runs. The in-app rows are written first; each email is
    then sent under its row's lock and marked sent in the same transaction, so a run that dies
    mid-way leaves the rest for the next run and a finished one leaves nothing. Returns how
    many emails this run sent."""
    keyed = {f"{key}:u{m.user.pk}": m for m in messages if m.user.is_active}
    with transaction.atomic():
        known = set(Notification.objects.filter(key__in=keyed).values_list("key", flat=True))
        fresh = {k: m for k, m in keyed.items() if k not in known}
        record(
            list(fresh.values()),
            kind=kind,
            event=event,
            session_id=session_id,
            link=link,
            keys=list(fresh),
        )
    pending = list(
        Notification.objects.filter(key__in=keyed, email_settled_at__isnull=True).values_list(
            "pk", "key"
        )
    )
    wanted = email_wanted([keyed[str(k)].user.pk for _, k in pending], kind)
    sent = 0
    for pk, row_key in pending:
        message = keyed[str(row_key)]
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, email_settled_at__isnull=True)
                .first()
            )
            if row is None:
                continue  # another run has it, or has sent it
            if message.user.pk in wanted:
                sent += send_emails([message], kind=kind, link=link, wanted={message.user.pk})
            row.email_settled_at = timezone.now()
            row.save(update_fields=["email_settled_at"])
    return sent


def record(
    messages: Sequence[Message],
    *,
    kind: Kind,
    event: str,
    session_id: int | None = None,
    link: str = "",
    keys: Sequence[str | None] | None = None,
) -> list[Notification]:
    """The in-app side only, in the caller's transaction if there is one. `keys` (one per
    message) makes each row unique, for deliveries that may be repeated."""
    row_keys: Sequence[str | None] = keys if keys is not None else [None] * len(messages)
    pairs = list(zip(messages, row_keys, strict=True))
    live = [(m, k) for m, k in pairs if m.user.is_active]
    if not live:
        return []
    now = timezone.now()
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    user=m.user,
                    kind=kind,
                    event=event,
                    session_id=session_id,
                    title=m.title[:TITLE_MAX_CHARS],
                    link=link,
                    created_at=now,
                    key=k,
                )
                for m, k in live
            ]
        )
        for user_id, count in Counter(m.user.pk for m, _ in live).items():
            User.objects.filter(pk=user_id).update(
                unread_notifications=F("unread_notifications") + count
            )
    return rows


def send_emails(
    messages: Sequence[Message],
    *,
    kind: Kind,
    link: str = "",
    wanted: Collection[int] | None = None,
) -> int:
    """Email each person who wants this kind by email (one message each). `wanted`: the ids
    of those who do, when the caller has already looked them up."""
    if wanted is None:
        wanted = email_wanted([m.user.pk for m in messages], kind)
    base = settings.STUDYHALL_BASE_URL
    shared = {
        "link_url": base + link if link else base + "/",
        "preferences_url": base + reverse("settings:page") + "#email",
        "kind_label": Kind(kind).label,
        "because": EMAIL_BECAUSE[Kind(kind)],
    }
    sent = 0
    for message in messages:
        if message.user.pk not in wanted or not message.user.is_active or not message.user.email:
            continue
        sent += send_templated(
            to=[message.user],
            subject=message.subject,
            template=message.template,
            context={**shared, **message.context},
        )
    return sent


# -- reading them ---------------------------------------------------------------------------


def mark_read(*, actor: User, notification_id: object) -> Notification:
    """Mark one of the actor's notifications read. Marking it again changes nothing."""
    if isinstance(notification_id, bool) or not isinstance(notification_id, int):
        raise NotFound("There is no such notification.")
    with transaction.atomic():
        notification = Notification.objects.filter(pk=notification_id, user=actor).first()
        if notification is None:
            raise NotFound("There is no such notification.")
        if notification.read_at is None:
            now = timezone.now()
            changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
                read_at=now
            )
            _count_read(actor, changed)
            notification.read_at = now
    return notification


def mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many there were."""
    with transaction.atomic():
        changed = Notification.objects.filter(user=actor, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        _count_read(actor, changed)
    return changed


def _count_read(actor: User, changed: int) -> None:
    if not changed:
        return
    # Decrement rather than zero: a notification created meanwhile stays counted.
    User.objects.filter(pk=actor.pk).update(
        unread_notifications=Greatest(F("unread_notifications") - changed, Value(0))
    )
    actor.refresh_from_db(fields=["unread_notifications"])


# -- choosing what comes by email ------------------------------------------------------------


def set_email_preferences(*, actor: User, by_email: Mapping[str, bool]) -> dict[str, bool]:
    """Set, per kind, whether the actor also gets it by email. Kinds left out keep theirs."""
    unknown = sorted(set(by_email) - set(Kind.values))
    if unknown:
        raise InvalidInput(
            f"Unknown notification kind(s): {', '.join(unknown)}.", code="unknown_kind"
        )
    with transaction.atomic():
        for kind, wanted in by_email.items():
            EmailPreference.objects.update_or_create(
                user=actor, kind=kind, defaults={"by_email": bool(wanted)}
            )
    return email_choices(actor)


def recount_unread(user_ids: Iterable[int] | None = None) -> int:
    """Repair tool: set each counter from the rows. Returns how many counters were wrong."""
    users = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    fixed = 0
    for user in users.only("pk", "unread_notifications"):
        actual = Notification.objects.filter(user=user, read_at__isnull=True).count()
        if actual != user.unread_notifications:
            User.objects.filter(pk=user.pk).update(unread_notifications=actual)
            fixed += 1
    return fixed

"""Erasing a person: their personal data is removed or anonymised, while what happened stays.

The user row itself stays, renamed to a placeholder ("Erased person"), so that ledger amounts,
sessions and audit facts keep pointing at someone and `check_ledger` still balances. What is
theirs alone goes: sign-in (password, tokens, second factors, email addresses), their
notifications, preferences and calendar feed, the school ID, their support conversations'
words, the contact form's included (found by the email they gave). Their name and email are
then taken out of every text the database holds about others (recaps, notices, audit data):
the scrub walks every model's text and JSON fields, so a table added later is covered without
being listed here. The ledger's history is append-only and holds amounts and session numbers,
not words about people, so it is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone

from studyhall.accounts.models import ApiToken, User
from studyhall.calendars.models import CalendarFeed
from studyhall.core import audit
from studyhall.core.errors import Forbidden, NotFound, RuleViolation
from studyhall.notifications.models import EmailPreference, Notification
from studyhall.orgs.models import Member, Membership, MemberStatus, Role
from studyhall.support.models import ChatPresence, Conversation, Message
from studyhall.tutoring.models import Completion

PLACEHOLDER_NAME = "Erased person"
REDACTED = "[erased]"
ERASED_MESSAGE = "[Message erased at the person's request]"
# History that may not change (PostgreSQL refuses it): the ledger's.
APPEND_ONLY = {"ledger.transfer", "ledger.entry", "ledger.payoutitem", "ledger.payoutevent"}


def placeholder_email(user_id: int) -> str:
    return f"erased-{user_id}@erased.invalid"


def check_may_erase(*, actor: User, person: User) -> None:
    if person.pk == actor.pk:
        raise Forbidden("You cannot erase yourself; ask Support.", code="erase_self")
    if person.is_support_agent:
        raise Forbidden("Support agents are not erased here.", code="erase_agent")
    if actor.is_support_agent:
        return
    admin_of = set(
        Membership.objects.filter(user=actor, role=Role.ADMIN, is_active=True).values_list(
            "organization_id", flat=True
        )
    )
    theirs = set(Member.objects.filter(user=person).values_list("organization_id", flat=True))
    if not theirs & admin_of:
        raise NotFound("There is no such person in your organizations.", code="person_not_found")
    if theirs - admin_of:
        raise Forbidden(
            "This person also belongs to an organization you do not run; ask Support to "
            "erase them.",
            code="erase_other_org",
        )


def erase_person(*, actor: User, user_id: int) -> User:
    """Anonymise the person and scrub their name and email from what others' rows say.
    Runs inside the caller's transaction; erasing twice changes nothing the second time."""
    person = User.objects.select_for_update().filter(pk=user_id).first()
    if person is None:
        raise NotFound("There is no such person.", code="person_not_found")
    check_may_erase(actor=actor, person=person)
    if person.email == placeholder_email(person.pk):
        raise RuleViolation("This person was already erased.", code="already_erased")
    name, email = person.name.strip(), person.email
    first_name = name.split(" ")[0] if name else ""

    conversations = Conversation.objects.filter(user=person)
    Message.objects.filter(conversation__in=conversations).update(body=ERASED_MESSAGE)
    # What they wrote through the contact form, before or without signing in, is theirs too:
    # those conversations know them only by the email they gave.
    visitor = Conversation.objects.filter(user__isnull=True, contact_email__iexact=email)
    Message.objects.filter(conversation__in=visitor).update(body=ERASED_MESSAGE)
    visitor.update(contact_name=PLACEHOLDER_NAME, contact_email=placeholder_email(person.pk))
    Message.objects.filter(author=person).update(body=ERASED_MESSAGE)
    ChatPresence.objects.filter(user=person).delete()
    Notification.objects.filter(user=person).delete()
    EmailPreference.objects.filter(user=person).delete()
    CalendarFeed.objects.filter(user=person).delete()
    ApiToken.objects.filter(user=person).delete()
    Authenticator.objects.filter(user=person).delete()
    EmailAddress.objects.filter(user=person).delete()
    _delete_social_accounts(person)
    Member.objects.filter(user=person).update(
        school_id="", status=MemberStatus.DEACTIVATED, deactivated_at=timezone.now()
    )
    Membership.objects.filter(user=person).update(is_active=False, employee_id="")
    User.objects.filter(pk=person.pk).update(unread_notifications=0)

    person.name = PLACEHOLDER_NAME
    person.email = placeholder_email(person.pk)
    person.time_zone = "UTC"
    person.is_active = False
    person.set_unusable_password()
    person.save(update_fields=["name", "email", "time_zone", "is_active", "password"])

    # Recaps about them often use their first name alone ("Maya balanced equations").
    if first_name:
        _redact_recaps(person, first_name)
    for needle in (name, email):
        if needle:
            _scrub_everywhere(needle)
    audit.record(actor=actor, action="person.erased", user_id=person.pk)
    return person


def _delete_social_accounts(person: User) -> None:
    if apps.is_installed("allauth.socialaccount"):
        apps.get_model("socialaccount", "SocialAccount").objects.filter(user=person).delete()


def _redact_recaps(person: User, first_name: str) -> None:
    word = re.compile(rf"\b{re.escape(first_name)}\b", re.IGNORECASE)
    fields = ["topics_covered", "tutee_progress", "next_steps"]
    for completion in Completion.objects.filter(session__participants__user=person).distinct():
        changed = {f: word.sub(REDACTED, getattr(completion, f)) for f in fields}
        if any(changed[f] != getattr(completion, f) for f in fields):
            Completion.objects.filter(pk=completion.pk).update(**changed)


def _text_fields(model: type[models.Model]) -> Iterator[models.Field[Any, Any]]:
    for field in model._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField | models.JSONField) and not (
            field.choices
        ):
            yield field


def _scrub_everywhere(needle: str) -> None:
    # Whole words only: erasing "Ann" must leave "Anna", "Annual" and "session.annotated".
    # The database's icontains finds the candidate rows; the pattern decides what changes.
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)", re.IGNORECASE)
    for model in apps.get_models():
        if model._meta.label_lower in APPEND_ONLY or model._meta.proxy:
            continue
        manager = model._base_manager
        for field in _text_fields(model):
            if isinstance(field, models.JSONField):
                rows = manager.annotate(_as_text=Cast(field.attname, models.TextField())).filter(
                    _as_text__icontains=needle
                )
            else:
                rows = manager.filter(**{f"{field.attname}__icontains": needle})
            for pk, value in rows.values_list("pk", field.attname):
                scrubbed = _scrubbed(value, pattern)
                if scrubbed != value:
                    manager.filter(pk=pk).update(**{field.attname: scrubbed})


def _scrubbed(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_scrubbed(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, pattern) for k, v in value.items()}
    return value

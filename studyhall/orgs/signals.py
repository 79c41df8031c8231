"""Invited people become active in their organizations when they first sign in; renamed
people keep their members' sort keys."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.orgs import sorting
from studyhall.orgs.models import Member, MemberStatus


@receiver(user_logged_in, dispatch_uid="orgs.invited_signed_in")
def invited_signed_in(sender: Any, user: Any, **kwargs: Any) -> None:
    if not isinstance(user, User):
        return
    invited = list(
        Member.objects.filter(user=user, status=MemberStatus.INVITED).values_list(
            "organization_id", flat=True
        )
    )
    if not invited:
        return
    Member.objects.filter(user=user, status=MemberStatus.INVITED).update(status=MemberStatus.ACTIVE)
    for organization_id in invited:
        audit.record(
            actor=user, action="person.joined", organization_id=organization_id, user_id=user.pk
        )


NAME_FIELDS = frozenset({"name", "email"})


@receiver(post_save, sender=User, dispatch_uid="orgs.member_sort_keys")
def user_saved(
    sender: Any, instance: User, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    """A renamed person (their profile, a campus sign-in, an erasure) keeps their place in
    every organization's People list."""
    if created or kwargs.get("raw"):
        return
    if update_fields is not None and not NAME_FIELDS & set(update_fields):
        return
    sorting.copy_from(instance)

"""The members' copies of their users' names and emails (Member.sort_name, sort_email), which
order the console's People list from an index.

A member takes its user's name and email when it is created (Member.save). Afterwards every
save of a user that may change them refreshes the copies (the receiver in orgs.signals), and
writers that change users in bulk, without save(), call refresh_sort_keys themselves."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import OuterRef, Q, Subquery

from studyhall.accounts.models import User
from studyhall.orgs.models import Member

CHUNK = 1000


def copy_from(user: User) -> int:
    """Refresh the members of one user whose copies are out of date; one statement."""
    return (
        Member.objects.filter(user_id=user.pk)
        .exclude(Q(sort_name=user.name) & Q(sort_email=user.email))
        .update(sort_name=user.name, sort_email=user.email)
    )


def refresh_sort_keys(
    *, user_ids: Iterable[int] | None = None, organization_id: int | None = None
) -> int:
    """Copy the users' current names and emails onto their members, in every organization
    (user_ids) or for one organization's members (organization_id); one statement a chunk."""
    users = User.objects.filter(pk=OuterRef("user_id"))
    values = {
        "sort_name": Subquery(users.values("name")[:1]),
        "sort_email": Subquery(users.values("email")[:1]),
    }
    members = Member.objects.all()
    if organization_id is not None:
        members = members.filter(organization_id=organization_id)
    if user_ids is None:
        return members.update(**values)
    ids = sorted(set(user_ids))
    return sum(
        members.filter(user_id__in=ids[i : i + CHUNK]).update(**values)
        for i in range(0, len(ids), CHUNK)
    )

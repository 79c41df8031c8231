"""Reads for the chat bubble, the support inbox, late-log requests and corrections.

Every function that takes a viewer checks what that viewer may see; the others are for
callers that already did (agents' pages check `require_agent` first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import NotFound
from studyhall.core.money import Money
from studyhall.ledger.selectors import balances_of
from studyhall.orgs.models import Member, Membership, Organization
from studyhall.support.access import require_agent
from studyhall.support.models import (
    Conversation,
    ConversationStatus,
    CorrectionProposal,
    CorrectionStatus,
    LateLogRequest,
    Message,
    RequestStatus,
)
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import Session, Status
from studyhall.tutoring.rules import describe_span
from studyhall.tutoring.selectors import deadline_of, opens_at, sessions_of

CHAT_HISTORY_SHOWN = 50
RECENT_SESSIONS_SHOWN = 8


def _positive_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


# -- The chat bubble: one user's own conversations ------------------------------------------


def chat_history(user: User, *, limit: int = CHAT_HISTORY_SHOWN) -> list[Message]:
    """The user's latest messages with Support, across all their conversations, oldest
    first."""
    latest = (
        Message.objects.filter(conversation__user=user)
        .select_related("author", "conversation")
        .order_by("-id")[:limit]
    )
    return list(reversed(latest))


def messages_after(user: User, after_id: int, *, limit: int = 100) -> list[Message]:
    """The user's messages newer than `after_id` (what a poll has not shown yet)."""
    return list(
        Message.objects.filter(conversation__user=user, id__gt=max(after_id, 0))
        .select_related("author", "conversation")
        .order_by("id")[:limit]
    )


def unread_count(user: User) -> int:
    """Agents' messages to the user that the user has not seen."""
    return Message.objects.filter(
        conversation__user=user, from_agent=True, id__gt=F("conversation__user_read_upto")
    ).count()


def open_conversation_of(user: User) -> Conversation | None:
    return Conversation.objects.filter(user=user, status=ConversationStatus.OPEN).first()


# -- The support inbox (agents) -------------------------------------------------------------

INBOX_VIEWS = {
    "open": "Open",
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
    "closed": "Closed",
}


def inbox(agent: User, *, view: str = "open", limit: int = 100) -> list[Conversation]:
    """Open conversations, the longest-waiting first (then those Support answered last,
    oldest first); or the latest closed ones."""
    require_agent(agent, action="read the support inbox")
    last_body = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id").values("body")
    qs = Conversation.objects.select_related("user", "assigned_to").annotate(
        message_count=Count("messages"), last_body=Subquery(last_body[:1])
    )
    if view == "closed":
        qs = qs.filter(status=ConversationStatus.CLOSED).order_by("-closed_at", "-id")
    else:
        qs = qs.filter(status=ConversationStatus.OPEN)
        if view == "mine":
            qs = qs.filter(assigned_to=agent)
        elif view == "unassigned":
            qs = qs.filter(assigned_to__isnull=True)
        qs = qs.order_by(
            F("waiting_since").asc(nulls_last=True), F("last_message_at").asc(nulls_last=True), "id"
        )
    return list(qs[:limit])


def inbox_counts() -> dict[str, int]:
    counts = Conversation.objects.aggregate(
        open=Count("id", filter=Q(status=ConversationStatus.OPEN)),
        waiting=Count("id", filter=Q(status=ConversationStatus.OPEN, waiting_since__isnull=False)),
    )
    counts["late_log"] = LateLogRequest.objects.filter(status=RequestStatus.PENDING).count()
    counts["corrections"] = CorrectionProposal.objects.filter(
        status=CorrectionStatus.PENDING
    ).count()
    return counts


def conversation_for_agent(agent: User, conversation_id: object) -> Conversation:
    require_agent(agent, action="read support conversations")
    pk = _positive_id(conversation_id)
    conversation = (
        Conversation.objects.select_related("user", "assigned_to", "closed_by", "session__course")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if conversation is None:
        raise NotFound("There is no such conversation.")
    return conversation


def conversation_messages(conversation: Conversation, *, after: int = 0) -> list[Message]:
    return list(
        conversation.messages.filter(id__gt=max(after, 0)).select_related("author").order_by("id")
    )


def accounts_with_email(email: str) -> list[User]:
    """Accounts whose email is the one a visitor gave (they may be that person, or not)."""
    if not email:
        return []
    return list(User.objects.filter(email__iexact=email).order_by("pk")[:5])


def agents() -> list[User]:
    return list(User.objects.filter(is_support_agent=True, is_active=True).order_by("name"))


# -- The user beside the conversation --------------------------------------------------------


@dataclass(frozen=True)
class GraceState:
    text: str
    closed: bool = False


def grace_state(session: Session, *, now: datetime) -> GraceState:
    """Where the session stands with logging: open (how long left), closed (how long ago),
    done, or not yet."""
    if session.status == Status.COMPLETED:
        return GraceState("Logged")
    if session.status in lifecycle.TERMINAL:
        return GraceState("Nothing to log")
    if session.status == Status.REQUESTED:
        return GraceState("Not accepted yet")
    if now < opens_at(session):
        return GraceState("Not started yet")
    deadline = deadline_of(session)
    if now > deadline:
        return GraceState(f"Logging closed {describe_span(now - deadline)} ago", closed=True)
    return GraceState(f"Logging closes in {describe_span(deadline - now)}")


@dataclass(frozen=True)
class SessionLine:
    session: Session
    role: str
    grace: GraceState


@dataclass(frozen=True)
class OrgRoles:
    organization: Organization
    roles: list[str]


@dataclass(frozen=True)
class UserContext:
    user: User
    organizations: list[OrgRoles]
    sessions: list[SessionLine]
    balances: list[Money]
    late_log_requests: list[LateLogRequest]
    conversations: int


def user_context(user: User, *, now: datetime | None = None) -> UserContext:
    """What an agent needs beside a conversation: the user's organizations and roles, their
    recent sessions with where logging stands, their balance and their requests."""
    now = now or timezone.now()
    by_org: dict[int, OrgRoles] = {}
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "role")
    )
    for membership in memberships:
        entry = by_org.setdefault(membership.organization_id, OrgRoles(membership.organization, []))
        entry.roles.append(membership.get_role_display())
    recent = sessions_of(user).order_by("-scheduled_start", "-id")[:RECENT_SESSIONS_SHOWN]
    lines = [
        SessionLine(
            session=s,
            role="Tutor" if s.tutor_id == user.pk else "Student",
            grace=grace_state(s, now=now),
        )
        for s in recent
    ]
    requests = list(
        LateLogRequest.objects.filter(requested_by=user)
        .select_related("session__course")
        .order_by("-created_at", "-id")[:5]
    )
    return UserContext(
        user=user,
        organizations=list(by_org.values()),
        sessions=lines,
        balances=balances_of(user),
        late_log_requests=requests,
        conversations=Conversation.objects.filter(user=user).count(),
    )


# -- Late-log requests ------------------------------------------------------------------------


def _requests() -> QuerySet[LateLogRequest]:
    return LateLogRequest.objects.select_related(
        "session__course",
        "session__organization",
        "session__tutor",
        "requested_by",
        "decided_by",
        "completion__earning",
    )


def pending_late_log_requests(*, limit: int = 100) -> list[LateLogRequest]:
    return list(_requests().filter(status=RequestStatus.PENDING).order_by("created_at")[:limit])


def late_log_request_for(viewer: User, request_id: object) -> LateLogRequest:
    """A request, for an agent or for the tutor who sent it; nobody else learns it exists."""
    pk = _positive_id(request_id)
    request = _requests().filter(pk=pk).first() if pk else None
    if request is None or not (viewer.is_support_agent or request.requested_by_id == viewer.pk):
        raise NotFound("There is no such request.")
    return request


def latest_late_log_request(session: Session) -> LateLogRequest | None:
    return _requests().filter(session=session).order_by("-created_at", "-id").first()


def pending_late_log_session_ids(tutor: User) -> frozenset[int]:
    return frozenset(
        LateLogRequest.objects.filter(requested_by=tutor, status=RequestStatus.PENDING).values_list(
            "session_id", flat=True
        )
    )


# -- Corrections ----------------------------------------------------------------------------


def _proposals() -> QuerySet[CorrectionProposal]:
    return CorrectionProposal.objects.select_related(
        "session__course",
        "session__organization",
        "session__tutor",
        "session__completion__earning",
        "proposed_by",
        "decided_by",
    )


def pending_corrections(*, limit: int = 100) -> list[CorrectionProposal]:
    return list(_proposals().filter(status=CorrectionStatus.PENDING).order_by("created_at")[:limit])


def correction_for_agent(agent: User, proposal_id: object) -> CorrectionProposal:
    require_agent(agent, action="review corrections")
    pk = _positive_id(proposal_id)
    proposal = _proposals().filter(pk=pk).first() if pk else None
    if proposal is None:
        raise NotFound("There is no such correction.")
    return proposal


def corrections_of(session: Session) -> list[CorrectionProposal]:
    return list(_proposals().filter(session=session).order_by("-created_at", "-id"))


# -- Agents' search, a person's page and the agent's own sessions ---------------------------

SEARCH_MAX_CHARS = 120
SEARCH_PER_PAGE = 20
AGENT_SESSIONS_PER_PAGE = 20


@dataclass(frozen=True)
class SearchQuery:
    """What an agent typed, read once: text for names and emails, and the number it may be
    (a session id, or a school id that is all digits)."""

    text: str
    number: int | None

    @classmethod
    def parse(cls, raw: object) -> SearchQuery:
        text = " ".join(str(raw or "").split())[:SEARCH_MAX_CHARS]
        digits = text.lstrip("#")
        number = int(digits) if digits.isdigit() and len(digits) <= 12 else None
        return cls(text=text, number=number or None)

    @property
    def empty(self) -> bool:
        return not self.text


def _with_orgs(people: QuerySet[User]) -> QuerySet[User]:
    """Each person's roles and school ids, two queries for a whole page."""
    return people.prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("organization").order_by(
                "organization__name", "role"
            ),
        ),
        Prefetch(
            "org_members",
            queryset=Member.objects.select_related("organization").order_by("organization__name"),
        ),
    )


def search_people(agent: User, query: SearchQuery) -> QuerySet[User]:
    """People whose name or email contains the text, or whose school id is it exactly.
    Agents support every organization, so every organization's people are found."""
    require_agent(agent, action="search people and sessions")
    if query.empty:
        return User.objects.none()
    school = Member.objects.filter(user=OuterRef("pk"), school_id__iexact=query.text)
    people = User.objects.filter(
        Q(name__icontains=query.text) | Q(email__icontains=query.text) | Exists(school)
    ).order_by("name", "pk")
    return _with_orgs(people)


def search_sessions(agent: User, query: SearchQuery) -> list[Session]:
    """The session whose id is the number typed, if any."""
    require_agent(agent, action="search people and sessions")
    if query.number is None:
        return []
    return list(
        Session.objects.filter(pk=query.number).select_related("organization", "course", "tutor")
    )


@dataclass(frozen=True)
class PersonView:
    context: UserContext
    memberships: list[Membership]
    school_ids: list[tuple[str, str]]
    conversations: Sequence[Conversation]
    open_conversation: Conversation | None


def person_for_agent(agent: User, person_id: object) -> PersonView:
    """Everything Support sees about one person, for the person's Support page."""
    require_agent(agent, action="look people up")
    pk = _positive_id(person_id)
    person = _with_orgs(User.objects.filter(pk=pk)).first() if pk else None
    if person is None:
        raise NotFound("There is no such person.")
    conversations = list(
        Conversation.objects.filter(user=person)
        .select_related("assigned_to")
        .annotate(message_count=Count("messages"))
        .order_by("-created_at", "-id")[:20]
    )
    return PersonView(
        context=user_context(person),
        memberships=list(person.memberships.all()),
        school_ids=[
            (m.organization.name, m.school_id) for m in person.org_members.all() if m.school_id
        ],
        conversations=conversations,
        open_conversation=next((c for c in conversations if c.is_open), None),
    )


def agent_sessions(agent: User) -> QuerySet[Session]:
    """The sessions with Support activity this agent is handling: requests to log them that
    the agent decided, corrections the agent proposed or decided, and conversations about
    them assigned to the agent. The latest activity first."""
    require_agent(agent, action="see the sessions Support is handling")

    def latest(rows: QuerySet[Any], at: str) -> Subquery:
        """The latest `at` of the rows about the outer session."""
        per_session = rows.filter(session=OuterRef("pk")).order_by().values("session")
        return Subquery(
            per_session.annotate(at=Max(at)).values("at")[:1], output_field=DateTimeField()
        )

    late = latest(LateLogRequest.objects.filter(decided_by=agent), "decided_at")
    corrected = latest(
        CorrectionProposal.objects.filter(Q(proposed_by=agent) | Q(decided_by=agent)),
        "created_at",
    )
    talked = latest(Conversation.objects.filter(assigned_to=agent), "last_message_at")
    epoch = Value(datetime(1970, 1, 1, tzinfo=UTC))
    return (
        Session.objects.annotate(
            late_at=late,
            correction_at=corrected,
            conversation_at=talked,
        )
        .filter(
            Q(late_at__isnull=False)
            | Q(correction_at__isnull=False)
            | Q(conversation_at__isnull=False)
        )
        .annotate(
            support_at=Greatest(
                Coalesce("late_at", epoch),
                Coalesce("correction_at", epoch),
                Coalesce("conversation_at", epoch),
            )
        )
        .select_related("organization", "course", "tutor")
        .order_by("-support_at", "-pk")
    )

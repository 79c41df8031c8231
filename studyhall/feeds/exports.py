"""The organization's data in Knack's nightly shape: sessions, users, tutor requests, recaps,
transactions and payouts, one CSV each.

Columns are stable (integrators map them once); new columns are only ever added at the end.
Times are ISO 8601 in UTC, with the tutor's time zone in its own column; people carry the
school's id for them (`Membership.school_id`). Rows come from `.iterator()` in chunks with
their related rows prefetched per chunk, so a file of 100,000 sessions streams in bounded
memory and a fixed number of queries per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from django.db.models import (
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from studyhall.accounts.models import User
from studyhall.core.models import AuditEntry
from studyhall.core.text import counted_length
from studyhall.feeds.csvstream import csv_lines, flag, iso_utc, joined, money, safe
from studyhall.ledger.models import AccountKind, Entry, Payout, Transfer
from studyhall.orgs.models import (
    Enrollment,
    Member,
    Membership,
    MemberStatus,
    Organization,
    TutorCourse,
)
from studyhall.tutoring.models import (
    Correction,
    Origin,
    Participant,
    ParticipantState,
    Session,
    Status,
)

CHUNK = 2000
T = TypeVar("T")

SESSION_COLUMNS = (
    "session_id",
    "status",
    "mode",
    "origin",
    "course_code",
    "course_title",
    "tutor_id",
    "tutor_school_id",
    "tutor_name",
    "tutor_email",
    "tutor_time_zone",
    "student_ids",
    "student_school_ids",
    "student_names",
    "student_emails",
    "student_states",
    "students_attended",
    "scheduled_start_utc",
    "scheduled_end_utc",
    "planned_minutes",
    "location",
    "call_started_at_utc",
    "call_ended_at_utc",
    "ended_at_utc",
    "minutes_logged",
    "earnings",
    "currency",
    "program",
    "recurring_series",
    "cancel_reason",
    "created_at_utc",
    # After a correction the two above are the current figures; these keep what was logged.
    "minutes_as_logged",
    "earnings_as_logged",
    "corrections",
)
USER_COLUMNS = (
    "user_id",
    "school_id",
    "name",
    "email",
    "roles",
    "time_zone",
    "active",
    "status",
    "employee_id",
    "courses_enrolled",
    "courses_tutored",
    "joined_at_utc",
)
TUTOR_REQUEST_COLUMNS = (
    "request_id",
    "status",
    "modality",
    "course_code",
    "student_id",
    "student_school_id",
    "student_name",
    "student_email",
    "tutor_id",
    "tutor_school_id",
    "tutor_name",
    "tutor_email",
    "tutor_time_zone",
    "requested_at_utc",
    "requested_start_utc",
    "planned_minutes",
    "notified_count",
    "responded_count",
    "answer",
    "answered_at_utc",
    "minutes_to_answer",
)
RECAP_COLUMNS = (
    "session_id",
    "course_code",
    "tutor_id",
    "tutor_school_id",
    "tutor_name",
    "tutor_email",
    "tutor_time_zone",
    "student_school_ids",
    "student_names",
    "scheduled_start_utc",
    "completed_at_utc",
    "minutes_logged",
    "topics_covered",
    "tutee_progress",
    "next_steps",
    "recap_chars",
    "logged_by_support",
)
TRANSACTION_COLUMNS = (
    "transaction_id",
    "created_at_utc",
    "kind",
    "amount",
    "currency",
    "tutor_amount",
    "tutor_id",
    "tutor_school_id",
    "tutor_name",
    "tutor_email",
    "tutor_time_zone",
    "session_id",
    "payout_id",
    "description",
)
PAYOUT_COLUMNS = (
    "payout_id",
    "tutor_id",
    "tutor_school_id",
    "tutor_employee_id",
    "tutor_name",
    "tutor_email",
    "tutor_time_zone",
    "week_start",
    "week_end",
    "payout_date",
    "provider",
    "status",
    "amount",
    "currency",
    "minutes",
    "failure_code",
    "failure_reason",
    "created_at_utc",
)

# What a tutor answering a request records (accepting or declining it).
ANSWER_ACTIONS = {"session.accepted": "accepted", "session.declined": "declined"}


def _school_id(organization: Organization, user_ref: str) -> Subquery:
    """The school's id for the person, as the organization keeps it on its member row."""
    return Subquery(
        Member.objects.filter(organization=organization, user_id=OuterRef(user_ref)).values(
            "school_id"
        )[:1]
    )


def chunked(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(islice(rows, size)):
        yield chunk


@dataclass(frozen=True)
class Student:
    user_id: int
    school_id: str
    name: str
    email: str
    state: str  # accepted, invited, declined, removed, or no_show

    @property
    def came(self) -> bool:
        return self.state == ParticipantState.ACCEPTED


def students_of(organization: Organization, session_ids: list[int]) -> dict[int, list[Student]]:
    """Each session's students as plain values (no model instances, no reference cycles, so
    a chunk's memory is freed as soon as the chunk is written)."""
    found: dict[int, list[Student]] = defaultdict(list)
    rows = (
        Participant.objects.filter(session_id__in=session_ids)
        .annotate(school_id=Coalesce(_school_id(organization, "user_id"), Value("")))
        .order_by("id")
        .values_list(
            "session_id", "user_id", "school_id", "user__name", "user__email", "state", "no_show"
        )
    )
    for session_id, user_id, school_id, name, email, state, no_show in rows:
        found[session_id].append(
            Student(
                user_id,
                school_id,
                name or email.split("@")[0],
                email,
                "no_show" if no_show else state,
            )
        )
    return found


# -- sessions ------------------------------------------------------------------------------


def net_earning_cents() -> Coalesce:
    """What a completed session's tutor was paid, after support's corrections (the latest
    correction's amount, else the completion's)."""
    latest = (
        Correction.objects.filter(session_id=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("amount_after_cents")[:1]
    )
    return Coalesce(Subquery(latest), F("completion__earning__amount_cents"))


def net_minutes() -> Coalesce:
    """The minutes a completed session counts for now (the latest correction's, else logged)."""
    latest = (
        Correction.objects.filter(session_id=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("minutes_after")[:1]
    )
    return Coalesce(Subquery(latest), F("completion__minutes"))


def corrections_cell(corrections: Sequence[Correction]) -> str:
    """Each correction, oldest first: '2026-03-04T15:00:00Z 55→30 min $13.75→$7.50'."""
    return "; ".join(
        f"{iso_utc(c.created_at)} {c.minutes_before}→{c.minutes_after} min "
        f"{money(c.amount_before_cents)}→{money(c.amount_after_cents)}"
        for c in corrections
    )


def corrections_of(session_ids: list[int]) -> dict[int, list[Correction]]:
    """One chunk's corrections, oldest first, read with the chunk (a prefetch on the streamed
    queryset would be held for the whole export)."""
    found: dict[int, list[Correction]] = defaultdict(list)
    for correction in Correction.objects.filter(session_id__in=session_ids).order_by(
        "created_at", "pk"
    ):
        found[correction.session_id].append(correction)
    return found


def sessions_queryset(organization: Organization) -> QuerySet[Session]:
    return (
        Session.objects.filter(organization=organization)
        .select_related("course", "tutor", "completion", "completion__earning", "program")
        .annotate(
            tutor_school_id=Coalesce(_school_id(organization, "tutor_id"), Value("")),
            net_cents=net_earning_cents(),
            net_minutes=net_minutes(),
        )
        .order_by("scheduled_start", "id")
    )


def attended(session: Session, students: Sequence[Student]) -> int | None:
    """Students who came: those still accepted on a completed session (no-shows were taken
    off it when it was completed). Unknown (None) for sessions that did not take place."""
    if session.status != Status.COMPLETED:
        return None
    return sum(1 for p in students if p.came)


def chunks_with_students(
    organization: Organization, sessions: QuerySet[Session]
) -> Iterator[tuple[list[Session], dict[int, list[Student]]]]:
    for chunk in chunked(sessions.iterator(chunk_size=CHUNK), CHUNK):
        yield chunk, students_of(organization, [s.pk for s in chunk])


def with_students(
    organization: Organization, sessions: QuerySet[Session]
) -> Iterator[tuple[Session, list[Student]]]:
    for chunk, students in chunks_with_students(organization, sessions):
        for s in chunk:
            yield s, students.get(s.pk, [])


def session_rows(organization: Organization) -> Iterator[list[object]]:
    currency = organization.currency
    for chunk, students in chunks_with_students(organization, sessions_queryset(organization)):
        corrections = corrections_of([s.pk for s in chunk])
        for s in chunk:
            yield _session_row(s, students.get(s.pk, []), corrections.get(s.pk, []), currency)


def _session_row(
    s: Session, people: list[Student], corrections: list[Correction], currency: str
) -> list[object]:
    completion = getattr(s, "completion", None)
    came = attended(s, people)
    return [
        s.pk,
        s.status,
        s.mode,
        s.origin,
        safe(s.course.code),
        safe(s.course.title),
        s.tutor_id,
        safe(s.tutor_school_id),  # type: ignore[attr-defined]
        safe(s.tutor.display_name),
        safe(s.tutor.email),
        s.tutor.time_zone,
        joined(p.user_id for p in people),
        joined(p.school_id for p in people),
        joined(p.name for p in people),
        joined(p.email for p in people),
        joined(p.state for p in people),
        "" if came is None else came,
        iso_utc(s.scheduled_start),
        iso_utc(s.scheduled_end),
        s.planned_minutes,
        safe(s.location),
        iso_utc(s.call_started_at),
        iso_utc(s.call_ended_at),
        iso_utc(s.ended_at),
        s.net_minutes if completion else "",  # type: ignore[attr-defined]
        money(s.net_cents) if completion else "",  # type: ignore[attr-defined]
        currency,
        safe(s.program.name) if s.program is not None else "",
        "",  # recurring_series: Studyhall books no series of sessions
        safe(s.cancel_reason),
        iso_utc(s.created_at),
        completion.minutes if completion else "",
        money(completion.earning.amount_cents) if completion else "",
        corrections_cell(corrections) if completion else "",
    ]


# -- users ---------------------------------------------------------------------------------


def _codes_by_user(rows: Iterator[tuple[int, str]] | Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for user_id, code in rows:
        found[user_id].append(code)
    return found


def user_rows(organization: Organization) -> Iterator[list[object]]:
    users = User.objects.filter(
        pk__in=Membership.objects.filter(organization=organization).values("user_id")
    ).order_by("id")
    for chunk in chunked(users.iterator(chunk_size=CHUNK), CHUNK):
        ids = [u.pk for u in chunk]
        memberships: dict[int, list[tuple[str, str, Any]]] = defaultdict(list)
        for user_id, role, employee_id, created_at in (
            Membership.objects.filter(organization=organization, user_id__in=ids)
            .order_by("role")
            .values_list("user_id", "role", "employee_id", "created_at")
        ):
            memberships[user_id].append((role, employee_id, created_at))
        members = {
            user_id: (school_id, status)
            for user_id, school_id, status in Member.objects.filter(
                organization=organization, user_id__in=ids
            ).values_list("user_id", "school_id", "status")
        }
        enrolled = _codes_by_user(
            Enrollment.objects.filter(course__organization=organization, student_id__in=ids)
            .order_by("course__code")
            .values_list("student_id", "course__code")
        )
        tutored = _codes_by_user(
            TutorCourse.objects.filter(course__organization=organization, tutor_id__in=ids)
            .order_by("course__code")
            .values_list("tutor_id", "course__code")
        )
        for u in chunk:
            mine = memberships[u.pk]
            school_id, status = members.get(u.pk, ("", MemberStatus.ACTIVE))
            yield [
                u.pk,
                safe(school_id),
                safe(u.display_name),
                safe(u.email),
                joined(role for role, _, _ in mine),
                u.time_zone,
                flag(u.is_active),
                status,
                safe(next((emp for _, emp, _ in mine if emp), "")),
                joined(enrolled.get(u.pk, [])),
                joined(tutored.get(u.pk, [])),
                iso_utc(min(created for _, _, created in mine)),
            ]


# -- tutor requests ------------------------------------------------------------------------


def requests_queryset(organization: Organization) -> QuerySet[Session]:
    answers = AuditEntry.objects.filter(
        session_id=OuterRef("pk"), actor_id=OuterRef("tutor_id"), action__in=ANSWER_ACTIONS
    ).order_by("created_at", "id")
    return (
        Session.objects.filter(organization=organization, origin=Origin.REQUEST)
        .select_related("course", "tutor", "created_by")
        .annotate(
            tutor_school_id=Coalesce(_school_id(organization, "tutor_id"), Value("")),
            student_school_id=Coalesce(_school_id(organization, "created_by_id"), Value("")),
            answered_at=Subquery(answers.values("created_at")[:1]),
            answer_action=Subquery(answers.values("action")[:1]),
        )
        .order_by("created_at", "id")
    )


def minutes_between(start: Any, end: Any) -> int:
    return int((end - start).total_seconds() // 60)


def tutor_request_rows(organization: Organization) -> Iterator[list[object]]:
    for s in requests_queryset(organization).iterator(chunk_size=CHUNK):
        student = s.created_by
        answered_at = s.answered_at  # type: ignore[attr-defined]
        yield [
            s.pk,
            s.status,
            s.mode,
            safe(s.course.code),
            student.pk,
            safe(s.student_school_id),  # type: ignore[attr-defined]
            safe(student.display_name),
            safe(student.email),
            s.tutor_id,
            safe(s.tutor_school_id),  # type: ignore[attr-defined]
            safe(s.tutor.display_name),
            safe(s.tutor.email),
            s.tutor.time_zone,
            iso_utc(s.created_at),
            iso_utc(s.scheduled_start),
            s.planned_minutes,
            1,  # a request goes to the one tutor the student chose
            1 if answered_at else 0,
            ANSWER_ACTIONS.get(s.answer_action or "", ""),  # type: ignore[attr-defined]
            iso_utc(answered_at),
            minutes_between(s.created_at, answered_at) if answered_at else "",
        ]


# -- recaps --------------------------------------------------------------------------------


def recap_rows(organization: Organization) -> Iterator[list[object]]:
    sessions = (
        Session.objects.filter(organization=organization, completion__isnull=False)
        .select_related("course", "tutor", "completion")
        .annotate(tutor_school_id=Coalesce(_school_id(organization, "tutor_id"), Value("")))
        .order_by("completion__created_at", "id")
    )
    for s, people in with_students(organization, sessions):
        c = s.completion
        came = [p for p in people if p.came]
        yield [
            s.pk,
            safe(s.course.code),
            s.tutor_id,
            safe(s.tutor_school_id),  # type: ignore[attr-defined]
            safe(s.tutor.display_name),
            safe(s.tutor.email),
            s.tutor.time_zone,
            joined(p.school_id for p in came),
            joined(p.name for p in came),
            iso_utc(s.scheduled_start),
            iso_utc(c.created_at),
            c.minutes,
            safe(c.topics_covered),
            safe(c.tutee_progress),
            safe(c.next_steps),
            recap_chars(c.topics_covered, c.tutee_progress, c.next_steps),
            flag(bool(c.on_behalf_reason)),
        ]


def recap_chars(*answers: str) -> int:
    """As the recap rule counts: each answer trimmed, runs of white space as one."""
    return sum(counted_length(a) for a in answers)


# -- transactions --------------------------------------------------------------------------


def transaction_rows(organization: Organization) -> Iterator[list[object]]:
    tutor_entry = Entry.objects.filter(
        transfer_id=OuterRef("pk"), account__kind=AccountKind.TUTOR_EARNINGS
    )
    transfers = (
        Transfer.objects.filter(organization=organization)
        .annotate(
            tutor_amount=Subquery(tutor_entry.values("amount_cents")[:1]),
            tutor_user_id=Subquery(tutor_entry.values("account__user_id")[:1]),
            tutor_school_id=Coalesce(_school_id(organization, "tutor_user_id"), Value("")),
            in_payout=Subquery(
                Transfer.objects.filter(pk=OuterRef("pk")).values("payout_item__payout_id")[:1]
            ),
            own_payout=Subquery(
                Transfer.objects.filter(pk=OuterRef("pk")).values("payout__id")[:1]
            ),
        )
        .order_by("created_at", "id")
    )
    tutors: dict[int, User] = {}
    for t in transfers.iterator(chunk_size=CHUNK):
        tutor_id = t.tutor_user_id
        tutor = _tutor(tutors, tutor_id)
        payout_id = t.in_payout or t.own_payout
        yield [
            t.pk,
            iso_utc(t.created_at),
            t.kind,
            money(t.amount_cents),
            t.currency,
            money(t.tutor_amount),
            tutor_id or "",
            safe(t.tutor_school_id),
            safe(tutor.display_name) if tutor else "",
            safe(tutor.email) if tutor else "",
            tutor.time_zone if tutor else "",
            t.session_id or "",
            payout_id or "",
            safe(t.description),
        ]


def _tutor(cache: dict[int, User], user_id: int | None) -> User | None:
    """Tutors are far fewer than transfers: one query each, kept for the whole file."""
    if user_id is None:
        return None
    if user_id not in cache:
        cache[user_id] = User.objects.only("name", "email", "time_zone").get(pk=user_id)
    return cache[user_id]


# -- payouts -------------------------------------------------------------------------------


def payout_rows(organization: Organization) -> Iterator[list[object]]:
    payouts = (
        Payout.objects.filter(organization=organization)
        .select_related("batch", "tutor")
        .annotate(
            tutor_school_id=Coalesce(_school_id(organization, "tutor_id"), Value("")),
            employee_id=Subquery(
                Membership.objects.filter(
                    organization=organization, user_id=OuterRef("tutor_id"), role="tutor"
                ).values("employee_id")[:1]
            ),
        )
        .order_by("batch__week_start", "id")
    )
    for p in payouts.iterator(chunk_size=CHUNK):
        yield [
            p.pk,
            p.tutor_id,
            safe(p.tutor_school_id),
            safe(p.employee_id or ""),
            safe(p.tutor.display_name),
            safe(p.tutor.email),
            p.tutor.time_zone,
            p.batch.week_start.isoformat(),
            p.batch.week_end.isoformat(),
            p.batch.payout_date.isoformat(),
            p.batch.provider,
            p.status,
            money(p.amount_cents),
            p.currency,
            p.minutes,
            safe(p.failure_code),
            safe(p.failure_reason),
            iso_utc(p.created_at),
        ]


# -- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: Callable[[Organization], Iterator[list[object]]]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def lines(self, organization: Organization) -> Iterator[str]:
        return csv_lines(self.columns, self.rows(organization))


EXPORTS: dict[str, Export] = {
    e.name: e
    for e in (
        Export("sessions", "Sessions", SESSION_COLUMNS, session_rows),
        Export("users", "People", USER_COLUMNS, user_rows),
        Export("tutor_requests", "Tutor requests", TUTOR_REQUEST_COLUMNS, tutor_request_rows),
        Export("recaps", "Recaps", RECAP_COLUMNS, recap_rows),
        Export("transactions", "Transactions", TRANSACTION_COLUMNS, transaction_rows),
        Export("payouts", "Payouts", PAYOUT_COLUMNS, payout_rows),
    )
}


def export_named(filename: str) -> Export | None:
    """`sessions.csv` or `sessions` → the export; None for anything else."""
    return EXPORTS.get(filename.removesuffix(".csv"))

"""What the console shows. Every function takes the organization the admin is looking at
and never reads beyond it; lists return querysets the pages paginate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from studyhall.accounts.models import User
from studyhall.console.models import RosterImport
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Account, AccountKind, ConnectedAccount, Payout
from studyhall.ledger.selectors import HistoryRow, earning_entries_of, history_row
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Member,
    Membership,
    Organization,
    PayoutProvider,
    Program,
    Role,
    TutorCourse,
)
from studyhall.support.models import (
    CorrectionProposal,
    CorrectionStatus,
    LateLogRequest,
    RequestStatus,
)
from studyhall.tutoring.models import (
    Completion,
    Mode,
    Participant,
    ParticipantState,
    Rating,
    Session,
    Status,
    TutorAbsenceReport,
)
from studyhall.tutoring.services.ratings import LOW_RATING

TERM_WEEKS = 15
UNANSWERED_AFTER = timedelta(hours=24)
# A session lasts at most 90 minutes, so one that started longer ago than the grace period
# plus 90 minutes has certainly ended its grace period unless its call ran later.
LONGEST_SESSION = timedelta(minutes=90)
OPEN_STATUSES = (Status.INVITED, Status.SCHEDULED, Status.STARTING, Status.IN_PROGRESS)


# -- home ----------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, organization: Organization) -> datetime:
    return datetime.combine(day, time.min, tzinfo=organization.zone)


@dataclass(frozen=True)
class Figures:
    sessions_completed: int
    contact_minutes: int
    unique_students: int
    active_tutors: int
    spend_cents: int

    @property
    def contact_hours(self) -> str:
        return f"{self.contact_minutes / 60:.1f}"


def figures(organization: Organization, since: datetime, until: datetime) -> Figures:
    """Completed sessions that started in [since, until). Contact time counts the tutor and
    each student who came: a one-hour session with two students is three contact hours."""
    completions = Completion.objects.filter(
        session__organization=organization,
        session__scheduled_start__gte=since,
        session__scheduled_start__lt=until,
        session__status=Status.COMPLETED,
    )
    came = Participant.objects.filter(
        session_id=OuterRef("session_id"), state=ParticipantState.ACCEPTED, no_show=False
    )
    totals = completions.aggregate(
        n=Count("pk"),
        spend=Coalesce(Sum("earning__amount_cents"), Value(0)),
        tutors=Count("session__tutor_id", distinct=True),
    )
    contact = 0
    for minutes, students in completions.annotate(
        students=Coalesce(
            came.values("session_id").annotate(c=Count("pk")).values("c"),
            Value(0),
            output_field=IntegerField(),
        )
    ).values_list("minutes", "students"):
        contact += minutes * (1 + students)
    unique_students = (
        Participant.objects.filter(
            session__in=completions.values("session_id"),
            state=ParticipantState.ACCEPTED,
            no_show=False,
        )
        .values("user_id")
        .distinct()
        .count()
    )
    return Figures(
        sessions_completed=totals["n"],
        contact_minutes=contact,
        unique_students=unique_students,
        active_tutors=totals["tutors"],
        spend_cents=totals["spend"],
    )


@dataclass(frozen=True)
class WeekBar:
    start: date
    sessions: int
    height: int  # percent of the tallest week


def sessions_per_week(organization: Organization, *, today: date) -> list[WeekBar]:
    first = week_start(today) - timedelta(weeks=TERM_WEEKS - 1)
    starts = Session.objects.filter(
        organization=organization,
        status=Status.COMPLETED,
        scheduled_start__gte=local_midnight(first, organization),
    ).values_list("scheduled_start", flat=True)
    counts = [0] * TERM_WEEKS
    for start in starts:
        index = (week_start(start.astimezone(organization.zone).date()) - first).days // 7
        if 0 <= index < TERM_WEEKS:
            counts[index] += 1
    tallest = max(counts) or 1
    return [
        WeekBar(first + timedelta(weeks=i), n, round(100 * n / tallest))
        for i, n in enumerate(counts)
    ]


# -- needs attention -----------------------------------------------------------------------


def logging_closed(organization: Organization, *, now: datetime) -> QuerySet[Session]:
    """Sessions that took place but were never logged, whose grace period has closed."""
    grace = timedelta(hours=organization.grace_hours)
    return (
        Session.objects.filter(
            organization=organization,
            status__in=OPEN_STATUSES,
            scheduled_start__lt=now - grace - LONGEST_SESSION,
        )
        .filter(Q(call_ended_at__isnull=True) | Q(call_ended_at__lt=now - grace))
        .select_related("course", "tutor")
        .order_by("-scheduled_start", "-pk")
    )


def flagged_q() -> Q:
    """Logged well above the classroom's measured time, or online with nobody measured."""
    return (
        Q(completion__overlogged=True)
        | Q(
            mode=Mode.ONLINE,
            status=Status.COMPLETED,
            completion__measured_seconds__isnull=True,
        )
        | Q(mode=Mode.ONLINE, status=Status.COMPLETED, completion__measured_seconds=0)
    )


def flagged(organization: Organization) -> QuerySet[Session]:
    return (
        Session.objects.filter(organization=organization)
        .filter(flagged_q())
        .select_related("course", "tutor", "completion")
        .order_by("-scheduled_start", "-pk")
    )


def flagged_recaps(organization: Organization) -> QuerySet[Completion]:
    """Recaps accepted with a flag (a near-copy or filler, where the policy flags them)."""
    return (
        Completion.objects.filter(session__organization=organization)
        .exclude(recap_flag="")
        .select_related("session__course", "session__tutor")
        .order_by("-created_at", "-id")
    )


def low_ratings(organization: Organization) -> QuerySet[Rating]:
    """Ratings of 2 stars or fewer (students' and tutors'), newest first, for a second look."""
    return (
        Rating.objects.filter(session__organization=organization, stars__lte=LOW_RATING)
        .select_related("session__course", "session__tutor", "rater")
        .order_by("-created_at", "-id")
    )


def unanswered_requests(organization: Organization, *, now: datetime) -> QuerySet[Session]:
    return (
        Session.objects.filter(
            organization=organization,
            status=Status.REQUESTED,
            created_at__lt=now - UNANSWERED_AFTER,
        )
        .select_related("course", "tutor")
        .order_by("created_at", "pk")
    )


def tutor_absence_reports(organization: Organization) -> QuerySet[Session]:
    """In-person sessions a student reported the tutor absent at, awaiting a decision (they
    cannot be logged until then), oldest report first."""
    return (
        Session.objects.filter(organization=organization, tutor_absence_reported_at__isnull=False)
        .select_related("course", "tutor")
        .order_by("tutor_absence_reported_at", "pk")
    )


def waiting_on_support(organization: Organization) -> tuple[int, int]:
    late = LateLogRequest.objects.filter(
        session__organization=organization, status=RequestStatus.PENDING
    ).count()
    corrections = CorrectionProposal.objects.filter(
        session__organization=organization, status=CorrectionStatus.PENDING
    ).count()
    return late, corrections


def tutors_without_payout_method(organization: Organization) -> QuerySet[User]:
    tutors = User.objects.filter(
        memberships__organization=organization,
        memberships__role=Role.TUTOR,
        memberships__is_active=True,
    )
    if organization.payout_provider == PayoutProvider.PAYROLL:
        return tutors.filter(memberships__employee_id="").distinct().order_by("name", "email")
    ready = ConnectedAccount.objects.filter(user_id=OuterRef("pk"), payouts_enabled=True)
    return tutors.exclude(Exists(ready)).distinct().order_by("name", "email")


# -- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFilters:
    status: str = ""
    course_id: int | None = None
    tutor_id: int | None = None
    student_id: int | None = None
    mode: str = ""
    since: date | None = None
    until: date | None = None
    flagged: bool = False
    q: str = ""


def sessions(organization: Organization, filters: SessionFilters) -> QuerySet[Session]:
    qs = Session.objects.filter(organization=organization)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.course_id is not None:
        qs = qs.filter(course_id=filters.course_id)
    if filters.tutor_id is not None:
        qs = qs.filter(tutor_id=filters.tutor_id)
    if filters.student_id is not None:
        qs = qs.filter(
            Exists(Participant.objects.filter(session=OuterRef("pk"), user_id=filters.student_id))
        )
    if filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.since is not None:
        qs = qs.filter(scheduled_start__gte=local_midnight(filters.since, organization))
    if filters.until is not None:
        qs = qs.filter(
            scheduled_start__lt=local_midnight(filters.until + timedelta(days=1), organization)
        )
    if filters.flagged:
        qs = qs.filter(flagged_q())
    if filters.q:
        person = Q(name__icontains=filters.q) | Q(email__icontains=filters.q)
        matching = User.objects.filter(person).values("pk")
        qs = qs.filter(
            Q(tutor_id__in=matching)
            | Exists(Participant.objects.filter(session=OuterRef("pk"), user_id__in=matching))
        )
    return (
        qs.select_related("course", "tutor", "completion")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user"))
        )
        .order_by("-scheduled_start", "-pk")
    )


def is_flagged(session: Session) -> bool:
    completion = getattr(session, "completion", None)
    if completion is None:
        return False
    return bool(completion.overlogged) or (
        session.mode == Mode.ONLINE and not completion.measured_seconds
    )


# -- people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilters:
    role: str = ""
    status: str = ""
    q: str = ""


def people(organization: Organization, filters: PeopleFilters) -> QuerySet[Member]:
    qs = Member.objects.filter(organization=organization)
    if filters.role:
        qs = qs.filter(
            Exists(
                Membership.objects.filter(
                    organization=organization, user_id=OuterRef("user_id"), role=filters.role
                )
            )
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(
            Q(user__name__icontains=filters.q)
            | Q(user__email__icontains=filters.q)
            | Q(school_id__iexact=filters.q)
        )
    return (
        qs.select_related("user")
        .prefetch_related(
            Prefetch(
                "user__memberships",
                queryset=Membership.objects.filter(organization=organization).order_by("role"),
                to_attr="org_roles",
            )
        )
        # The members' copies of the names (orgs.sorting) follow member_org_name_order, so
        # page one reads the index rather than sorting the whole organization.
        .order_by("sort_name", "sort_email", "pk")
    )


def member(organization: Organization, user_id: int) -> Member | None:
    return (
        Member.objects.select_related("user")
        .filter(organization=organization, user_id=user_id)
        .first()
    )


@dataclass(frozen=True)
class PersonSummary:
    roles: list[str]
    employee_id: str
    hourly_rate_cents: int | None
    tutored: int
    attended: int
    requests: int
    no_shows: int
    earnings_cents: int
    recaps_written: int
    recaps_received: int


def person_summary(organization: Organization, user: User) -> PersonSummary:
    memberships = list(Membership.objects.filter(organization=organization, user=user))
    tutor_row = next((m for m in memberships if m.role == Role.TUTOR), None)
    tutored = Session.objects.filter(organization=organization, tutor=user)
    taken = Participant.objects.filter(session__organization=organization, user=user)
    from studyhall.orgs.models import TutorRate

    rate = (
        TutorRate.objects.filter(organization=organization, tutor=user)
        .values_list("hourly_rate_cents", flat=True)
        .first()
    )
    completed = tutored.filter(status=Status.COMPLETED).aggregate(
        n=Count("pk"), cents=Coalesce(Sum("completion__earning__amount_cents"), Value(0))
    )
    return PersonSummary(
        roles=sorted(m.role for m in memberships),
        employee_id=tutor_row.employee_id if tutor_row else "",
        hourly_rate_cents=rate,
        tutored=tutored.count(),
        attended=taken.filter(
            state=ParticipantState.ACCEPTED, no_show=False, session__status=Status.COMPLETED
        ).count(),
        requests=Session.objects.filter(
            organization=organization,
            status__isnull=False,
            origin="request",
            participants__user=user,
        ).count(),
        no_shows=taken.filter(no_show=True).count(),
        earnings_cents=completed["cents"],
        recaps_written=completed["n"],
        recaps_received=taken.filter(
            state=ParticipantState.ACCEPTED, no_show=False, session__status=Status.COMPLETED
        ).count(),
    )


@dataclass(frozen=True)
class TutorEarnings:
    """A tutor's earnings in one organization: the balance not yet paid out, the latest
    postings (earnings, corrections, payouts) and the latest payouts."""

    balance_cents: int
    rows: list[HistoryRow]
    payouts: list[Payout]


def tutor_earnings(organization: Organization, user: User, *, rows: int = 10) -> TutorEarnings:
    """Three queries, whatever the tutor's history."""
    balance = Account.objects.filter(
        organization=organization, user=user, kind=AccountKind.TUTOR_EARNINGS
    ).aggregate(total=Coalesce(Sum("balance_cents"), Value(0)))["total"]
    entries = earning_entries_of(user, organization_id=organization.pk)[:rows]
    payouts = (
        Payout.objects.filter(organization=organization, tutor=user)
        .select_related("batch")
        .order_by("-batch__week_start", "-id")[:5]
    )
    return TutorEarnings(
        balance_cents=int(balance),
        rows=[history_row(e) for e in entries],
        payouts=list(payouts),
    )


def sessions_of_person(organization: Organization, user: User) -> QuerySet[Session]:
    return (
        Session.objects.filter(organization=organization)
        .filter(
            Q(tutor=user) | Q(Exists(Participant.objects.filter(session=OuterRef("pk"), user=user)))
        )
        .select_related("course", "tutor")
        .order_by("-scheduled_start", "-pk")
    )


def audit_of_person(organization: Organization, user: User) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(organization=organization)
        .filter(Q(data__user_id=user.pk) | Q(data__tutor_id=user.pk) | Q(data__student_id=user.pk))
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


# -- courses -------------------------------------------------------------------------------


def courses(organization: Organization, *, q: str = "", archived: bool = False) -> QuerySet[Course]:
    qs = Course.objects.filter(organization=organization, archived_at__isnull=not archived)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q))
    enrolled = Course.objects.filter(pk=OuterRef("pk")).annotate(c=Count("enrollments")).values("c")
    tutors = (
        TutorCourse.objects.filter(course_id=OuterRef("pk"), status=ApprovalStatus.ACTIVE)
        .values("course_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    pending = (
        TutorCourse.objects.filter(course_id=OuterRef("pk"), status=ApprovalStatus.UNVERIFIED)
        .values("course_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return qs.annotate(
        enrolled_count=Coalesce(enrolled, Value(0), output_field=IntegerField()),
        tutor_count=Coalesce(tutors, Value(0), output_field=IntegerField()),
        pending_count=Coalesce(pending, Value(0), output_field=IntegerField()),
    ).order_by("code", "pk")


def course(organization: Organization, course_id: int) -> Course | None:
    return Course.objects.filter(organization=organization, pk=course_id).first()


# -- programs ------------------------------------------------------------------------------


def programs(
    organization: Organization, *, q: str = "", archived: bool | None = False
) -> QuerySet[Program]:
    """Open programs, or archived ones; both when `archived` is None."""
    qs = Program.objects.filter(organization=organization)
    if archived is not None:
        qs = qs.filter(archived_at__isnull=not archived)
    if q:
        qs = qs.filter(name__icontains=q)
    students = Program.objects.filter(pk=OuterRef("pk")).annotate(c=Count("students")).values("c")
    courses = Program.objects.filter(pk=OuterRef("pk")).annotate(c=Count("courses")).values("c")
    return (
        qs.select_related("organization")
        .annotate(
            student_count=Coalesce(students, Value(0), output_field=IntegerField()),
            course_count=Coalesce(courses, Value(0), output_field=IntegerField()),
        )
        .order_by("-is_default", "ends_on", "name", "pk")
    )


def program(organization: Organization, program_id: int) -> Program | None:
    return (
        Program.objects.filter(organization=organization, pk=program_id)
        .select_related("organization")
        .first()
    )


def students_by_email_or_school_id(
    organization: Organization, wanted: list[str]
) -> tuple[list[int], list[str]]:
    """The organization's students named by email or school ID, and the names not found."""
    lowered = [w.lower() for w in wanted]
    rows = list(
        Member.objects.filter(
            organization=organization,
            user__memberships__organization=organization,
            user__memberships__role=Role.STUDENT,
        )
        .filter(Q(user__email__in=wanted) | Q(user__email__in=lowered) | Q(school_id__in=wanted))
        .values_list("user_id", "user__email", "school_id")
        .distinct()
    )
    found: dict[str, int] = {}
    for user_id, email, school_id in rows:
        found[email.lower()] = user_id
        if school_id:
            found[school_id] = user_id
    ids: list[int] = []
    missing: list[str] = []
    for name in wanted:
        match = found.get(name, found.get(name.lower()))
        if match is None:
            missing.append(name)
        elif match not in ids:
            ids.append(match)
    return ids, missing


def approvals(organization: Organization, *, status: str = "") -> QuerySet[TutorCourse]:
    qs = TutorCourse.objects.filter(course__organization=organization)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("course", "tutor").order_by(
        F("status").desc(), "course__code", "tutor__name", "pk"
    )


def students_of(organization: Organization) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organization=organization,
            memberships__role=Role.STUDENT,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("name", "email")
    )


def students_named(organization: Organization, names: list[str]) -> dict[str, User]:
    """The organization's active students by the email or school ID each was named by."""
    emails = [n.lower() for n in names]
    found: dict[str, User] = {}
    members = Member.objects.select_related("user").filter(
        Q(user__email__in=emails) | Q(school_id__in=names),
        organization=organization,
        user__memberships__organization=organization,
        user__memberships__role=Role.STUDENT,
        user__memberships__is_active=True,
    )
    for m in members:
        for name in names:
            if name.lower() == m.user.email or (m.school_id and name == m.school_id):
                found[name] = m.user
    return found


def session_of(organization: Organization, session_id: int) -> Session | None:
    return (
        Session.objects.filter(organization=organization, pk=session_id)
        .select_related("course", "tutor", "completion")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user"))
        )
        .first()
    )


def absence_reports_of(session: Session) -> list[TutorAbsenceReport]:
    """The students' reports that the session's tutor did not come, oldest first, with who
    reported and who decided."""
    return list(
        TutorAbsenceReport.objects.filter(session=session)
        .select_related("reporter", "resolved_by")
        .order_by("created_at", "pk")
    )


def tutors_of(organization: Organization) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organization=organization,
            memberships__role=Role.TUTOR,
        )
        .distinct()
        .order_by("name", "email")
    )


# -- roster imports ------------------------------------------------------------------------


def roster_imports(organization: Organization) -> QuerySet[RosterImport]:
    return (
        RosterImport.objects.filter(organization=organization)
        .select_related("uploaded_by")
        .defer("content")
    )


def roster_import(organization: Organization, import_id: int) -> RosterImport | None:
    return RosterImport.objects.filter(organization=organization, pk=import_id).first()


def admin_organizations(user: User) -> list[Organization]:
    return list(
        Organization.objects.filter(
            memberships__user=user, memberships__role=Role.ADMIN, memberships__is_active=True
        )
        .distinct()
        .order_by("name")
    )

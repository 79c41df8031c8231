"""The org admin's report for a term or any date range: sessions by status, contact hours,
unique and repeat students, no-show and cancellation rates, time from a request to its answer,
average recap length and spend, by week, course, tutor and program; and each program's spend
against its budget.

Figures are computed from the same rows the exports write (`exports.sessions_queryset` and
`exports.with_students`), so a report and `sessions.csv` can never disagree. Days and weeks
are the organization's (Monday to Sunday in its time zone, DST included).

Contact hours: a completed session gives its logged minutes once for the tutor and once for
each student who came (no-shows excluded).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from studyhall.core.money import divide_round_half_up
from studyhall.feeds.csvstream import money
from studyhall.feeds.exports import (
    minutes_between,
    recap_chars,
    requests_queryset,
    sessions_queryset,
    with_students,
)
from studyhall.orgs.models import Organization, Program
from studyhall.tutoring.models import Status
from studyhall.tutoring.programs import Usage, usage_of

# The program column of sessions booked before programs existed.
NO_PROGRAM = "(no program)"


@dataclass
class Group:
    """The figures for one week, course or tutor (or the whole range)."""

    sessions: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    contact_minutes: int = 0
    spend_cents: int = 0

    @property
    def contact_hours(self) -> str:
        return _hours(self.contact_minutes)


@dataclass
class Report:
    organization: Organization
    since: date
    until: date
    total: Group = field(default_factory=Group)
    weeks: dict[date, Group] = field(default_factory=dict)
    courses: dict[str, Group] = field(default_factory=dict)
    tutors: dict[str, Group] = field(default_factory=dict)
    programs: dict[str, Group] = field(default_factory=dict)
    # The programs running during the range, with their spend against budget (all to date).
    budgets: list[tuple[Program, Usage]] = field(default_factory=list)
    requests: int = 0
    # Minutes from each answered request to the tutor's answer (accept or decline).
    answer_minutes: list[int] = field(default_factory=list)
    unique_students: int = 0
    repeat_students: int = 0
    no_shows: int = 0
    expected_students: int = 0
    recaps: int = 0
    recap_chars_total: int = 0

    @property
    def no_show_rate(self) -> str:
        return _percent(self.no_shows, self.expected_students)

    @property
    def cancellation_rate(self) -> str:
        return _percent(self.total.by_status[Status.CANCELED], self.total.sessions)

    @property
    def answered(self) -> int:
        return len(self.answer_minutes)

    @property
    def median_answer_minutes(self) -> int | None:
        """The middle answer time (the lower middle of an even count), in whole minutes."""
        if not self.answer_minutes:
            return None
        ordered = sorted(self.answer_minutes)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def average_answer_minutes(self) -> int | None:
        if not self.answer_minutes:
            return None
        return divide_round_half_up(sum(self.answer_minutes), len(self.answer_minutes))

    @property
    def average_recap_chars(self) -> int:
        return divide_round_half_up(self.recap_chars_total, self.recaps) if self.recaps else 0

    def as_dict(self) -> dict[str, Any]:
        def group(g: Group) -> dict[str, Any]:
            return {
                "sessions": g.sessions,
                "by_status": dict(sorted(g.by_status.items())),
                "contact_hours": g.contact_hours,
                "spend_cents": g.spend_cents,
            }

        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "currency": self.organization.currency,
            **group(self.total),
            "unique_students": self.unique_students,
            "repeat_students": self.repeat_students,
            "no_show_rate": self.no_show_rate,
            "cancellation_rate": self.cancellation_rate,
            "average_recap_chars": self.average_recap_chars,
            "weeks": {w.isoformat(): group(g) for w, g in sorted(self.weeks.items())},
            "courses": {c: group(g) for c, g in sorted(self.courses.items())},
            "tutors": {t: group(g) for t, g in sorted(self.tutors.items())},
            "programs": {p: group(g) for p, g in sorted(self.programs.items())},
            "requests": {
                "made": self.requests,
                "answered": self.answered,
                "median_minutes_to_answer": self.median_answer_minutes,
                "average_minutes_to_answer": self.average_answer_minutes,
            },
            "budgets": [
                {
                    "program_id": p.pk,
                    "program": p.name,
                    "unit": p.budget_unit,
                    "budget": u.budget,
                    "spent": u.spent,
                    "reserved": u.reserved,
                    "left": u.left,
                }
                for p, u in self.budgets
            ],
        }


def _hours(minutes: int) -> str:
    whole, part = divmod(divide_round_half_up(minutes * 100, 60), 100)
    return f"{whole}.{part:02d}"


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0.0"
    tenths = divide_round_half_up(part * 1000, whole)
    return f"{tenths // 10}.{tenths % 10}"


def _bounds(organization: Organization, since: date, until: date) -> tuple[datetime, datetime]:
    zone = organization.zone
    return (
        datetime.combine(since, time.min, zone),
        datetime.combine(until + timedelta(days=1), time.min, zone),
    )


def week_of(moment: datetime, organization: Organization) -> date:
    day = moment.astimezone(organization.zone).date()
    return day - timedelta(days=day.weekday())


def build_report(organization: Organization, *, since: date, until: date) -> Report:
    report = Report(organization, since, until)
    start, end = _bounds(organization, since, until)
    sessions = sessions_queryset(organization).filter(
        scheduled_start__gte=start, scheduled_start__lt=end
    )
    visits: Counter[int] = Counter()
    for s, students in with_students(organization, sessions):
        groups = [
            report.total,
            report.weeks.setdefault(week_of(s.scheduled_start, organization), Group()),
            report.courses.setdefault(s.course.code, Group()),
            report.tutors.setdefault(s.tutor.display_name, Group()),
            report.programs.setdefault(s.program.name if s.program else NO_PROGRAM, Group()),
        ]
        completion = getattr(s, "completion", None)
        came = [p for p in students if p.came] if s.status == Status.COMPLETED else []
        contact = completion.minutes * (1 + len(came)) if completion else 0
        spend = s.net_cents if completion else 0  # type: ignore[attr-defined]
        for g in groups:
            g.sessions += 1
            g.by_status[s.status] += 1
            g.contact_minutes += contact
            g.spend_cents += spend
        if completion:
            visits.update(p.user_id for p in came)
            report.no_shows += sum(1 for p in students if p.state == "no_show")
            report.expected_students += sum(1 for p in students if p.came or p.state == "no_show")
            report.recaps += 1
            report.recap_chars_total += recap_chars(
                completion.topics_covered, completion.tutee_progress, completion.next_steps
            )
    report.unique_students = len(visits)
    report.repeat_students = sum(1 for n in visits.values() if n > 1)
    asked = requests_queryset(organization).filter(created_at__gte=start, created_at__lt=end)
    for request in asked.select_related(None).only("created_at"):
        report.requests += 1
        answered_at = request.answered_at  # type: ignore[attr-defined]
        if answered_at is not None:
            report.answer_minutes.append(minutes_between(request.created_at, answered_at))
    running = list(
        Program.objects.filter(
            organization=organization, starts_on__lte=until, ends_on__gte=since
        ).order_by("-is_default", "ends_on", "name", "pk")
    )
    for program in running:
        program.organization = organization
    usage = usage_of(running)
    report.budgets = [(p, usage[p.pk]) for p in running]
    return report


# -- the chart -------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 560, 160, 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int


def bars(values: list[tuple[str, int]]) -> list[Bar]:
    """Bar geometry for a server-drawn SVG chart (the page puts the same numbers in a table)."""
    if not values:
        return []
    top = max(v for _, v in values) or 1
    width = max((CHART_WIDTH - BAR_GAP * (len(values) - 1)) // len(values), 4)
    out = []
    for i, (label, value) in enumerate(values):
        height = divide_round_half_up(value * CHART_HEIGHT, top)
        out.append(Bar(label, value, i * (width + BAR_GAP), CHART_HEIGHT - height, width, height))
    return out


def report_csv_rows(report: Report) -> list[list[object]]:
    rows: list[list[object]] = [
        ["group", "key", "sessions", "completed", "canceled", "missed", "contact_hours", "spend"]
    ]

    def line(kind: str, key: str, g: Group) -> list[object]:
        return [
            kind,
            key,
            g.sessions,
            g.by_status[Status.COMPLETED],
            g.by_status[Status.CANCELED],
            g.by_status[Status.MISSED],
            g.contact_hours,
            money(g.spend_cents),
        ]

    rows.append(line("total", f"{report.since}..{report.until}", report.total))
    rows += [line("week", w.isoformat(), g) for w, g in sorted(report.weeks.items())]
    rows += [line("course", c, g) for c, g in sorted(report.courses.items())]
    rows += [line("tutor", t, g) for t, g in sorted(report.tutors.items())]
    rows += [line("program", p, g) for p, g in sorted(report.programs.items())]
    rows.append([])
    rows.append(["program", "budget_unit", "budget", "spent", "reserved", "left"])
    for program, usage in report.budgets:
        rows.append(
            [
                program.name,
                program.budget_unit,
                _amount(program, usage.budget),
                _amount(program, usage.spent),
                _amount(program, usage.reserved),
                _amount(program, usage.left),
            ]
        )
    rows.append([])
    rows.append(["requests", "answered", "median_minutes_to_answer", "average_minutes_to_answer"])
    rows.append(
        [
            report.requests,
            report.answered,
            "" if report.median_answer_minutes is None else report.median_answer_minutes,
            "" if report.average_answer_minutes is None else report.average_answer_minutes,
        ]
    )
    return rows


def _amount(program: Program, amount: int | None) -> object:
    """A budget figure for the CSV: money as 12.50, hours as 1.50; blank for no cap."""
    if amount is None:
        return ""
    if program.budget_unit == "money":
        return money(amount)
    return ("-" if amount < 0 else "") + _hours(abs(amount))

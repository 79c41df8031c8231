"""Roster import: people, courses, enrollments and tutor approvals from one CSV file, keyed by
the school's student ID.

The format (UTF-8, comma-separated, one person a row, this header):

    school_id,email,name,roles,enrolled_courses,tutor_courses,status

- `school_id` (required): the school's ID for the person, unique in the file.
- `email` (required): their address; unique in the file.
- `name`: shown name (empty leaves the current name).
- `roles` (required): `student`, `tutor` and/or `admin`, separated by `;`.
- `enrolled_courses`: course codes the student takes, separated by `;`.
- `tutor_courses`: course codes the tutor is approved (Active) for, separated by `;`.
- `status`: `active` (default) or `deactivated`.
- `programs` (an optional last column): names of the organization's open programs the student
  is enrolled in, separated by `;` (programs are not created by an import).

A course code that the organization does not have yet is created, titled by its code.
Imports only add: roles, enrollments and approvals are never taken away by a missing entry.
With "deactivate missing", people who have a school ID and are not in the file are
deactivated (a full nightly roster).

A dry run reports what would change and every row's errors with line numbers; applying
writes all of it in one transaction or nothing, and applying the same file twice changes
nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Model
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.console.models import ImportStatus, RosterImport
from studyhall.console.progress import Progress
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Member,
    Membership,
    MemberStatus,
    Organization,
    Program,
    Role,
    TutorCourse,
)
from studyhall.orgs.services.access import admin_organization, require_transaction
from studyhall.orgs.sorting import refresh_sort_keys

HEADER = ["school_id", "email", "name", "roles", "enrolled_courses", "tutor_courses", "status"]
# The optional last column: the programs a student is enrolled in.
PROGRAMS_COLUMN = "programs"
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_REPORTED_ERRORS = 200
BATCH = 2000
# SQLite allows 32,766 parameters a statement; stay well under it for IN (...) lookups.
LOOKUP_CHUNK = 5000


# What no roster field may hold: control characters other than tab and line breaks (PostgreSQL
# cannot even store a NUL), as everywhere people type text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class RosterRefused(InvalidInput):
    code = "roster_invalid"


@dataclass(frozen=True)
class Row:
    line: int
    school_id: str
    email: str
    name: str
    roles: frozenset[str]
    enrolled: tuple[str, ...]
    tutors: tuple[str, ...]
    deactivated: bool
    programs: tuple[str, ...] = ()


@dataclass
class Plan:
    """What applying the file would change."""

    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    add: list[Row] = field(default_factory=list)
    update: dict[int, tuple[Row, list[str]]] = field(default_factory=dict)  # user id → changes
    deactivate: list[int] = field(default_factory=list)
    reactivate: list[int] = field(default_factory=list)
    new_courses: list[str] = field(default_factory=list)
    new_roles: list[tuple[int | str, str]] = field(default_factory=list)  # (user id or email)
    new_enrollments: list[tuple[int | str, str]] = field(default_factory=list)
    new_approvals: list[tuple[int | str, str]] = field(default_factory=list)
    activate_approvals: list[int] = field(default_factory=list)
    # (user id or email, program id)
    new_program_students: list[tuple[int | str, int]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "to_add": len(self.add),
            "to_update": len(self.update),
            "to_deactivate": len(self.deactivate),
            "to_reactivate": len(self.reactivate),
            "courses_to_add": len(self.new_courses),
            "roles_to_add": len(self.new_roles),
            "enrollments_to_add": len(self.new_enrollments),
            "approvals_to_add": len(self.new_approvals) + len(self.activate_approvals),
            "program_students_to_add": len(self.new_program_students),
        }

    @property
    def changes_anything(self) -> bool:
        return any(v for k, v in self.summary().items() if k != "rows")


# -- reading the file -----------------------------------------------------------------------


def check_size(size: int) -> None:
    """Callers holding an upload ask before reading it into memory."""
    if size > MAX_BYTES:
        raise RosterRefused(
            f"The file is {size / 1024 / 1024:.1f} MB; a roster file may be at most "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files.",
            code="roster_too_large",
        )


def decode(data: bytes) -> str:
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterRefused(
            f"The file is not UTF-8 text (line {line} has a "
            "character that cannot be read). In Excel, save it as “CSV UTF-8 (Comma "
            "delimited)”.",
            code="roster_not_utf8",
        ) from exc
    control = CONTROL.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise RosterRefused(
            f"Line {line} has an invisible control character (U+{ord(control.group()):04X}); "
            "remove it and upload the file again.",
            code="roster_control_character",
        )
    return text


def _split(value: str) -> tuple[str, ...]:
    seen: list[str] = []
    for part in value.split(";"):
        item = " ".join(part.split())
        if item and item.upper() not in (s.upper() for s in seen):
            seen.append(item)
    return tuple(seen)


def parse(text: str) -> tuple[list[Row], list[dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RosterRefused(
            "The file is empty; it needs the header line.", code="roster_empty"
        ) from None
    except csv.Error as exc:
        raise RosterRefused(f"Line 1 is not valid CSV: {exc}.", code="roster_bad_csv") from exc
    names = [h.strip().lower() for h in header]
    columns = [*HEADER, PROGRAMS_COLUMN] if names == [*HEADER, PROGRAMS_COLUMN] else HEADER
    if names != columns:
        missing = [h for h in HEADER if h not in names]
        unknown = [h for h in names if h not in (*HEADER, PROGRAMS_COLUMN)]
        detail = []
        if missing:
            detail.append("missing " + ", ".join(missing))
        if unknown:
            detail.append("unknown " + ", ".join(repr(u) for u in unknown))
        if not detail:
            detail.append("columns out of order")
        raise RosterRefused(
            f"The header line must be exactly: {','.join(HEADER)} (optionally followed by "
            f",{PROGRAMS_COLUMN}) ({'; '.join(detail)}).",
            code="roster_bad_header",
        )
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise RosterRefused(
                    f"A roster file may have at most {MAX_ROWS:,} rows.",
                    code="roster_too_many_rows",
                )
            row, problems = _row(line, values, columns=len(columns))
            if row is not None:
                first = seen_ids.setdefault(row.school_id.upper(), line)
                if first != line:
                    problems.append(f"school ID {row.school_id} is also on line {first}")
                first = seen_emails.setdefault(row.email, line)
                if first != line:
                    problems.append(f"email {row.email} is also on line {first}")
            if problems:
                errors.append({"line": line, "errors": problems})
            elif row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise RosterRefused(
            f"Line {reader.line_num} is not valid CSV: {exc}.", code="roster_bad_csv"
        ) from exc
    return rows, errors


def _row(line: int, values: list[str], *, columns: int) -> tuple[Row | None, list[str]]:
    if len(values) != columns:
        return None, [f"has {len(values)} columns; the header has {columns}"]
    school_id, email, name, roles, enrolled, tutors, status = (v.strip() for v in values[:7])
    program_names = _split(values[7]) if columns > len(HEADER) else ()
    problems = []
    if not school_id:
        problems.append("school_id is empty")
    elif len(school_id) > 64:
        problems.append("school_id is longer than 64 characters")
    email = email.lower()
    try:
        validate_email(email)
    except ValidationError:
        problems.append(f"{email or 'an empty email'!r} is not an email address")
    role_set = frozenset(r.lower() for r in _split(roles))
    unknown = sorted(role_set - set(Role.values))
    if unknown:
        problems.append(f"unknown role {unknown[0]!r} (use student, tutor, admin)")
    elif not role_set:
        problems.append("roles is empty (use student, tutor and/or admin)")
    status = status.lower() or MemberStatus.ACTIVE
    if status not in (MemberStatus.ACTIVE, MemberStatus.DEACTIVATED):
        problems.append(f"status {status!r} is not active or deactivated")
    enrolled_codes, tutor_codes = _split(enrolled), _split(tutors)
    if enrolled_codes and Role.STUDENT not in role_set:
        problems.append("enrolled_courses needs the student role")
    if tutor_codes and Role.TUTOR not in role_set:
        problems.append("tutor_courses needs the tutor role")
    if program_names and Role.STUDENT not in role_set:
        problems.append("programs needs the student role")
    if any(len(c) > 32 for c in (*enrolled_codes, *tutor_codes)):
        problems.append("a course code is longer than 32 characters")
    if len(name) > 150:
        problems.append("name is longer than 150 characters")
    if problems:
        return None, problems
    return (
        Row(
            line=line,
            school_id=school_id,
            email=email,
            name=name,
            roles=role_set,
            enrolled=enrolled_codes,
            tutors=tutor_codes,
            deactivated=status == MemberStatus.DEACTIVATED,
            programs=program_names,
        ),
        [],
    )


# -- planning -------------------------------------------------------------------------------


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def plan(
    organization: Organization, text: str, *, actor: User, deactivate_missing: bool = False
) -> Plan:
    rows, errors = parse(text)
    result = Plan(rows=len(rows) + len(errors), errors=errors)
    members = {
        m.school_id.upper(): m
        for m in Member.objects.filter(organization=organization).exclude(school_id="")
    }
    members_by_user = {m.user_id: m for m in Member.objects.filter(organization=organization)}
    users_by_email: dict[str, User] = {}
    emails = [r.email for r in rows]
    for chunk in _chunks(emails):
        users_by_email.update({u.email: u for u in User.objects.filter(email__in=chunk)})
    users_by_id = {u.pk: u for u in users_by_email.values()}
    for known in members.values():
        if known.user_id not in users_by_id:
            users_by_id[known.user_id] = known.user
    courses = {c.code.upper(): c for c in Course.objects.filter(organization=organization)}
    roles: dict[int, set[str]] = defaultdict(set)
    for user_id, role in Membership.objects.filter(organization=organization).values_list(
        "user_id", "role"
    ):
        roles[user_id].add(role)
    enrolled: set[tuple[int, int]] = set(
        Enrollment.objects.filter(course__organization=organization).values_list(
            "student_id", "course_id"
        )
    )
    approvals = {
        (a.tutor_id, a.course_id): a
        for a in TutorCourse.objects.filter(course__organization=organization)
    }
    new_courses: dict[str, str] = {}
    programs = {
        p.name.upper(): p.pk
        for p in Program.objects.filter(organization=organization, archived_at__isnull=True)
    }
    in_programs: set[tuple[int, int]] = set(
        Program.students.through.objects.filter(program__organization=organization).values_list(
            "user_id", "program_id"
        )
    )

    def course_id(code: str) -> int | None:
        found = courses.get(code.upper())
        if found is None:
            new_courses.setdefault(code.upper(), code)
            return None
        return found.pk

    for row in rows:
        member = members.get(row.school_id.upper())
        by_email = users_by_email.get(row.email)
        problems = []
        if member is not None and by_email is not None and by_email.pk != member.user_id:
            problems.append(
                f"email {row.email} belongs to someone else than school ID {row.school_id}"
            )
        if member is None and by_email is not None:
            other = members_by_user.get(by_email.pk)
            if (
                other is not None
                and other.school_id
                and other.school_id.upper() != row.school_id.upper()
            ):
                problems.append(
                    f"{row.email} already has school ID {other.school_id} in {organization.name}"
                )
        if member is not None and member.user_id == actor.pk and row.deactivated:
            problems.append("you cannot deactivate yourself")
        problems.extend(
            f"there is no open program called {name!r}"
            for name in row.programs
            if name.upper() not in programs
        )
        if problems:
            result.errors.append({"line": row.line, "errors": problems})
            continue
        key: int | str
        if member is None and (by_email is None or by_email.pk not in members_by_user):
            result.add.append(row)
            key = by_email.pk if by_email is not None else row.email
            current_roles: set[str] = roles.get(by_email.pk, set()) if by_email else set()
            for role in sorted(row.roles - current_roles):
                result.new_roles.append((key, role))
            for code in row.enrolled:
                cid = course_id(code)
                if cid is None or by_email is None or (by_email.pk, cid) not in enrolled:
                    result.new_enrollments.append((key, code))
            for code in row.tutors:
                cid = course_id(code)
                if cid is None or by_email is None or (by_email.pk, cid) not in approvals:
                    result.new_approvals.append((key, code))
            for name in row.programs:
                pid = programs[name.upper()]
                if by_email is None or (by_email.pk, pid) not in in_programs:
                    result.new_program_students.append((key, pid))
            continue
        existing = member or members_by_user[by_email.pk]  # type: ignore[union-attr]
        user = users_by_id.get(existing.user_id) or existing.user
        user_id = existing.user_id
        changes = []
        if user.email != row.email:
            changes.append("email")
        if row.name and user.name != row.name:
            changes.append("name")
        if existing.school_id.upper() != row.school_id.upper():
            changes.append("school_id")
        if changes:
            result.update[user_id] = (row, changes)
        for role in sorted(row.roles - roles.get(user_id, set())):
            result.new_roles.append((user_id, role))
        for code in row.enrolled:
            cid = course_id(code)
            if cid is None or (user_id, cid) not in enrolled:
                result.new_enrollments.append((user_id, code))
        for code in row.tutors:
            cid = course_id(code)
            approval = approvals.get((user_id, cid)) if cid is not None else None
            if approval is None:
                result.new_approvals.append((user_id, code))
            elif approval.status != ApprovalStatus.ACTIVE:
                result.activate_approvals.append(approval.pk)
        for name in row.programs:
            pid = programs[name.upper()]
            if (user_id, pid) not in in_programs:
                result.new_program_students.append((user_id, pid))
        if row.deactivated and existing.status != MemberStatus.DEACTIVATED:
            result.deactivate.append(user_id)
        if not row.deactivated and existing.status == MemberStatus.DEACTIVATED:
            result.reactivate.append(user_id)
    if deactivate_missing:
        listed = {r.school_id.upper() for r in rows}
        for school_id, known in members.items():
            if (
                school_id not in listed
                and known.status != MemberStatus.DEACTIVATED
                and known.user_id != actor.pk
            ):
                result.deactivate.append(known.user_id)
    result.new_courses = sorted(new_courses.values())
    result.errors.sort(key=lambda e: e["line"])
    return result


# -- the dry run and applying ---------------------------------------------------------------


def check_roster(
    *,
    organization_id: int,
    actor: User,
    filename: str,
    data: bytes,
    deactivate_missing: bool = False,
) -> RosterImport:
    """The dry run: store the file with what it would change, or its errors. A file that
    cannot be read at all (wrong header, not UTF-8, too large) raises instead."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    text = decode(data)
    result = plan(organization, text, actor=actor, deactivate_missing=deactivate_missing)
    return RosterImport.objects.create(
        organization=organization,
        uploaded_by=actor,
        filename=filename[:255] or "roster.csv",
        content=text,
        sha256=hashlib.sha256(data).hexdigest(),
        deactivate_missing=deactivate_missing,
        status=ImportStatus.INVALID if result.errors else ImportStatus.CHECKED,
        rows=result.rows,
        summary=result.summary(),
        errors=result.errors[:MAX_REPORTED_ERRORS],
    )


def error_count(roster: RosterImport) -> int:
    return len(roster.errors)


Reporter = Callable[[Progress], None]
STEPS = (
    "Checking the file against the roster",
    "Adding courses and people",
    "Updating people",
    "Adding roles, enrollments and tutor approvals",
    "Recording the history",
)


class _Ticker:
    """Reports each step's progress to the reporter, a batch at a time."""

    def __init__(self, reporter: Reporter | None) -> None:
        self.reporter = reporter
        self.step = 0
        self.done = 0
        self.total = 0

    def start(self, step: int, total: int) -> None:
        self.step, self.done, self.total = step, 0, total
        self._send()

    def tick(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        self._send()

    def _send(self) -> None:
        if self.reporter is not None:
            label = STEPS[self.step - 1]
            self.reporter(Progress(self.step, len(STEPS), label, self.done, self.total))


def _bulk_create(model: type[Model], objs: Sequence[Model], ticker: _Ticker, **kw: Any) -> None:
    for start in range(0, len(objs), BATCH):
        batch = objs[start : start + BATCH]
        model._default_manager.bulk_create(batch, **kw)
        ticker.tick(len(batch))


def apply_roster(
    *, organization_id: int, import_id: int, actor: User, progress: Reporter | None = None
) -> dict[str, int]:
    """Apply a checked file, all of it or nothing. The plan is made again against the
    current data, so a file applied twice (or data changed since the dry run) is safe.
    `progress` is told how far it has got, step by step, a batch at a time."""
    require_transaction()
    organization = admin_organization(actor, organization_id, lock=True)
    roster = (
        RosterImport.objects.select_for_update()
        .filter(organization=organization, pk=import_id)
        .first()
    )
    if roster is None:
        raise NotFound("There is no such roster import.")
    if roster.status == ImportStatus.INVALID:
        raise Conflict(
            "This file has errors; fix them and upload it again. Nothing was imported.",
            code="roster_has_errors",
        )
    ticker = _Ticker(progress)
    ticker.start(1, roster.rows)
    result = plan(
        organization, roster.content, actor=actor, deactivate_missing=roster.deactivate_missing
    )
    ticker.tick(roster.rows)
    if result.errors:
        raise Conflict(
            f"The data changed since the dry run and {len(result.errors)} rows no longer "
            "apply; upload the file again to see them. Nothing was imported.",
            code="roster_has_errors",
        )
    summary = result.summary()
    if result.changes_anything:
        _write(organization, result, actor=actor, ticker=ticker)
    else:
        for step in range(2, len(STEPS) + 1):
            ticker.start(step, 0)
    if roster.status == ImportStatus.CHECKED:
        roster.status = ImportStatus.APPLIED
        roster.applied_at = timezone.now()
        roster.applied_summary = summary
        roster.save(update_fields=["status", "applied_at", "applied_summary"])
    audit.record(
        actor=actor,
        action="roster.applied",
        organization_id=organization.pk,
        import_id=roster.pk,
        filename=roster.filename,
        sha256=roster.sha256,
        **summary,
    )
    return summary


def _write(organization: Organization, result: Plan, *, actor: User, ticker: _Ticker) -> None:
    now = timezone.now()
    # New accounts: no password until the person sets one from their invitation.
    new_emails = [r.email for r in result.add]
    existing = {}
    for chunk in _chunks(new_emails):
        existing.update(dict(User.objects.filter(email__in=chunk).values_list("email", "pk")))
    # One unusable password for the whole file: hashing nothing 20,000 times costs seconds.
    unusable = make_password(None)
    new_users = [
        User(email=r.email, name=r.name, password=unusable)
        for r in result.add
        if r.email not in existing
    ]
    ticker.start(2, len(result.new_courses) + len(new_users) + len(result.add))
    # Courses first: enrollments and approvals point at them.
    _bulk_create(
        Course,
        [Course(organization=organization, code=c, title=c) for c in result.new_courses],
        ticker,
    )
    courses = {c.code.upper(): c.pk for c in Course.objects.filter(organization=organization)}
    _bulk_create(User, new_users, ticker)
    ids: dict[str, int] = {}
    for chunk in _chunks(new_emails):
        ids.update(dict(User.objects.filter(email__in=chunk).values_list("email", "pk")))
    _bulk_create(
        Member,
        [
            Member(
                organization=organization,
                user_id=ids[r.email],
                school_id=r.school_id,
                status=MemberStatus.DEACTIVATED if r.deactivated else MemberStatus.INVITED,
                invited_at=now,
                deactivated_at=now if r.deactivated else None,
            )
            for r in result.add
        ],
        ticker,
    )
    # bulk_create skips Member.save, which would copy the names the list sorts on.
    refresh_sort_keys(organization_id=organization.pk, user_ids=[ids[r.email] for r in result.add])
    ticker.start(3, len(result.update))

    def user_of(key: int | str) -> int:
        return key if isinstance(key, int) else ids[key]

    # Updates to people already here.
    if result.update:
        users = User.objects.in_bulk(list(result.update))
        members = {
            m.user_id: m
            for m in Member.objects.filter(
                organization=organization, user_id__in=list(result.update)
            )
        }
        for user_id, (row, changes) in result.update.items():
            user = users[user_id]
            if "email" in changes:
                user.email = row.email
            if "name" in changes:
                user.name = row.name
            if "school_id" in changes:
                members[user_id].school_id = row.school_id
        User.objects.bulk_update(list(users.values()), ["email", "name"], batch_size=BATCH)
        Member.objects.bulk_update(list(members.values()), ["school_id"], batch_size=BATCH)
        refresh_sort_keys(
            user_ids=[
                user_id
                for user_id, (_, changes) in result.update.items()
                if "name" in changes or "email" in changes
            ]
        )
        ticker.tick(len(result.update))
    deactivated_new = {ids[r.email] for r in result.add if r.deactivated}
    ticker.start(4, len(result.new_roles) + len(result.new_enrollments) + len(result.new_approvals))
    _bulk_create(
        Membership,
        [
            Membership(
                organization=organization,
                user_id=user_of(k),
                role=role,
                is_active=user_of(k) not in deactivated_new,
            )
            for k, role in result.new_roles
        ],
        ticker,
        ignore_conflicts=True,
    )
    _bulk_create(
        Enrollment,
        [
            Enrollment(course_id=courses[c.upper()], student_id=user_of(k))
            for k, c in result.new_enrollments
        ],
        ticker,
        ignore_conflicts=True,
    )
    _bulk_create(
        TutorCourse,
        [
            TutorCourse(
                course_id=courses[c.upper()],
                tutor_id=user_of(k),
                status=ApprovalStatus.ACTIVE,
                decided_by=actor,
                decided_at=now,
            )
            for k, c in result.new_approvals
        ],
        ticker,
        ignore_conflicts=True,
    )
    through = Program.students.through
    through.objects.bulk_create(
        [through(program_id=pid, user_id=user_of(k)) for k, pid in result.new_program_students],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    if result.activate_approvals:
        TutorCourse.objects.filter(pk__in=result.activate_approvals).update(
            status=ApprovalStatus.ACTIVE, decided_by=actor, decided_at=now
        )
    for user_ids, status in (
        (result.deactivate, MemberStatus.DEACTIVATED),
        (result.reactivate, MemberStatus.ACTIVE),
    ):
        if not user_ids:
            continue
        Member.objects.filter(organization=organization, user_id__in=user_ids).update(
            status=status, deactivated_at=now if status == MemberStatus.DEACTIVATED else None
        )
        Membership.objects.filter(organization=organization, user_id__in=user_ids).update(
            is_active=status == MemberStatus.ACTIVE
        )
    _sync_sign_in(organization, [*result.deactivate, *result.reactivate, *deactivated_new])
    # New people are recorded once, in the import's own entry (roster.applied); changes to
    # people who were already here get an entry each, for their history.
    entries = (
        [
            ("person.import_updated", uid, {"changes": changes})
            for uid, (_, changes) in result.update.items()
        ]
        + [("person.deactivated", uid, {"by": "roster"}) for uid in result.deactivate]
        + [("person.reactivated", uid, {"by": "roster"}) for uid in result.reactivate]
    )
    ticker.start(5, len(entries))
    _bulk_create(
        AuditEntry,
        [
            AuditEntry(
                actor=actor,
                action=action,
                organization=organization,
                data={"user_id": uid, **data},
            )
            for action, uid, data in entries
        ],
        ticker,
    )


def _sync_sign_in(organization: Organization, user_ids: Sequence[int]) -> None:
    """Whoever no organization keeps active can no longer sign in; reactivated people can."""
    if not user_ids:
        return
    for chunk in _chunks(list(set(user_ids))):
        still = set(
            Member.objects.filter(user_id__in=chunk)
            .exclude(status=MemberStatus.DEACTIVATED)
            .values_list("user_id", flat=True)
        )
        staff = set(
            User.objects.filter(pk__in=chunk).filter(is_staff=True).values_list("pk", flat=True)
        ) | set(
            User.objects.filter(pk__in=chunk, is_support_agent=True).values_list("pk", flat=True)
        )
        keep = still | staff
        User.objects.filter(pk__in=[u for u in chunk if u not in keep]).update(is_active=False)
        User.objects.filter(pk__in=[u for u in chunk if u in keep]).update(is_active=True)

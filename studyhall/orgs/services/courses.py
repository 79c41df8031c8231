"""Courses, enrollments and tutor approvals (Unverified → Active or Disabled)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from studyhall.core.text import clean_text
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Membership,
    Organization,
    Role,
    TutorCourse,
)
from studyhall.orgs.selectors import has_role
from studyhall.orgs.services.access import admin_organization, require_transaction

CODE_MAX = 32
TITLE_MAX = 200
NOTE_MAX = 2000
TRANSCRIPT_MAX_BYTES = 5 * 1024 * 1024
TRANSCRIPT_TYPES = {".pdf", ".png", ".jpg", ".jpeg"}


def clean_course(code: str, title: str) -> tuple[str, str]:
    code, title = " ".join(code.split()), " ".join(title.split())
    if not code or len(code) > CODE_MAX:
        raise InvalidInput(
            f"A course code has 1 to {CODE_MAX} characters (like CHEM 110).",
            code="invalid_course_code",
            field="code",
        )
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput(
            f"A course title has 1 to {TITLE_MAX} characters.",
            code="invalid_course_title",
            field="title",
        )
    return (
        clean_text(code, field="Course code", max_length=CODE_MAX),
        clean_text(title, field="Course title", max_length=TITLE_MAX),
    )


def _course(organization: Organization, course_id: int) -> Course:
    course = (
        Course.objects.select_for_update().filter(organization=organization, pk=course_id).first()
    )
    if course is None:
        raise NotFound("There is no such course.")
    return course


def _code_free(organization: Organization, code: str, *, except_id: int | None = None) -> None:
    taken = Course.objects.filter(organization=organization, code__iexact=code)
    if except_id is not None:
        taken = taken.exclude(pk=except_id)
    if taken.exists():
        raise Conflict(f"There is already a course {code}.", code="course_code_taken", field="code")


def create_course(*, organization_id: int, actor: User, code: str, title: str) -> Course:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    code, title = clean_course(code, title)
    _code_free(organization, code)
    course = Course.objects.create(organization=organization, code=code, title=title)
    audit.record(
        actor=actor,
        action="course.created",
        organization_id=organization.pk,
        course_id=course.pk,
        code=code,
        title=title,
    )
    return course


def update_course(
    *, organization_id: int, course_id: int, actor: User, code: str, title: str
) -> Course:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    course = _course(organization, course_id)
    code, title = clean_course(code, title)
    _code_free(organization, code, except_id=course.pk)
    before = {"code": course.code, "title": course.title}
    if before == {"code": code, "title": title}:
        return course
    course.code, course.title = code, title
    course.save(update_fields=["code", "title"])
    audit.record(
        actor=actor,
        action="course.updated",
        organization_id=organization.pk,
        course_id=course.pk,
        before=before,
        after={"code": code, "title": title},
    )
    return course


def set_archived(*, organization_id: int, course_id: int, actor: User, archived: bool) -> Course:
    """Archived courses keep their sessions but are no longer booked or enrolled in."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    course = _course(organization, course_id)
    if (course.archived_at is not None) == archived:
        raise Conflict(
            f"{course.code} is already {'archived' if archived else 'open'}.",
            code="already_archived" if archived else "not_archived",
        )
    course.archived_at = timezone.now() if archived else None
    course.save(update_fields=["archived_at"])
    audit.record(
        actor=actor,
        action="course.archived" if archived else "course.unarchived",
        organization_id=organization.pk,
        course_id=course.pk,
    )
    return course


def enroll_students(
    *, organization_id: int, course_id: int, actor: User, student_ids: Iterable[int]
) -> int:
    """Enrol students of the organization; returns how many were newly enrolled."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    course = _course(organization, course_id)
    if course.archived_at is not None:
        raise RuleViolation(f"{course.code} is archived; reopen it first.", code="course_archived")
    wanted = sorted(set(student_ids))
    students = set(
        Membership.objects.filter(
            organization=organization, role=Role.STUDENT, user_id__in=wanted
        ).values_list("user_id", flat=True)
    )
    unknown = [i for i in wanted if i not in students]
    if unknown or not wanted:
        raise InvalidInput(
            "Choose students of this organization to enrol.",
            code="unknown_student",
            field="students",
            user_ids=unknown,
        )
    already = set(
        Enrollment.objects.filter(course=course, student_id__in=wanted).values_list(
            "student_id", flat=True
        )
    )
    new = [i for i in wanted if i not in already]
    Enrollment.objects.bulk_create([Enrollment(course=course, student_id=i) for i in new])
    if new:
        audit.record(
            actor=actor,
            action="course.enrolled",
            organization_id=organization.pk,
            course_id=course.pk,
            student_ids=new,
        )
    return len(new)


def unenroll_student(*, organization_id: int, course_id: int, actor: User, student_id: int) -> None:
    require_transaction()
    organization = admin_organization(actor, organization_id)
    course = _course(organization, course_id)
    deleted, _ = Enrollment.objects.filter(course=course, student_id=student_id).delete()
    if not deleted:
        raise NotFound("That student is not enrolled in this course.")
    audit.record(
        actor=actor,
        action="course.unenrolled",
        organization_id=organization.pk,
        course_id=course.pk,
        student_id=student_id,
    )


def check_transcript(upload: UploadedFile) -> None:
    name = (upload.name or "").lower()
    if not any(name.endswith(ext) for ext in TRANSCRIPT_TYPES):
        raise InvalidInput(
            "Upload the transcript as a PDF, PNG or JPEG file.",
            code="invalid_transcript",
            field="transcript",
        )
    if (upload.size or 0) > TRANSCRIPT_MAX_BYTES:
        raise InvalidInput(
            "A transcript may be at most 5 MB.", code="transcript_too_large", field="transcript"
        )


def apply_to_tutor(
    *, course_id: int, actor: User, note: str, transcript: UploadedFile | None = None
) -> TutorCourse:
    """A tutor asks to tutor a course; an admin approves or declines it."""
    require_transaction()
    course = Course.objects.select_related("organization").filter(pk=course_id).first()
    if course is None or not has_role(actor, course.organization_id, Role.TUTOR):
        raise NotFound("There is no such course.")
    if course.archived_at is not None:
        raise RuleViolation(f"{course.code} is archived.", code="course_archived")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            f"Keep the note under {NOTE_MAX} characters.", code="note_too_long", field="note"
        )
    note = clean_text(note, field="Note", max_length=NOTE_MAX)
    if transcript is not None:
        check_transcript(transcript)
    approval = TutorCourse.objects.select_for_update().filter(course=course, tutor=actor).first()
    if approval is not None and approval.status == ApprovalStatus.ACTIVE:
        raise Conflict(f"You already tutor {course.code}.", code="already_approved")
    if approval is not None and approval.status == ApprovalStatus.UNVERIFIED:
        raise Conflict(
            f"Your application for {course.code} is waiting for an admin.",
            code="already_applied",
        )
    if approval is None:
        approval = TutorCourse(course=course, tutor=actor)
    approval.status = ApprovalStatus.UNVERIFIED
    approval.note = note
    approval.decided_by, approval.decided_at, approval.decision_reason = None, None, ""
    if transcript is not None:
        approval.transcript.save(transcript.name or "transcript", transcript, save=False)
    approval.save()
    audit.record(
        actor=actor,
        action="tutor_course.applied",
        organization_id=course.organization_id,
        course_id=course.pk,
        approval_id=approval.pk,
        with_transcript=transcript is not None,
    )
    return approval


def set_approval(
    *,
    organization_id: int,
    course_id: int,
    tutor_id: int,
    actor: User,
    status: str,
    reason: str = "",
) -> TutorCourse:
    """Approve (Active), disable or decline (Disabled) a tutor for a course, with or without
    an application. Only Active lets students book the tutor for it."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    if status not in (ApprovalStatus.ACTIVE, ApprovalStatus.DISABLED):
        raise InvalidInput("Choose Active or Disabled.", code="invalid_status", field="status")
    course = _course(organization, course_id)
    if not Membership.objects.filter(
        organization=organization, user_id=tutor_id, role=Role.TUTOR
    ).exists():
        raise InvalidInput(
            "Only tutors of this organization can be approved for a course.",
            code="not_a_tutor",
            field="tutor",
        )
    approval = (
        TutorCourse.objects.select_for_update().filter(course=course, tutor_id=tutor_id).first()
    )
    before = approval.status if approval is not None else None
    if before == status:
        return approval  # type: ignore[return-value]
    if approval is None:
        approval = TutorCourse(course=course, tutor_id=tutor_id)
    approval.status = status
    approval.decision_reason = clean_text(
        reason.strip()[:NOTE_MAX], field="Reason", max_length=NOTE_MAX
    )
    approval.decided_by, approval.decided_at = actor, timezone.now()
    approval.save()
    audit.record(
        actor=actor,
        action="tutor_course.status_changed",
        organization_id=organization.pk,
        course_id=course.pk,
        tutor_id=tutor_id,
        before=before,
        after=status,
        reason=approval.decision_reason,
    )
    return approval

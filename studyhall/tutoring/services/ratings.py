"""Ratings of completed sessions. A student who came rates the session 1–5 with an optional
review (where the organization asks for confirmations, once they confirmed it); the tutor may
rate how the students engaged, which only admins see. A rating never touches the ledger. An
org admin hides a review someone reported, with a reason that is audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from studyhall.core.text import clean_text
from studyhall.orgs.models import Role
from studyhall.orgs.selectors import roles_of
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import (
    Confirmation,
    ConfirmationAnswer,
    EarningHold,
    ParticipantState,
    Rating,
    Session,
    Status,
)

REVIEW_MAX_CHARS = 2000
# A rating this low lands in the admins' Needs attention list.
LOW_RATING = 2


def rate_session(*, session_id: int, actor: User, stars: object, review: str = "") -> Rating:
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput("Choose 1 to 5 stars.", code="invalid_stars", field="stars")
    text = clean_text(review or "", field="Review", max_length=REVIEW_MAX_CHARS)
    with transaction.atomic():
        session = access_session(actor, session_id)
        if session.status != Status.COMPLETED:
            raise Conflict("A session is rated once it has been completed.", code="not_completed")
        by_tutor = session.tutor_id == actor.pk
        if not by_tutor:
            _check_student_may_rate(session, actor)
        if Rating.objects.filter(session=session, rater=actor).exists():
            raise Conflict("You already rated this session.", code="already_rated")
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    session=session, rater=actor, by_tutor=by_tutor, stars=stars, review=text
                )
        except IntegrityError:
            raise Conflict("You already rated this session.", code="already_rated") from None
        audit.record(
            actor=actor,
            action="session.rated",
            organization_id=session.organization_id,
            session_id=session.pk,
            rating_id=rating.pk,
            stars=stars,
            by_tutor=by_tutor,
        )
    return rating


def _check_student_may_rate(session: Session, actor: User) -> None:
    came = session.participants.filter(user=actor, state=ParticipantState.ACCEPTED).exists()
    if not came:
        raise Forbidden(
            "Only the students who came and the tutor rate a session.", code="may_not_rate"
        )
    if EarningHold.objects.filter(session=session).exists():
        confirmed = Confirmation.objects.filter(
            session=session,
            student=actor,
            answer__in=[ConfirmationAnswer.CONFIRMED, ConfirmationAnswer.AUTO_CONFIRMED],
        ).exists()
        if not confirmed:
            raise Conflict(
                "Confirm the session happened as logged first; then rate it.",
                code="confirm_first",
            )


def hide_review(*, rating_id: object, actor: User, reason: str) -> Rating:
    """An org admin hides a review (reported as unfair or abusive); the tutor no longer sees
    it. The stars still count."""
    text = clean_text(reason or "", field="Reason", max_length=REVIEW_MAX_CHARS)
    if not text:
        raise InvalidInput(
            "Say why the review is hidden; it is kept in the audit log.",
            code="reason_required",
            field="reason",
        )
    with transaction.atomic():
        if isinstance(rating_id, bool) or not isinstance(rating_id, int):
            raise NotFound("There is no such rating.")
        rating = (
            Rating.objects.select_for_update(of=("self",))
            .select_related("session")
            .filter(pk=rating_id)
            .first()
        )
        if rating is None or not roles_of(actor, rating.session.organization_id):
            raise NotFound("There is no such rating.")
        if Role.ADMIN not in roles_of(actor, rating.session.organization_id):
            raise Forbidden("Only the organization's admins hide reviews.", code="admins_only")
        if rating.hidden:
            return rating
        rating.hidden = True
        rating.hidden_reason = text
        rating.hidden_by = actor
        rating.save(update_fields=["hidden", "hidden_reason", "hidden_by"])
        audit.record(
            actor=actor,
            action="session.review_hidden",
            organization_id=rating.session.organization_id,
            session_id=rating.session_id,
            rating_id=rating.pk,
            reason=text,
        )
    return rating

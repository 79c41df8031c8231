"""Reads for booking: the courses a person can book or invite for, with the people on the other
side, and the new times waiting for an answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from studyhall.accounts.models import User
from studyhall.orgs.models import Course
from studyhall.orgs.selectors import (
    enrolled_courses,
    students_of_course,
    tutored_courses,
    tutors_of_course,
)
from studyhall.tutoring.models import ParticipantState, ProposalState, Session, TimeProposal


@dataclass(frozen=True)
class CourseChoice:
    course: Course
    # Tutors of a course the viewer takes, or students of a course the viewer tutors, never
    # including the viewer (a peer tutor does not book themselves).
    people: list[User]


@dataclass(frozen=True)
class BookingOptions:
    taking: list[CourseChoice]
    tutoring: list[CourseChoice]


def booking_options(viewer: User) -> BookingOptions:
    return BookingOptions(
        taking=[
            CourseChoice(c, [t for t in tutors_of_course(c) if t.pk != viewer.pk])
            for c in enrolled_courses(viewer)
        ],
        tutoring=[
            CourseChoice(c, [s for s in students_of_course(c) if s.pk != viewer.pk])
            for c in tutored_courses(viewer)
        ],
    )


def open_proposals(session_ids: Iterable[int]) -> dict[int, TimeProposal]:
    """The open proposal of each session that has one, in one query."""
    return {
        p.session_id: p
        for p in TimeProposal.objects.filter(
            session_id__in=list(session_ids), state=ProposalState.OPEN
        ).select_related("proposed_by")
    }


@dataclass(frozen=True)
class ProposalView:
    """A session's open proposal from one viewer's side."""

    proposal: TimeProposal
    mine: bool
    awaits_me: bool


_UNREAD = object()


def proposal_for(session: Session, viewer: User) -> ProposalView | None:
    """Pass a session whose participants are prefetched (`selectors.with_details`). The open
    proposal is read once per session object, however many parts of a page ask."""
    proposal = getattr(session, "_open_proposal", _UNREAD)
    if proposal is _UNREAD:
        proposal = open_proposals([session.pk]).get(session.pk)
        session._open_proposal = proposal  # type: ignore[attr-defined]
    if not isinstance(proposal, TimeProposal):
        return None
    if proposal.by_tutor:
        awaits_me = any(
            p.user_id == viewer.pk and p.state == ParticipantState.INVITED
            for p in session.participants.all()
        )
    else:
        awaits_me = session.tutor_id == viewer.pk
    return ProposalView(proposal, mine=proposal.proposed_by_id == viewer.pk, awaits_me=awaits_me)

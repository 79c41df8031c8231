from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from studyhall.tutoring import rules
from studyhall.tutoring.rules import DURATION_CHOICES


class Mode(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    INVITED = "invited", "Invited"
    SCHEDULED = "scheduled", "Scheduled"
    STARTING = "starting", "Starting"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"
    DECLINED = "declined", "Declined"
    MISSED = "missed", "Missed"


class MissedReason(models.TextChoices):
    """Why a session was marked missed (empty while it is not)."""

    NO_STUDENT_ACCEPTED = "no_student_accepted", "No student accepted in time"
    REQUEST_UNANSWERED = "request_unanswered", "The tutor did not answer the request"
    NOBODY_CAME = "nobody_came", "No student came"
    TUTOR_NO_SHOW = "tutor_no_show", "The tutor did not come"


# The statuses of a session that is still to happen or happening: what a tutor no-show can
# end (an online one through the classroom's presence, an in-person one through a report).
OPEN_STATUSES = ("invited", "scheduled", "starting")


class Origin(models.TextChoices):
    REQUEST = "request", "Requested by a student"
    INVITATION = "invitation", "Invitation from the tutor"


class Session(models.Model):
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="sessions"
    )
    course = models.ForeignKey("orgs.Course", on_delete=models.PROTECT, related_name="sessions")
    # The program that pays for the session, chosen at booking (see `tutoring.programs`);
    # empty for sessions booked before programs existed.
    program = models.ForeignKey(
        "orgs.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tutored_sessions"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    location = models.CharField(max_length=200, blank=True)
    scheduled_start = models.DateTimeField(db_index=True)
    planned_minutes = models.PositiveSmallIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Booked with a start already in the past: shown as such everywhere, and listed for the
    # org admin (a session nobody saw being arranged deserves a second look).
    recorded_after_the_fact = models.BooleanField(
        default=False, help_text="Booked after its start had already passed."
    )
    # Set by the online classroom: when the tutor and a student were first in the call together,
    # and when they last parted (someone alone in the classroom is not a call).
    call_started_at = models.DateTimeField(null=True, blank=True)
    call_ended_at = models.DateTimeField(null=True, blank=True)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was completed, canceled, declined or missed."
    )
    missed_reason = models.CharField(max_length=24, choices=MissedReason.choices, blank=True)
    # Set while a student's report that the tutor did not come (in person) awaits an org
    # admin's decision; it blocks completion until then.
    tutor_absence_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scheduled_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_minutes__in=DURATION_CHOICES),
                name="session_planned_minutes_5_to_90_step_5",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=Mode.values), name="session_mode_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(mode=Mode.IN_PERSON, location=""),
                name="in_person_session_has_location",
            ),
        ]
        indexes = [
            models.Index(fields=["tutor", "scheduled_start"]),
            # The console's Sessions list: an organization's newest first, read backwards.
            models.Index(
                fields=["organization", "scheduled_start", "id"], name="session_org_start_order"
            ),
            models.Index(
                fields=["organization", "scheduled_start"],
                condition=models.Q(recorded_after_the_fact=True),
                name="session_after_the_fact_idx",
            ),
            # The tutor no-show sweep: online sessions still open whose tutor and students
            # were never in the call together, by start.
            models.Index(
                fields=["scheduled_start"],
                condition=models.Q(
                    mode="online", status__in=OPEN_STATUSES, call_started_at__isnull=True
                ),
                name="session_tutor_no_show_due_idx",
            ),
            models.Index(
                fields=["organization", "tutor_absence_reported_at"],
                condition=models.Q(tutor_absence_reported_at__isnull=False),
                name="session_absence_reported_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} with {self.tutor} at {self.scheduled_start:%Y-%m-%d %H:%M}"

    @property
    def scheduled_end(self) -> datetime:
        return self.scheduled_start + timedelta(minutes=self.planned_minutes)

    @property
    def classroom_closes_at(self) -> datetime:
        return rules.classroom_closes_at(
            scheduled_end=self.scheduled_end,
            closes_minutes=self.organization.classroom_closes_minutes,
        )

    @property
    def is_online(self) -> bool:
        return self.mode == Mode.ONLINE


class ParticipantState(models.TextChoices):
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REMOVED = "removed", "Removed"


# The participants still on a session: invited (yet to answer) or accepted.
ON_SESSION = (ParticipantState.INVITED, ParticipantState.ACCEPTED)


class Participant(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="participations"
    )
    state = models.CharField(max_length=16, choices=ParticipantState.choices)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Removed at completion because they said they would come and did not.
    no_show = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # "The sessions I take part in" (`selectors.sessions_of`) looks up by user first.
        indexes = [models.Index(fields=["user", "session"], name="participant_user_session")]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="one_participant_row"),
            models.CheckConstraint(
                condition=models.Q(state__in=ParticipantState.values),
                name="participant_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.state})"


class Completion(models.Model):
    """The tutor's log of a session: time, recap, and the earning it paid."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="completion")
    minutes = models.PositiveSmallIntegerField()
    topics_covered = models.TextField()
    tutee_progress = models.TextField()
    next_steps = models.TextField()
    hourly_rate_cents = models.BigIntegerField()
    earning = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, related_name="completion"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_reason = models.TextField(
        blank=True, help_text="Why a support agent logged this session for the tutor."
    )
    # NULL, not "", when absent: the uniqueness constraint must ignore completions without one.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    # For online sessions: what the classroom measured (tutor and a student together), and
    # whether the logged time exceeds it by more than the tolerance, for the org admin.
    measured_seconds = models.PositiveIntegerField(null=True, blank=True)
    overlogged = models.BooleanField(default=False)
    # Why the recap was accepted but flagged (a near-copy or filler, where the organization
    # flags rather than refuses); empty when it is fine.
    recap_flag = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__in=DURATION_CHOICES),
                name="completion_minutes_5_to_90_step_5",
            ),
            models.UniqueConstraint(
                fields=["completed_by", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="one_completion_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Completion of session {self.session_id}: {self.minutes} min"


class CorrectionKind(models.TextChoices):
    VOID = "void", "Completion voided"
    ADJUST_MINUTES = "adjust_minutes", "Minutes changed"


class Correction(models.Model):
    """A change to a completed session's pay, made by support after the fact. The completion
    and its earning stay as they were; this row and its transfer carry the difference."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="corrections")
    kind = models.CharField(max_length=16, choices=CorrectionKind.choices)
    minutes_before = models.PositiveSmallIntegerField()
    minutes_after = models.PositiveSmallIntegerField(help_text="0 once voided.")
    hourly_rate_cents = models.BigIntegerField(help_text="The completion's rate, kept as paid.")
    amount_before_cents = models.BigIntegerField()
    amount_after_cents = models.BigIntegerField()
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, related_name="correction"
    )
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=CorrectionKind.values),
                name="session_correction_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=CorrectionKind.VOID, minutes_after=0)
                | models.Q(kind=CorrectionKind.ADJUST_MINUTES, minutes_after__in=DURATION_CHOICES),
                name="session_correction_minutes_match_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(amount_before_cents=models.F("amount_after_cents")),
                name="session_correction_changes_the_amount",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="one_session_correction_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on session {self.session_id}"

    @property
    def difference_cents(self) -> int:
        return self.amount_after_cents - self.amount_before_cents


class ProposalState(models.TextChoices):
    OPEN = "open", "Awaiting an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    SUPERSEDED = "superseded", "Replaced by a newer proposal"
    EXPIRED = "expired", "Expired unanswered"
    CLOSED = "closed", "Closed with the session"


class TimeProposal(models.Model):
    """A new time proposed for a session by its tutor or its student; the other side accepts it
    or declines it. Until accepted the session keeps its agreed time, and the status and answers
    the proposal changed are kept here so that declining it puts them back."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="time_proposals")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    by_tutor = models.BooleanField(help_text="Proposed by the tutor (students answer it).")
    scheduled_start = models.DateTimeField()
    planned_minutes = models.PositiveSmallIntegerField()
    message = models.TextField(blank=True)
    previous_start = models.DateTimeField()
    previous_minutes = models.PositiveSmallIntegerField()
    previous_status = models.CharField(max_length=16, choices=Status.choices)
    # {user id: participant state} for the students, as they were before the proposal.
    previous_states = models.JSONField(default=dict)
    state = models.CharField(
        max_length=16, choices=ProposalState.choices, default=ProposalState.OPEN
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_message = models.TextField(blank=True, help_text="Why it was declined, if given.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(state="open"),
                name="one_open_time_proposal_per_session",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ProposalState.values),
                name="time_proposal_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_minutes__in=DURATION_CHOICES),
                name="time_proposal_minutes_5_to_90_step_5",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    previous_status__in=(Status.REQUESTED, Status.INVITED, Status.SCHEDULED)
                ),
                name="time_proposal_from_a_pending_status",
            ),
        ]

    def __str__(self) -> str:
        return f"New time for session {self.session_id}: {self.scheduled_start:%Y-%m-%d %H:%M}"

    @property
    def scheduled_end(self) -> datetime:
        return self.scheduled_start + timedelta(minutes=self.planned_minutes)


class HoldState(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    DISPUTED = "disputed", "Held for a dispute"
    RELEASED = "released", "Confirmed"


class DisputeResolution(models.TextChoices):
    UPHELD = "upheld", "The tutor's log was upheld"
    ADJUSTED = "adjusted", "The pay was corrected"


class EarningHold(models.Model):
    """A completed session's earning while its students confirm it: pending until every
    student who came confirms (or the auto-confirm time passes), then released — all of it, or
    all but the disputed amount, which stays held until Support resolves the dispute.

    The money sits in the tutor's held account (`ledger.AccountKind.TUTOR_HELD`); each move of
    it is a `HeldMove` with its transfer.
    """

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="hold")
    state = models.CharField(max_length=16, choices=HoldState.choices, default=HoldState.PENDING)
    confirm_by = models.DateTimeField(
        db_index=True, help_text="When silence counts as confirmation."
    )
    # At settlement: the most minutes a dispute said did not happen, and the pay they held.
    disputed_minutes = models.PositiveSmallIntegerField(default=0)
    disputed_cents = models.BigIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=DisputeResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=HoldState.values), name="earning_hold_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(disputed_cents__gte=0), name="earning_hold_disputed_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(state=HoldState.DISPUTED) | models.Q(disputed_cents__gt=0),
                name="earning_hold_dispute_holds_money",
            ),
        ]

    def __str__(self) -> str:
        return f"Earning of session {self.session_id}: {self.state}"


class ConfirmationAnswer(models.TextChoices):
    PENDING = "pending", "Not answered yet"
    CONFIRMED = "confirmed", "Confirmed"
    AUTO_CONFIRMED = "auto_confirmed", "Confirmed by not answering"
    DISPUTED = "disputed", "Disputed"


class DisputeKind(models.TextChoices):
    DID_NOT_HAPPEN = "did_not_happen", "It didn't happen"
    SHORTER = "shorter", "It was shorter"


class Confirmation(models.Model):
    """One student's answer to "Did this session happen as logged?"."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="confirmations")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="session_confirmations"
    )
    answer = models.CharField(
        max_length=16, choices=ConfirmationAnswer.choices, default=ConfirmationAnswer.PENDING
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    dispute_kind = models.CharField(max_length=16, choices=DisputeKind.choices, blank=True)
    # For "it was shorter": by how many minutes.
    shorter_by_minutes = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "student"], name="one_confirmation_each"),
            models.CheckConstraint(
                condition=models.Q(answer__in=ConfirmationAnswer.values),
                name="confirmation_answer_valid",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(answer="disputed", dispute_kind="did_not_happen")
                    | models.Q(answer="disputed", dispute_kind="shorter", shorter_by_minutes__gt=0)
                    | (~models.Q(answer="disputed") & models.Q(dispute_kind=""))
                ),
                name="confirmation_dispute_is_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} on session {self.session_id}: {self.answer}"


class HeldMoveKind(models.TextChoices):
    HOLD = "hold", "Held until the students confirm"
    CONFIRMED = "confirmed", "Released: confirmed"
    DISPUTE_UPHELD = "dispute_upheld", "Released: dispute resolved for the tutor"
    DISPUTE_ADJUSTED = "dispute_adjusted", "Released: the pay was corrected"


class HeldMove(models.Model):
    """One movement into or out of a tutor's held earnings, with the transfer that made it.
    `minutes` is signed like the money on the tutor's earnings: a hold takes the minutes it
    holds off, a release gives them back."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="held_moves")
    kind = models.CharField(max_length=20, choices=HeldMoveKind.choices)
    minutes = models.IntegerField()
    amount_cents = models.BigIntegerField(help_text="Positive: how much moved.")
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, related_name="held_move"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=HeldMoveKind.values), name="held_move_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="held_move_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents} on session {self.session_id}"


class Rating(models.Model):
    """A rating of a completed session, 1–5: a student's of the session (with an optional
    review), or its tutor's of how the students engaged (seen by admins only). Ratings never
    change pay."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_tutor = models.BooleanField(default=False)
    stars = models.PositiveSmallIntegerField()
    review = models.TextField(blank=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.TextField(blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "rater"], name="one_rating_each"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5"
            ),
            models.CheckConstraint(
                condition=models.Q(hidden=False) | ~models.Q(hidden_reason=""),
                name="rating_hidden_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stars}/5 of session {self.session_id}"


class AbsenceReportState(models.TextChoices):
    OPEN = "open", "Awaiting an org admin"
    TUTOR_CAME = "tutor_came", "The tutor came"
    TUTOR_ABSENT = "tutor_absent", "The tutor did not come"


class TutorAbsenceReport(models.Model):
    """A student's report that the tutor of an in-person session did not come. An org admin
    decides; until then the session cannot be completed."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="absence_reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    state = models.CharField(
        max_length=16, choices=AbsenceReportState.choices, default=AbsenceReportState.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "reporter"], name="one_absence_report_each"),
            models.CheckConstraint(
                condition=models.Q(state__in=AbsenceReportState.values),
                name="absence_report_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reporter} reports the tutor of session {self.session_id} absent"


class NoShowRole(models.TextChoices):
    STUDENT = "student", "As a student"
    TUTOR = "tutor", "As a tutor"


class NoShowWarning(models.Model):
    """The warning a person got once their no-shows reached the organization's warning
    threshold in a counting period (a term, or the last 120 days): at most one a period."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=NoShowRole.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    no_shows = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "user", "role", "period_end"], name="no_show_warning_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=NoShowRole.values), name="no_show_warning_role_valid"
            )
        ]

    def __str__(self) -> str:
        return f"No-show warning for {self.user} ({self.role}, {self.no_shows})"


class BookingSuspension(models.Model):
    """Booking suspended for a person in one role once their no-shows reached the
    suspension threshold; it stands until an org admin lifts it."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=NoShowRole.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    period_name = models.CharField(max_length=100)
    no_shows = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "user", "role", "period_end"], name="suspension_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "role"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_standing_suspension",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=NoShowRole.values), name="suspension_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Booking suspended for {self.user} ({self.role})"

    @property
    def is_standing(self) -> bool:
        return self.lifted_at is None

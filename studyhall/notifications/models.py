"""In-app notifications, each person's email choices, and the record of reminders sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    """What a notification is about: the unit a person chooses to also get by email."""

    INVITATION = "invitation", "Invitations to a session"
    REQUEST = "request", "Session requests from students"
    ANSWER = "answer", "Sessions accepted or declined"
    RESCHEDULE = "reschedule", "New times proposed, accepted or declined"
    CANCELLATION = "cancellation", "Cancellations, removals and missed sessions"
    REMINDER = "reminder", "Reminders 24 hours and 1 hour before a session"
    LOG_REMINDER = "log_reminder", "Reminders to log a session you tutored"
    RECAP = "recap", "Recaps of your sessions"
    LATE_LOG = "late_log", "Answers from Support to late-log requests"
    CORRECTION = "correction", "Corrections to the pay for a session"
    PAYOUT = "payout", "Payouts scheduled, paid or failed"
    CONFIRMATION = "confirmation", "Confirming sessions happened as logged, and disputes"
    NO_SHOW = "no_show", "No-shows: a tutor who did not come, warnings and booking suspensions"


# Why a person gets an email of each kind: "You get this email because …".
EMAIL_BECAUSE = {
    Kind.INVITATION: "a tutor invited you to a session",
    Kind.REQUEST: "a student asked you to tutor a session",
    Kind.ANSWER: "someone answered a session you are on",
    Kind.RESCHEDULE: "the time of a session you are on is being moved",
    Kind.CANCELLATION: "a session you are on was canceled or missed, or its people changed",
    Kind.REMINDER: "you have a session coming up",
    Kind.LOG_REMINDER: "you tutored a session that is not logged yet",
    Kind.RECAP: "your tutor logged a session you took part in",
    Kind.LATE_LOG: "Support decided on your request to log a session",
    Kind.CORRECTION: "Support corrected, or proposed to correct, the pay for a session",
    Kind.PAYOUT: "a payout of your earnings was scheduled, paid or failed",
    Kind.CONFIRMATION: "a session you took part in is to be confirmed, or was disputed",
    Kind.NO_SHOW: "someone did not come to a session you are on, or your no-shows add up",
}


class Notification(models.Model):
    """One line in a person's notification list. Written once; only `read_at` changes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The precise happening ("accepted", "reminder_1h", ...), for wording and the API.
    event = models.CharField(max_length=32)
    # SET_NULL, not CASCADE: deleting a notification behind the unread counter's back
    # would leave the counter wrong.
    session = models.ForeignKey(
        "tutoring.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set by deliveries from background tasks, which may run more than once: one
    # notification per key, and its email sent (or skipped by preference) once.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    email_settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="notification_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class EmailPreference(models.Model):
    """Whether a person also gets one kind of notification by email. No row: yes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    by_email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_email_preference_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="email_preference_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} by email {'on' if self.by_email else 'off'}"


class ReminderKind(models.TextChoices):
    BEFORE_24H = "before_24h", "24 hours before the session"
    BEFORE_1H = "before_1h", "1 hour before the session"
    LOG_AT_END = "log_at_end", "Log it: the session has ended"
    LOG_24H_LEFT = "log_24h_left", "Log it: 24 hours left"
    LOG_4H_LEFT = "log_4h_left", "Log it: 4 hours left"


LOG_REMINDER_KINDS = (ReminderKind.LOG_AT_END, ReminderKind.LOG_24H_LEFT, ReminderKind.LOG_4H_LEFT)


class SentReminder(models.Model):
    """A reminder that went out. The unique constraint is what makes the reminder job
    idempotent: a second run (or a second worker) cannot claim the same reminder again.

    `for_moment` is the start (or logging deadline) the reminder was about, so a session
    moved to a new time gets its reminders again for the new time. "Log your session"
    reminders go out once each per session, whatever happens to the deadline afterwards."""

    session = models.ForeignKey(
        "tutoring.Session", on_delete=models.CASCADE, related_name="sent_reminders"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    for_moment = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user", "kind", "for_moment"], name="one_reminder_each"
            ),
            models.UniqueConstraint(
                fields=["session", "user", "kind"],
                condition=models.Q(kind__in=LOG_REMINDER_KINDS),
                name="one_log_reminder_of_each_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReminderKind.values), name="sent_reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for session {self.session_id} to {self.user_id}"

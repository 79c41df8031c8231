"""Support: chat conversations with Studyhall's agents, requests to log a session after its
grace period, and money corrections that a second agent approves.

Rows here are history: messages are never edited, and a request or proposal is decided once
(who, when, why) rather than deleted.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from studyhall.tutoring.rules import DURATION_CHOICES


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Conversation(models.Model):
    """One thread between a user and Support. A user has at most one open conversation; a
    message after it was closed starts a new one, and the old ones stay as history.

    Someone who cannot sign in writes through the contact form instead: their conversation
    has no user, only the name and email they gave, and Support's replies go to that email."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_conversations",
    )
    # Given on the contact form by someone not signed in (blank for a user's conversation).
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    # The session an agent started the conversation about, if any.
    session = models.ForeignKey(
        "tutoring.Session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_conversations",
    )
    status = models.CharField(
        max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_support_conversations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # When the user's oldest message that no agent has answered yet arrived; NULL when the
    # last word was Support's. The inbox serves the longest wait first.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # The highest message id the user has seen: agent messages above it are unread.
    user_read_upto = models.PositiveBigIntegerField(default=0)
    # The last "Support replied" email, so a user who stays away gets one, not one per reply.
    reply_emailed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status=ConversationStatus.OPEN),
                name="one_open_support_conversation_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConversationStatus.values),
                name="support_conversation_status_valid",
            ),
            # A user's conversation, or a visitor's with the email to answer to: never both.
            models.CheckConstraint(
                condition=Q(user__isnull=False, contact_email="", contact_name="")
                | Q(Q(user__isnull=True), ~Q(contact_email="")),
                name="support_conversation_user_or_contact_email",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "waiting_since"]),
            models.Index(fields=["contact_email", "status"]),
        ]

    def __str__(self) -> str:
        who = self.user if self.user_id else f"{self.contact_email} (not signed in)"
        return f"Conversation {self.pk} with {who} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == ConversationStatus.OPEN

    @property
    def signed_in(self) -> bool:
        """Written by a signed-in user (False for the contact form's visitors)."""
        return self.user_id is not None

    @property
    def person_name(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.contact_name or self.contact_email

    @property
    def person_email(self) -> str:
        return self.user.email if self.user is not None else self.contact_email


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    # NULL for a visitor's message from the contact form (they have no account).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who spoke for whom, fixed when written (an agent could later lose the flag).
    from_agent = models.BooleanField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When an agent's reply to a visitor was emailed to them (at most once).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="support_message_not_empty"),
            models.CheckConstraint(
                condition=Q(author__isnull=False) | Q(from_agent=False),
                name="support_agent_message_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in conversation {self.conversation_id}"

    @property
    def author_name(self) -> str:
        """The author's name; a visitor's is the one they gave on the contact form."""
        if self.author is not None:
            return self.author.display_name
        return self.conversation.person_name


class ChatPresence(models.Model):
    """When the user last had Support's chat in front of them (an open socket's heartbeat, a
    poll, opening the panel). A reply to someone not seen lately is also sent by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="support_presence",
    )
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} last seen {self.last_seen_at:%Y-%m-%d %H:%M}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for Support"
    APPROVED = "approved", "Logged by Support"
    DECLINED = "declined", "Declined"


class LateLogRequest(models.Model):
    """A tutor's request to log a session whose grace period has closed: the same time and
    recap as a completion, plus why it is late. An agent approves (completing the session on
    the tutor's behalf) or declines with a reason."""

    session = models.ForeignKey(
        "tutoring.Session", on_delete=models.PROTECT, related_name="late_log_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveSmallIntegerField()
    topics_covered = models.TextField()
    tutee_progress = models.TextField()
    next_steps = models.TextField()
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    completion = models.OneToOneField(
        "tutoring.Completion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="late_log_request",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status=RequestStatus.PENDING),
                name="one_open_late_log_request_per_session",
            ),
            models.CheckConstraint(
                condition=Q(minutes__in=DURATION_CHOICES),
                name="late_log_minutes_5_to_90_step_5",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="late_log_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=RequestStatus.PENDING, decided_by__isnull=True)
                | Q(
                    ~Q(status=RequestStatus.PENDING),
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                ),
                name="late_log_decided_once_with_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.APPROVED) | Q(completion__isnull=False),
                name="approved_late_log_has_completion",
            ),
        ]

    def __str__(self) -> str:
        return f"Late-log request {self.pk} for session {self.session_id} ({self.status})"

    def recap(self) -> dict[str, str]:
        return {
            "topics_covered": self.topics_covered,
            "tutee_progress": self.tutee_progress,
            "next_steps": self.next_steps,
        }


class ProposalKind(models.TextChoices):
    VOID = "void", "Void the completion"
    ADJUST_MINUTES = "adjust_minutes", "Change the logged time"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second agent"
    APPROVED = "approved", "Approved and applied"
    REJECTED = "rejected", "Rejected"


class CorrectionProposal(models.Model):
    """A money correction proposed by one agent. Nothing moves until a different agent
    approves it; the database refuses an approval by the proposer too."""

    session = models.ForeignKey(
        "tutoring.Session", on_delete=models.PROTECT, related_name="correction_proposals"
    )
    kind = models.CharField(max_length=16, choices=ProposalKind.choices)
    minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The new time, for a change of the logged time."
    )
    # What the completion said when the correction was proposed, for the approver.
    logged_minutes = models.PositiveSmallIntegerField()
    reason = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # Once approved: the ledger transfer that moved the money, and by how much the tutor's
    # pay changed (negative when money went back to the organization).
    transfer = models.OneToOneField(
        "ledger.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    difference_cents = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status=CorrectionStatus.PENDING),
                name="support_one_pending_correction_per_session",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ProposalKind.values), name="support_correction_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CorrectionStatus.values),
                name="support_correction_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind=ProposalKind.VOID, minutes__isnull=True)
                | Q(kind=ProposalKind.ADJUST_MINUTES, minutes__in=DURATION_CHOICES),
                name="support_correction_minutes_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(status=CorrectionStatus.PENDING, decided_by__isnull=True)
                | Q(
                    ~Q(status=CorrectionStatus.PENDING),
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                ),
                name="support_correction_decided_once",
            ),
            # The four-eyes rule, as the last line behind the service's check.
            models.CheckConstraint(
                condition=~Q(status=CorrectionStatus.APPROVED)
                | Q(Q(decided_by__isnull=False), ~Q(decided_by=F("proposed_by"))),
                name="support_correction_second_agent_approves",
            ),
        ]

    def __str__(self) -> str:
        return f"Correction {self.pk} of session {self.session_id} ({self.status})"

"""Outbound webhooks: the endpoints an org admin registers, each event sent to them, and every
attempt at delivering it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    SESSION_REQUESTED = "session.requested", "Session requested"
    SESSION_SCHEDULED = "session.scheduled", "Session scheduled"
    SESSION_CANCELED = "session.canceled", "Session canceled"
    SESSION_COMPLETED = "session.completed", "Session completed"
    SESSION_MISSED = "session.missed", "Session missed"
    RECAP_WRITTEN = "recap.written", "Recap written"
    PAYOUT_SCHEDULED = "payout.scheduled", "Payout scheduled"
    PAYOUT_PAID = "payout.paid", "Payout paid"
    PAYOUT_FAILED = "payout.failed", "Payout failed"
    PERSON_ADDED = "person.added", "Person added"
    PERSON_DEACTIVATED = "person.deactivated", "Person deactivated"


class WebhookEndpoint(models.Model):
    """A URL an integrator gave us, the events it wants, and the secret its deliveries are
    signed with (Standard Webhooks: `whsec_` and base64). Rotating keeps the previous secret
    signing beside the new one for a day, so the receiver can switch without a gap."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "id"]

    def __str__(self) -> str:
        return f"Webhook endpoint {self.url} of {self.organization}"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be delivered"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up after every retry"


class WebhookMessage(models.Model):
    """One event for one endpoint. Its `message_id` (the `webhook-id` header) stays the same
    across retries and redeliveries, so the receiver can drop duplicates."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values),
                name="webhook_message_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(event_type__in=EventType.values),
                name="webhook_message_event_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try at delivering a message: what the receiver answered, or why it could not."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        outcome = self.response_status or self.error
        return f"Attempt at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {outcome}"


class FeedConfig(models.Model):
    """An organization's nightly data feed: where the exports go (a directory, and optionally
    the college's SFTP server) and where its roster file comes from."""

    organization = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, related_name="feed_config"
    )
    enabled = models.BooleanField(default=True)
    # The admin the feed acts as when it applies the roster (the import's `actor`).
    run_as = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at_hour = models.PositiveSmallIntegerField(
        default=2, help_text="Hour of the night (organization's zone) after which it runs."
    )
    export_directory = models.CharField(max_length=500, blank=True)
    roster_directory = models.CharField(
        max_length=500, blank=True, help_text="Local folder an inbound roster.csv is picked from."
    )
    sftp_host = models.CharField(max_length=255, blank=True)
    sftp_port = models.PositiveIntegerField(default=22)
    sftp_username = models.CharField(max_length=150, blank=True)
    sftp_password = models.CharField(max_length=255, blank=True)
    sftp_private_key = models.TextField(blank=True, help_text="OpenSSH private key (PEM).")
    sftp_host_key = models.TextField(
        help_text="The server's public host key (known_hosts line), checked on every connect.",
        blank=True,
    )
    sftp_directory = models.CharField(max_length=500, blank=True, default=".")
    sftp_roster_path = models.CharField(max_length=500, blank=True)
    deactivate_missing = models.BooleanField(
        default=False, help_text="The roster is complete: deactivate people missing from it."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(run_at_hour__lte=23), name="feed_run_at_hour_in_range"
            ),
            models.CheckConstraint(
                condition=models.Q(sftp_port__gte=1, sftp_port__lte=65535),
                name="feed_sftp_port_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Nightly feed of {self.organization}"

    @property
    def pushes(self) -> bool:
        return bool(self.sftp_host)


class PushStatus(models.TextChoices):
    NOT_CONFIGURED = "not_configured", "No SFTP server configured"
    PENDING = "pending", "Not pushed yet"
    PUSHED = "pushed", "Pushed"
    RETRYING = "retrying", "Push failed; retrying"
    FAILED = "failed", "Push failed; gave up"


class FeedRun(models.Model):
    """One night of one organization's feed. The unique night makes a rerun find it: files
    written, roster applied and email sent are each recorded and never done twice."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="feed_runs"
    )
    night = models.DateField(help_text="The organization's date the run is for.")
    started_at = models.DateTimeField(auto_now_add=True)
    exports = models.JSONField(default=dict, help_text="File name → rows written.")
    exports_written_at = models.DateTimeField(null=True, blank=True)
    push_status = models.CharField(
        max_length=16, choices=PushStatus.choices, default=PushStatus.PENDING
    )
    push_attempts = models.PositiveSmallIntegerField(default=0)
    push_error = models.CharField(max_length=500, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    roster_filename = models.CharField(max_length=255, blank=True)
    roster_sha256 = models.CharField(max_length=64, blank=True)
    roster_summary = models.JSONField(default=dict)
    roster_rejected = models.JSONField(default=list)
    roster_error = models.CharField(max_length=500, blank=True)
    roster_done_at = models.DateTimeField(null=True, blank=True)
    summary_sent_at = models.DateTimeField(null=True, blank=True)
    push_report_sent_at = models.DateTimeField(null=True, blank=True)
    # Set while a run of the job works on the night (studyhall.feeds.nightly._claim).
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-night", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "night"], name="one_feed_run_a_night"),
            models.CheckConstraint(
                condition=models.Q(push_status__in=PushStatus.values),
                name="feed_push_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Feed of {self.organization} for {self.night}"

"""Who is in a session's online classroom, and the history of joins and leaves.

Presence lives in the database rather than in channel groups so that every server process
sees the same room, and so that a connection that died without closing can be expired by
anyone: a row whose heartbeat is older than PRESENCE_TIMEOUT no longer counts.
"""

from django.conf import settings
from django.db import models


class Connection(models.Model):
    """One browser tab in the call. `peer_id` is chosen by the tab and kept across
    reconnects, so a dropped network that comes back in time is not a leave."""

    session = models.ForeignKey(
        "tutoring.Session", on_delete=models.CASCADE, related_name="call_connections"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    peer_id = models.CharField(max_length=64, unique=True)
    channel_name = models.CharField(max_length=200)
    joined_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    audio = models.BooleanField(default=True)
    video = models.BooleanField(default=True)

    class Meta:
        ordering = ["joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.user_id} in session {self.session_id} ({self.peer_id})"


class EventKind(models.TextChoices):
    JOINED = "joined", "Joined"
    LEFT = "left", "Left"
    TIMED_OUT = "timed_out", "Connection lost"


class CallEvent(models.Model):
    """Append-only: the measured time is computed from these."""

    session = models.ForeignKey(
        "tutoring.Session", on_delete=models.CASCADE, related_name="call_events"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    peer_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["session", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EventKind.values), name="call_event_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id} at {self.at:%H:%M:%S}"

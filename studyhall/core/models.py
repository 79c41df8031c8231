from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """Who did what, when, and the data that matters. Written in the same transaction as the
    change it describes; never updated."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64)
    organization = models.ForeignKey(
        "orgs.Organization", null=True, on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        "tutoring.Session", null=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class PeriodicRun(models.Model):
    """When each periodic job was last enqueued. The scheduler claims a job by locking its
    row, so several scheduler processes never enqueue the same run twice."""

    name = models.CharField(max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (last {self.last_enqueued_at})"

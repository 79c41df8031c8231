from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    CHECKED = "checked", "Checked (dry run)"
    INVALID = "invalid", "Has errors"
    APPLIED = "applied", "Applied"


class RosterImport(models.Model):
    """One uploaded roster file, its dry run, and whether it was applied. The file's text is
    kept so that applying uses exactly what the admin reviewed."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="roster_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    deactivate_missing = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values), name="roster_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class SentInvitation(models.Model):
    """One invitation email, under the key its enqueuing gave it: the task runs at least once,
    and a run that finds its key sent sends nothing."""

    key = models.CharField(max_length=64, unique=True)
    member = models.ForeignKey("orgs.Member", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation {self.key} ({'sent' if self.sent_at else 'pending'})"

"""What an organization keeps, and for how long (see studyhall.identity.retention)."""

from __future__ import annotations

from django.db import models

# Presence (who was in the classroom when) decides a session's measured time and the end of
# its call, hence its grace deadline; it is kept at least past the longest grace period.
MIN_PRESENCE_DAYS = 31


class RetentionPolicy(models.Model):
    organization = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, related_name="retention"
    )
    chat_days = models.PositiveIntegerField(
        default=365, help_text="Days a closed support conversation is kept after its last word."
    )
    notification_days = models.PositiveIntegerField(
        default=180, help_text="Days a member's notifications are kept."
    )
    presence_days = models.PositiveIntegerField(
        default=90, help_text="Days the classroom's presence records of a session are kept."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(chat_days__gte=1, chat_days__lte=3650),
                name="retention_chat_days_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(notification_days__gte=1, notification_days__lte=3650),
                name="retention_notification_days_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(presence_days__gte=MIN_PRESENCE_DAYS, presence_days__lte=3650),
                name="retention_presence_days_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Retention of {self.organization_id}"

from django.conf import settings
from django.db import models


class CalendarFeed(models.Model):
    """A person's private iCalendar feed. The token is the whole secret: whoever has the URL
    sees the feed, so it is long, random, and replaced (old URL dead) on request.

    It is stored as is, not as a digest, because the owner must be able to see their URL again
    in account settings to add it to another calendar app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

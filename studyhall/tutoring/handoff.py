"""The hand-off to Support when logging has closed: a refusal links straight to a late-log
request filled in with what the tutor had typed, from the page and the classroom alike."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.urls import reverse

from studyhall.tutoring.rules import RECAP_ANSWER_MAX_CHARS

GRACE_EXPIRED = "grace_period_expired"
CARRIED_OVER = ("minutes", "topics_covered", "tutee_progress", "next_steps")


def late_log_url(session_id: int, typed: Mapping[str, object]) -> str:
    """Support's late-log request for the session, with the typed time and recap carried over
    (as query parameters; the request form only fills itself in with them)."""
    filled = {key: str(typed.get(key) or "")[:RECAP_ANSWER_MAX_CHARS] for key in CARRIED_OVER}
    url = reverse("support:late_log_new", kwargs={"pk": session_id})
    query = urlencode({key: value for key, value in filled.items() if value})
    return f"{url}?{query}" if query else url

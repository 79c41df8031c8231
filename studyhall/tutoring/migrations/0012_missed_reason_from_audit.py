"""Sessions missed before the reason was kept on the session take it from their audit entry."""

from django.db import migrations

KNOWN = {"no_student_accepted", "request_unanswered", "nobody_came", "tutor_no_show"}


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Session = apps.get_model("tutoring", "Session")
    AuditEntry = apps.get_model("core", "AuditEntry")
    missed = Session.objects.filter(status="missed", missed_reason="").values_list("pk", flat=True)
    for chunk_start in range(0, len(ids := list(missed)), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        reasons: dict[int, str] = {}
        for session_id, data in (
            AuditEntry.objects.filter(session_id__in=chunk, action="session.missed")
            .order_by("created_at", "id")
            .values_list("session_id", "data")
        ):
            reason = (data or {}).get("reason")
            if reason in KNOWN:
                reasons[session_id] = reason
        for session_id, reason in reasons.items():
            Session.objects.filter(pk=session_id).update(missed_reason=reason)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_periodicrun"),
        ("tutoring", "0011_no_shows"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

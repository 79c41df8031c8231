"""On PostgreSQL, refuse UPDATE and DELETE on the ledger's history: transfers, their entries,
which payout an earning went into, and each move of a payout. Account rows are not history
(their stored balance moves with every transfer) and stay writable.

SQLite is the single-user development database; there the services and `check_ledger` guard
the same rules (ADR 0005)."""

from django.db import migrations

TABLES = ["ledger_transfer", "ledger_entry", "ledger_payoutitem", "ledger_payoutevent"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION studyhall_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Post a reversing or adjusting transfer instead.';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No parameters: the % in RAISE is PL/pgSQL's, not a placeholder.
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION studyhall_refuse_ledger_change();"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS studyhall_refuse_ledger_change();")


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0003_payouts"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

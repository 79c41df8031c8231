"""CSV files: the payroll export of a batch, and a tutor's transaction history.

The payroll export is built only from what the batch froze when it was made (each payout's
items, the tutor's employee id and name), so downloading it twice gives the same bytes. It has
one row per session paid (and per correction), each with its minutes and hourly rate, so every
row multiplies out: minutes × rate ÷ 60, rounded half up, is its amount to the cent. A
correction that changed the minutes is two rows, the old log taken back and the new one paid,
since the difference of two rounded amounts need not be a rounded product. The amounts add up
to the batch's total.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from studyhall.ledger.models import PayoutBatch
from studyhall.ledger.selectors import HistoryRow, payroll_rows

PAYROLL_COLUMNS = [
    "employee_id",
    "name",
    "email",
    "session_id",
    "what",
    "minutes",
    "hourly_rate",
    "amount",
    "currency",
    "period_start",
    "period_end",
    "payout_id",
]
HISTORY_COLUMNS = [
    "date",
    "kind",
    "description",
    "session_id",
    "minutes",
    "hourly_rate",
    "amount",
    "currency",
    "payout_id",
    "payout_date",
    "payout_status",
]


def decimal_amount(cents: int) -> str:
    """1375 → '13.75', −250 → '-2.50': what spreadsheets and payroll systems read."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _safe(value: object) -> str:
    """Keep a spreadsheet from running a cell as a formula (a name like '=HYPERLINK(...)')."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def payroll_csv(batch: PayoutBatch) -> str:
    return _write(
        PAYROLL_COLUMNS,
        (
            [
                _safe(row.line.employee_id),
                _safe(row.line.payout.tutor.display_name),
                _safe(row.line.payout.tutor.email),
                row.session_id or "",
                row.what,
                row.minutes,
                decimal_amount(row.hourly_rate_cents),
                decimal_amount(row.amount_cents),
                row.line.payout.currency,
                batch.week_start.isoformat(),
                batch.week_end.isoformat(),
                row.line.payout.pk,
            ]
            for row in payroll_rows(batch)
        ),
    )


def payroll_filename(batch: PayoutBatch) -> str:
    return f"payroll-{batch.organization.slug}-week-of-{batch.week_start.isoformat()}.csv"


def history_csv(rows: Iterable[HistoryRow], *, zone: object) -> str:
    def line(row: HistoryRow) -> list[object]:
        t = row.transfer
        payout = row.payout or row.own_payout
        return [
            t.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),  # type: ignore[arg-type]
            row.kind_label,
            _safe(t.description),
            t.session_id or "",
            "" if row.minutes is None else row.minutes,
            "" if row.hourly_rate_cents is None else decimal_amount(row.hourly_rate_cents),
            decimal_amount(row.amount.cents),
            row.amount.currency,
            payout.pk if payout else "",
            payout.batch.payout_date.isoformat() if payout else "",
            payout.status if payout else "",
        ]

    return _write(HISTORY_COLUMNS, (line(r) for r in rows))

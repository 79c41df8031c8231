"""Payout weeks: Monday to Sunday in the organization's time zone, and their payout dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = timedelta(days=7)


def week_start_of(moment: datetime, zone: ZoneInfo) -> date:
    """The Monday of the week `moment` falls in, read on the organization's wall clock: a
    session at 23:30 on Sunday in New York belongs to that week, although it is Monday in UTC."""
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def week_bounds(week_start: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) on the local clock, as aware datetimes. A week that
    spans a daylight-saving change is 167 or 169 hours long, as the clock on the wall says."""
    if week_start.weekday() != 0:
        raise ValueError(f"{week_start} is not a Monday")
    start = datetime.combine(week_start, time.min, tzinfo=zone)
    end = datetime.combine(week_start + WEEK, time.min, tzinfo=zone)
    return start, end


def payout_date_for(week_start: date, *, delay_days: int) -> date:
    """The week's last day (Sunday) plus the delay: 12 days is the Friday of the second week
    after, about two weeks after the sessions."""
    return week_start + timedelta(days=6 + delay_days)


def last_finished_week(now: datetime, zone: ZoneInfo) -> date:
    """The Monday of the latest week that has ended on the local clock."""
    return week_start_of(now, zone) - WEEK

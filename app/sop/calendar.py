"""Working days of the office: Monday-Friday, minus national holidays, cuti bersama and local days off.

Day-level rules live here (which days count, office hours, the promised date); minute-level
arithmetic (the SLA clock, pauses, time per stage) lives in app.sop.sla.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UTC = dt.timezone.utc


@lru_cache(maxsize=64)
def national_days_off(year: int) -> frozenset[dt.date]:
    """Public holidays and cuti bersama (the 'government' category) from the holidays package."""
    return frozenset(holidays.country_holidays("ID", categories=("public", "government"), years=year))


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime. Naive values are UTC (SQLite hands stored datetimes back naive)."""
    zone = value.tzinfo
    if zone is None:
        return value.replace(tzinfo=UTC)
    return value if zone is UTC else value.astimezone(UTC)


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Jakarta"
    opens: dt.time = dt.time(7, 30)
    closes: dt.time = dt.time(16, 0)
    local_days_off: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(f"office hours must open before they close: {self.opens}-{self.closes}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_minutes(self) -> int:
        """Working minutes in one office day (510 for 07:30-16:00)."""
        opens = self.opens.hour * 60 + self.opens.minute
        closes = self.closes.hour * 60 + self.closes.minute
        return closes - opens

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in national_days_off(day.year) and day not in self.local_days_off

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The count-th working day after day (day itself never counts)."""
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """day itself if it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The office's calendar date at that instant (naive means UTC)."""
        return as_utc(instant).astimezone(self.tz).date()

    def opening(self, day: dt.date) -> dt.datetime:
        """Opening time of the office on that day, in UTC."""
        return dt.datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)

    def closing(self, day: dt.date) -> dt.datetime:
        """Closing time of the office on that day, in UTC."""
        return dt.datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)

    def receiving_day(self, submitted_at: dt.datetime) -> dt.date:
        """The working day a submission is received on (day 0 of the promise).

        The day of submission if it is a working day and the submission came before closing
        time; a submission at or after closing time, or on a weekend or holiday, is received on
        the next working day (as if it had come in at that day's opening).
        """
        day = self.local_date(submitted_at)
        if self.is_working_day(day) and as_utc(submitted_at) < self.closing(day):
            return day
        return self.add_working_days(day, 1)

    def due_at(self, submitted_at: dt.datetime, service_days: int) -> dt.datetime:
        """The promise, in UTC: closing time of the service_days-th working day after the receiving day.

        Mon 10.00 with 5 days -> the next Monday 16.00; Fri 17.00, Saturday or Monday 06.00
        -> received Monday, due the Monday after at 16.00. Pauses are added in app.sop.sla.due_at.
        """
        due_day = self.add_working_days(self.receiving_day(submitted_at), service_days)
        return self.closing(due_day)


def next_month(month: dt.date) -> dt.date:
    """The 1st of the month after `month`'s."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)

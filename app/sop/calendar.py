"""Working days of the office: Monday-Friday, minus national holidays, cuti bersama and local days off."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def national_days_off(year: int) -> frozenset[dt.date]:
    """Public holidays and cuti bersama (the 'government' category) from the holidays package."""
    return frozenset(holidays.country_holidays("ID", categories=("public", "government"), years=year))


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Jakarta"
    opens: dt.time = dt.time(7, 30)
    closes: dt.time = dt.time(16, 0)
    local_days_off: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in national_days_off(day.year) and day not in self.local_days_off

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def due_at(self, submitted_at: dt.datetime, service_days: int) -> dt.datetime:
        """Closing time of the service_days-th working day after the day of submission."""
        local = submitted_at.astimezone(self.tz)
        due_day = self.add_working_days(local.date(), service_days)
        return dt.datetime.combine(due_day, self.closes, tzinfo=self.tz).astimezone(dt.timezone.utc)

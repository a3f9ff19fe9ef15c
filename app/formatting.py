"""Dates and numbers as Indonesian staff read them (28 November 2026, in WIB)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from lokal import format_rupiah

from app.office import office_calendar

EMPTY = "\u2014"  # an em dash: what a page shows for a field with no value


def or_dash(value: object) -> object:
    """The value, or "—" when there is none (None, or text of only spaces): the 'or_dash' filter
    of every show and list widget, so no page prints "None"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return EMPTY
    return value


def format_day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_datetime(value, "d MMMM yyyy")
    return format_date(value, "d MMMM yyyy")


def format_moment(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "d MMMM yyyy HH.mm")


def format_digits(value: str | None, groups: tuple[int, ...]) -> str:
    """Groups identity digits for reading aloud, e.g. NIB 1234 5678 90123."""
    if not value:
        return ""
    parts, start = [], 0
    for size in groups:
        parts.append(value[start : start + size])
        start += size
    return " ".join(p for p in parts if p)


def format_npwp(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 15:
        return f"{value[0:2]}.{value[2:5]}.{value[5:8]}.{value[8]}-{value[9:12]}.{value[12:15]}"
    return value


def format_fee(value: Decimal | int | None) -> str:
    """Rp1.500.000, or "free of charge" as the SOP says it (Tanpa Biaya)."""
    if not value:
        return str(_l("Free of charge"))
    return format_rupiah(Decimal(value))


def format_months(value: int | None) -> str:
    if value is None:
        return str(_l("Not specified"))
    return str(_l("%(months)s months", months=value))


def format_working_time(minutes: int, working_day_minutes: int | None = None) -> str:
    """Working minutes as staff read them: "1 jam 20 menit", "2 hari kerja 15 menit" (sign dropped).

    A working day is the office's working minutes a day, the unit of standards like "2 hari kerja".
    """
    minutes = abs(minutes)
    day = working_day_minutes or office_calendar().day_minutes
    days, rest = divmod(minutes, day) if day else (0, minutes)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(str(_l("%(days)s working days", days=days)))
    if hours:
        parts.append(str(_l("%(hours)s h", hours=hours)))
    if mins or not parts:
        parts.append(str(_l("%(minutes)s min", minutes=mins)))
    return " ".join(parts)

"""Dates and numbers as Indonesian staff read them (28 November 2026, in WIB)."""
from __future__ import annotations

import datetime as dt

from flask_babel import format_date, format_datetime


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

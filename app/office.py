"""The office this instance serves, as configured: its working calendar."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import LocalHoliday
from app.request_cache import request_cache
from app.sop.calendar import WorkingCalendar


def office_calendar() -> WorkingCalendar:
    """Time zone and office hours from the config, local days off from the LocalHoliday table.

    Built once per request; outside a request, fresh on every call.
    """
    memo = request_cache("office_calendar")
    if "calendar" not in memo:
        memo["calendar"] = _build()
    return memo["calendar"]


def office_now() -> dt.datetime:
    """The time on the office's wall clock (WIB for Landak), not the server's: a server on UTC is
    still on yesterday until 07:00 WIB."""
    return dt.datetime.now(ZoneInfo(current_app.config["OFFICE_TIMEZONE"]))


def forget_office_calendar() -> None:
    """Drops the cached calendar, e.g. after a local holiday was added, changed or deleted."""
    request_cache("office_calendar").clear()


def _build() -> WorkingCalendar:
    config = current_app.config
    return WorkingCalendar(
        timezone=config["OFFICE_TIMEZONE"],
        opens=dt.time.fromisoformat(config["OFFICE_OPENS"]),
        closes=dt.time.fromisoformat(config["OFFICE_CLOSES"]),
        local_days_off=frozenset(db.session.scalars(select(LocalHoliday.date))),
    )

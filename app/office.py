"""The office this instance serves, as configured: its working calendar."""
from __future__ import annotations

import datetime as dt

from flask import current_app, g, has_request_context, request
from sqlalchemy import select

from app.extensions import db
from app.models import LocalHoliday
from app.sop.calendar import WorkingCalendar

_CACHE = "_loket_office_calendar"


def office_calendar() -> WorkingCalendar:
    """Time zone and office hours from the config, local days off from the LocalHoliday table.

    Built once per request (cached on flask.g, tied to that request); outside a request, fresh
    on every call.
    """
    if has_request_context():
        cached = g.get(_CACHE)
        current = request._get_current_object()  # noqa: SLF001  (identity of this request)
        if cached is not None and cached[0] is current:
            return cached[1]
        calendar = _build()
        setattr(g, _CACHE, (current, calendar))
        return calendar
    return _build()


def forget_office_calendar() -> None:
    """Drops the cached calendar, e.g. after a local holiday was added, changed or deleted."""
    g.pop(_CACHE, None)


def _build() -> WorkingCalendar:
    config = current_app.config
    return WorkingCalendar(
        timezone=config["OFFICE_TIMEZONE"],
        opens=dt.time.fromisoformat(config["OFFICE_OPENS"]),
        closes=dt.time.fromisoformat(config["OFFICE_CLOSES"]),
        local_days_off=frozenset(db.session.scalars(select(LocalHoliday.date))),
    )

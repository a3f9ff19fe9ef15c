"""The office this instance serves, as configured: its working calendar."""
from __future__ import annotations

from flask import current_app

from app.sop.calendar import WorkingCalendar


def office_calendar() -> WorkingCalendar:
    return WorkingCalendar(timezone=current_app.config["OFFICE_TIMEZONE"])

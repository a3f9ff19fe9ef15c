"""Dossier grid filters by month, in the office's calendar: the dashboard's bars link to them, so a
bar and the grid it opens count the same dossiers. The value is a month, "YYYY-MM".
"""
from __future__ import annotations

import datetime as dt
import re

from flask import flash, g
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select

from app.jobs.register_data import month_bounds
from app.models import Dossier, Permit, StageEvent
from app.office import office_calendar
from app.sop.calendar import next_month
from app.sop.sla import REJECT_ACTION, RETURN_ACTION

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_month(value: object) -> tuple[int, int] | None:
    match = _MONTH.match(str(value or ""))
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return int(match.group(1)), int(match.group(2))


class _MonthFilter(BaseFilter):
    """A month filter; an unreadable month matches nothing and says why (once per page)."""

    def month(self, value: object) -> tuple[int, int] | None:
        month = parse_month(value)
        if month is None and not g.get("month_filter_warned"):
            g.month_filter_warned = True
            flash(_("Write the month as YYYY-MM, e.g. 2026-11."), "warning")
        return month

    def bounds(self, value: object) -> tuple[dt.datetime, dt.datetime] | None:
        month = self.month(value)
        if month is None:
            return None
        start, end = month_bounds(*month, office_calendar().timezone)
        if self.datamodel.session.get_bind().dialect.name == "sqlite":  # naive UTC there
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        return start, end

    def _event_in(self, query, value, action: str):  # noqa: ANN001, ANN202
        bounds = self.bounds(value)
        if bounds is None:
            return query.filter(false())
        happened = select(StageEvent.dossier_id).where(
            StageEvent.action == action, StageEvent.occurred_at >= bounds[0], StageEvent.occurred_at < bounds[1])
        return query.filter(Dossier.id.in_(happened))


class FilterReceivedInMonth(_MonthFilter):
    name = _l("Received in month (YYYY-MM)")
    arg_name = "received_in"

    def apply(self, query, value):  # noqa: ANN001, ANN201
        bounds = self.bounds(value)
        if bounds is None:
            return query.filter(false())
        return query.filter(Dossier.submitted_at >= bounds[0], Dossier.submitted_at < bounds[1])


class FilterIssuedInMonth(_MonthFilter):
    name = _l("Permit issued in month (YYYY-MM)")
    arg_name = "issued_in"

    def apply(self, query, value):  # noqa: ANN001, ANN201
        month = self.month(value)
        if month is None:
            return query.filter(false())
        first = dt.date(*month, 1)
        issued = select(Permit.dossier_id).where(Permit.issued_on >= first, Permit.issued_on < next_month(first))
        return query.filter(Dossier.id.in_(issued))


class FilterReturnedInMonth(_MonthFilter):
    name = _l("Returned in month (YYYY-MM)")
    arg_name = "returned_in"

    def apply(self, query, value):  # noqa: ANN001, ANN201
        return self._event_in(query, value, RETURN_ACTION)


class FilterRejectedInMonth(_MonthFilter):
    name = _l("Rejected in month (YYYY-MM)")
    arg_name = "rejected_in"

    def apply(self, query, value):  # noqa: ANN001, ANN201
        return self._event_in(query, value, REJECT_ACTION)


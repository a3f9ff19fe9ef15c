"""The monthly register's rows straight from the database: histories as plain rows, working time
from the working-day tables, the same figures as the day-by-day walk."""
from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.register_data import SummaryCollector, received_in, register_rows
from app.models import Stage, StageEvent
from app.sop import sla
from app.sop.calendar import WorkingCalendar
from tests.factories import make_dossier

pytestmark = pytest.mark.usefixtures("clean_db")
RECEIVED = dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC)  # Wednesday 14 October 2026, 09.00 WIB
NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


def _register(calendar: WorkingCalendar) -> tuple[list, list]:
    summary = SummaryCollector()
    total, rows = register_rows(db.session, received_in(2026, 10, "Asia/Jakarta"), calendar, "Asia/Jakarta", NOW,
                                summary, lambda done, total: None)
    rows = list(rows)
    assert total == len(rows)
    return rows, [(s.stage, s.count, s.median_minutes) for s in summary.rows()]


def test_register_rows_read_histories_as_rows_and_agree_with_the_day_by_day_clock(app):
    with app.app_context():
        dossiers = [make_dossier(submitted_at=RECEIVED + dt.timedelta(days=d, hours=3 * d)) for d in range(3)]
        stages = list(db.session.scalars(select(Stage).order_by(Stage.seq)))
        for n, dossier in enumerate(dossiers):
            at = dossier.submitted_at
            history = [("advance", stages[0], stages[1], 5 + n), ("return", stages[1], stages[1], 9),
                       ("resume", stages[1], stages[1], 30 + 7 * n), ("advance", stages[1], stages[2], 44)]
            for action, source, target, hours in history[: n + 2]:
                db.session.add(StageEvent(dossier_id=dossier.id, action=action, from_stage_id=source.id,
                                          to_stage_id=target.id, occurred_at=at + dt.timedelta(hours=hours)))
        db.session.commit()
        receipts = [d.receipt_number for d in dossiers]
        returned = dossiers[2].submitted_at
        db.session.expunge_all()
        calendar = WorkingCalendar(local_days_off=frozenset({dt.date(2026, 10, 20)}))

        rows, summary = _register(calendar)
        assert not [o for o in db.session.identity_map.values() if isinstance(o, StageEvent)], \
            "histories are read as rows, not StageEvent objects"
        with mock.patch.multiple(sla, _working_time=sla._working_time_by_day, _advance=sla._advance_by_day):
            assert _register(calendar) == (rows, summary)
        assert [r.receipt_number for r in rows] == receipts
        # Lama proses leaves out the time the third dossier was returned (hour 9 to hour 44).
        expected = sla.working_minutes(calendar, returned, NOW,
                                       [(returned + dt.timedelta(hours=9), returned + dt.timedelta(hours=44))])
        assert rows[2].working_days == round(expected / calendar.day_minutes, 1)

"""The dashboard's daily tallies: what happened on each office day, counted once and kept.

A million dossiers cannot be read for every dashboard page, and the figures of a past day do not
change: events are only ever added, stamped with the time they happen. So a periodic job counts
each office day into DashboardTally rows per permit type, and the dashboard sums a few thousand
rows. Kept rows (not a materialised view, not counters bumped by each move) because a day is
recounted whole from the records: idempotent, the same on SQLite and PostgreSQL, and no move ever
waits on a counter row another move holds.

Two kinds of measure:
- by the day something happened: received, issued (and within its promise), returned, rejected,
  moves per officer, the missing items a return named;
- by the day the dossier was received: working minutes of each finished stage visit, as the
  monthly register's summary sheet counts them, so the dashboard's mutu baku table for a month
  agrees with the register of that month. These change while the dossiers of that day are still
  moving: refresh() recounts the receipt days of every dossier that moved since the last run.
  Minutes are kept exactly (a median must match the register's), so a busy day has thousands of
  rows; once a month is over by a full month, its days are counted again as one month, whose
  rows the dashboard reads for a year at a time (a rare late move there recounts that month).

Plain SQLAlchemy and the SLA clock; no Flask.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.jobs.register_data import histories
from app.models import DashboardState, DashboardTally, Dossier, Permit, StageEvent, TallyMeasure
from app.sop.calendar import WorkingCalendar, as_utc, next_month
from app.sop.machine import MISSING_MARK
from app.sop.sla import REJECT_ACTION, RETURN_ACTION, return_pauses, stage_durations
from app.sop.worklist import as_stored

# Events are stamped when written and committed a moment later: a refresh looks this far back
# past the last one, so an event committed late is still counted (recounting is harmless).
OVERLAP = dt.timedelta(minutes=10)
# Dossiers whose histories are read at once when counting a receipt day's stage visits.
CHUNK = 2000
LABEL_MAX = 300


@dataclass(frozen=True)
class RefreshReport:
    days: int  # office days recounted
    months: int  # past months whose stage visits were recounted whole
    through: dt.datetime


def day_bounds(calendar: WorkingCalendar, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of an office day, in UTC."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=calendar.tz)
    return as_utc(start), as_utc(start + dt.timedelta(days=1))


def return_reasons(note: str | None) -> list[str]:
    """The missing items a return's note names (after MISSING_MARK, "a; b"); [""] when it names none."""
    if not note or MISSING_MARK not in note:
        return [""]
    items = [item.strip()[:LABEL_MAX] for item in note.split(MISSING_MARK, 1)[1].split(";")]
    return [item for item in items if item] or [""]


# --------------------------------------------------------------------------- counting one day


def _event_day_rows(session: Session, calendar: WorkingCalendar, day: dt.date) -> Iterator[dict]:
    """The measures counted by the day they happened."""
    start, end = (as_stored(session, t) for t in day_bounds(calendar, day))
    connection = session.connection()

    def rows(measure: str, counted: Iterable[tuple]) -> Iterator[dict]:
        for permit_type_id, amount, *key in counted:
            ref_id = key[0] if key and key[0] is not None else 0
            yield {"measure": measure, "permit_type_id": permit_type_id, "ref_id": ref_id, "amount": amount}

    yield from rows(TallyMeasure.RECEIVED, connection.execute(
        select(Dossier.permit_type_id, func.count())
        .where(Dossier.submitted_at >= start, Dossier.submitted_at < end).group_by(Dossier.permit_type_id)))
    issued = connection.execute(
        select(Permit.permit_type_id, Permit.issued_at, Dossier.due_at)
        .join(Dossier, Dossier.id == Permit.dossier_id).where(Permit.issued_on == day)).all()
    on_time: Counter = Counter()
    total: Counter = Counter()
    for permit_type_id, issued_at, due_at in issued:
        total[permit_type_id] += 1
        # As the register's "tepat waktu": issued no later than the promise (app.jobs.register_data).
        on_time[permit_type_id] += due_at is not None and as_utc(issued_at) <= as_utc(due_at)
    yield from rows(TallyMeasure.ISSUED, total.items())
    yield from rows(TallyMeasure.ISSUED_ON_TIME, ((t, n) for t, n in on_time.items() if n))
    for action, measure in ((RETURN_ACTION, TallyMeasure.RETURNED), (REJECT_ACTION, TallyMeasure.REJECTED)):
        yield from rows(measure, connection.execute(
            select(Dossier.permit_type_id, func.count())
            .select_from(StageEvent).join(Dossier, Dossier.id == StageEvent.dossier_id)
            .where(StageEvent.action == action, StageEvent.occurred_at >= start, StageEvent.occurred_at < end)
            .group_by(Dossier.permit_type_id)))
    yield from rows(TallyMeasure.MOVES, connection.execute(
        select(Dossier.permit_type_id, func.count(), StageEvent.actor_id)
        .select_from(StageEvent).join(Dossier, Dossier.id == StageEvent.dossier_id)
        .where(StageEvent.occurred_at >= start, StageEvent.occurred_at < end, StageEvent.actor_id.is_not(None))
        .group_by(Dossier.permit_type_id, StageEvent.actor_id)))
    reasons: Counter = Counter()
    for permit_type_id, note in connection.execute(
        select(Dossier.permit_type_id, StageEvent.note)
        .select_from(StageEvent).join(Dossier, Dossier.id == StageEvent.dossier_id)
        .where(StageEvent.action == RETURN_ACTION, StageEvent.occurred_at >= start, StageEvent.occurred_at < end)
    ):
        for label in return_reasons(note):
            reasons[(permit_type_id, label)] += 1
    for (permit_type_id, label), amount in reasons.items():
        yield {"measure": TallyMeasure.RETURN_REASON, "permit_type_id": permit_type_id, "label": label,
               "amount": amount}


def _receipt_rows(session: Session, calendar: WorkingCalendar, first: dt.date, after: dt.date, measure: str,
                  now: dt.datetime) -> Iterator[dict]:
    """Working minutes of the finished stage visits of the dossiers received on [first, after)."""
    start, end = as_stored(session, day_bounds(calendar, first)[0]), as_stored(session, day_bounds(calendar, after)[0])
    received = session.connection().execute(
        select(Dossier.id, Dossier.permit_type_id)
        .where(Dossier.submitted_at >= start, Dossier.submitted_at < end)).all()
    spent: Counter = Counter()
    for offset in range(0, len(received), CHUNK):
        chunk = received[offset : offset + CHUNK]
        events = histories(session, [row.id for row in chunk])
        for dossier_id, permit_type_id in chunk:
            history = events.get(dossier_id, [])
            for visit in stage_durations(calendar, history, now, pauses=return_pauses(history)):
                if visit.left_at is not None:
                    spent[(permit_type_id, visit.stage_id, visit.working_minutes)] += 1
    for (permit_type_id, stage_id, minutes), amount in spent.items():
        yield {"measure": measure, "permit_type_id": permit_type_id, "ref_id": stage_id, "value": minutes,
               "amount": amount}


_EVENT_DAY_MEASURES = (
    TallyMeasure.RECEIVED, TallyMeasure.ISSUED, TallyMeasure.ISSUED_ON_TIME, TallyMeasure.RETURNED,
    TallyMeasure.REJECTED, TallyMeasure.MOVES, TallyMeasure.RETURN_REASON,
)


def _replace(session: Session, day: dt.date, measures: Sequence[str], rows: Iterable[dict]) -> None:
    session.execute(delete(DashboardTally).where(DashboardTally.day == day, DashboardTally.measure.in_(measures)))
    batch = [{"day": day, "ref_id": 0, "value": 0, "label": "", **row} for row in rows]
    if batch:
        session.execute(insert(DashboardTally), batch)


def recount_day(session: Session, calendar: WorkingCalendar, day: dt.date, now: dt.datetime, *,
                events: bool = True, visits: bool = True) -> None:
    """Counts one office day again, replacing its rows (the caller commits)."""
    if events:
        _replace(session, day, _EVENT_DAY_MEASURES, list(_event_day_rows(session, calendar, day)))
    if visits:
        rows = _receipt_rows(session, calendar, day, day + dt.timedelta(days=1), TallyMeasure.STAGE_MINUTES, now)
        _replace(session, day, (TallyMeasure.STAGE_MINUTES,), list(rows))


def recount_month(session: Session, calendar: WorkingCalendar, month: dt.date, now: dt.datetime) -> None:
    """Counts the stage visits of a past month's dossiers as one month, dropping its day rows."""
    after = next_month(month)
    session.execute(delete(DashboardTally).where(
        DashboardTally.measure == TallyMeasure.STAGE_MINUTES, DashboardTally.day >= month, DashboardTally.day < after))
    rows = _receipt_rows(session, calendar, month, after, TallyMeasure.STAGE_MINUTES_MONTH, now)
    _replace(session, month, (TallyMeasure.STAGE_MINUTES_MONTH,), list(rows))


def kept_by_month(today: dt.date) -> dt.date:
    """Receipt days before this (the 1st of last month) are kept as whole months."""
    this_month = today.replace(day=1)
    return (this_month - dt.timedelta(days=1)).replace(day=1)


# --------------------------------------------------------------------------- the periodic refresh


def _local_days(calendar: WorkingCalendar, instants: Iterable[dt.datetime]) -> set[dt.date]:
    return {calendar.local_date(as_utc(t)) for t in instants}


def _days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def state(session: Session) -> DashboardState:
    """The one DashboardState row, made on first use."""
    found = session.get(DashboardState, 1)
    if found is None:
        found = DashboardState(id=1)
        session.add(found)
        session.flush()
    return found


def refresh(session: Session, calendar: WorkingCalendar, now: dt.datetime, *, rebuild: bool = False) -> RefreshReport:
    """Recounts every day something happened on since the last refresh (all days when there was
    none, or `rebuild`), one day per transaction. Run by one job at a time (app.jobs.queue)."""
    now = as_utc(now)
    through = state(session).through
    session.commit()
    today = calendar.local_date(now)
    if through is None or rebuild or as_utc(through) > now:  # none yet, asked, or a clock set back
        first = session.scalar(select(func.min(Dossier.submitted_at)))
        event_days = set(_days_between(calendar.local_date(as_utc(first)), today)) if first is not None else set()
        visit_days = set(event_days)
    else:
        since = as_stored(session, as_utc(through) - OVERLAP)
        # Every day from the last run to today (at least today: a quiet day still has rows of zero).
        event_days = set(_days_between(calendar.local_date(as_utc(through) - OVERLAP), today))
        moved = select(StageEvent.dossier_id).where(StageEvent.occurred_at >= since)
        visit_days = _local_days(calendar, session.scalars(
            select(Dossier.submitted_at).where(Dossier.id.in_(moved)).distinct()))
    boundary = kept_by_month(today)
    # Past months: those with a late move, and those that just passed the boundary (still in days).
    months = {day.replace(day=1) for day in visit_days if day < boundary} | {
        day.replace(day=1) for day in session.scalars(
            select(DashboardTally.day).where(DashboardTally.measure == TallyMeasure.STAGE_MINUTES,
                                             DashboardTally.day < boundary).distinct())}
    visit_days = {day for day in visit_days if day >= boundary}
    for day in sorted(event_days | visit_days):
        recount_day(session, calendar, day, now, events=day in event_days, visits=day in visit_days)
        session.commit()
    for month in sorted(months):
        recount_month(session, calendar, month, now)
        session.commit()
    kept = state(session)
    kept.through, kept.refreshed_at = now, now
    session.commit()
    return RefreshReport(days=len(event_days | visit_days), months=len(months), through=now)

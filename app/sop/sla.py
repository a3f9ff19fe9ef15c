"""The SLA clock in working time: office hours on working days, stopped while a dossier is returned.

Pure Python (no Flask): the calendar comes in as a WorkingCalendar (app.sop.calendar), the
history as StageEvent-like objects. All results are aware UTC datetimes; naive inputs are UTC
(SQLite hands stored datetimes back naive).

The model behind every function: a dossier has a budget of working time, from its submission to
its promised date (WorkingCalendar.due_at). The clock runs only inside office hours on working
days and stops during a pause (from a 'return' to the applicant until the 'resume'). The
remaining budget at an instant is

    left(now) = working time from now to the promised date (negative once past it)
              + working time spent paused up to now,

which equals the budget minus the working time used: it stays constant while the office is
closed or the dossier is returned, and the effective due date is where it reaches zero.

Working time is read from a table per calendar (WorkingTable: the office windows of whole years
with the working time accumulated before each), so a clock costs a few bisects whatever the
span; the day-by-day walk (_working_time_by_day, _advance_by_day) stays as the definition the
tables are tested against, and runs for calendars the tables do not take.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from app.sop.calendar import UTC, WorkingCalendar, as_utc

Pause = tuple[dt.datetime, dt.datetime | None]  # (returned at, resumed at or None)
Interval = tuple[dt.datetime, dt.datetime]

ADVANCE_ACTION = "advance"
RETURN_ACTION = "return"
RESUME_ACTION = "resume"
REJECT_ACTION = "reject"

_MINUTE = dt.timedelta(minutes=1)
_ZERO = dt.timedelta(0)
_TICK = dt.timedelta(microseconds=1)
# A calendar with no working day for this many consecutive days is a configuration error.
_MAX_IDLE_DAYS = 3660


class StageEventLike(Protocol):
    occurred_at: dt.datetime
    action: str
    from_stage_id: int | None
    to_stage_id: int | None


# --------------------------------------------------------------------------- intervals


def _office_windows(calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime | None) -> Iterator[Interval]:
    """Office hours of working days, clipped to [start, end) (end None: without end), in order."""
    day = calendar.local_date(start)
    last_day = calendar.local_date(end) if end is not None else None
    idle = 0
    while last_day is None or day <= last_day:
        if calendar.is_working_day(day):
            idle = 0
            opens, closes = max(calendar.opening(day), start), calendar.closing(day)
            if end is not None:
                closes = min(closes, end)
            if opens < closes:
                yield opens, closes
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days after {day}")
        day += dt.timedelta(days=1)


def _merged_pauses(pauses: Iterable[Pause], open_until: dt.datetime | None) -> list[Interval]:
    """Pauses as sorted, disjoint UTC intervals; an open pause (end None) ends at open_until.

    An open pause without open_until raises ValueError: it has no end to compute with.
    """
    intervals: list[Interval] = []
    for start, end in pauses:
        if end is None:
            if open_until is None:
                raise ValueError("an open pause (returned, not resumed) needs `now` to end it")
            end = open_until
        start, end = as_utc(start), as_utc(end)
        if start < end:
            intervals.append((start, end))
    intervals.sort()
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _without(window: Interval, pauses: list[Interval]) -> Iterator[Interval]:
    """The parts of window that no pause covers."""
    start, end = window
    for p_start, p_end in pauses:
        if p_end <= start:
            continue
        if p_start >= end:
            break
        if p_start > start:
            yield start, p_start
        start = max(start, p_end)
        if start >= end:
            return
    if start < end:
        yield start, end


def _active(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime | None, pauses: list[Interval]
) -> Iterator[Interval]:
    """Intervals in which the clock runs: office hours of working days, outside every pause."""
    for window in _office_windows(calendar, start, end):
        yield from _without(window, pauses)


def _working_time_by_day(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: list[Interval]
) -> dt.timedelta:
    """Running clock time in [start, end), walking the calendar day by day (the reference path)."""
    if end <= start:
        return _ZERO
    return sum((b - a for a, b in _active(calendar, start, end, pauses)), _ZERO)


def _advance_by_day(
    calendar: WorkingCalendar, start: dt.datetime, amount: dt.timedelta, pauses: list[Interval]
) -> dt.datetime:
    """Earliest instant at which `amount` of running clock time has passed since start, day by day."""
    if amount < _ZERO:
        raise ValueError("cannot add a negative amount of working time")
    if amount == _ZERO:
        return start
    for a, b in _active(calendar, start, None, pauses):
        if b - a >= amount:
            return a + amount
        amount -= b - a
    raise AssertionError("unreachable: _office_windows never ends without an end")  # pragma: no cover


# --------------------------------------------------------------------------- working-day tables
#
# The day-by-day walk above is the definition; the functions below give the same answers from a
# table of the calendar's office windows (one per working day, in UTC microseconds) with the
# working time accumulated before each. W(t), the working time from the table's first day up to
# t, is then one bisect, working time between two instants is W(end) - W(start) minus the same
# for each pause, and adding working time is a bisect on the accumulated sums. A table covers
# whole years, is built once per calendar (calendars are frozen and hashable) and grows when an
# instant falls outside it.

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_US = 60_000_000
# A run of _MAX_IDLE_DAYS days without a working day holds 2,614 weekdays; with fewer local days
# off than this, national holidays cannot fill it, so the tables never skip the idle-run error.
_TABLE_MAX_LOCAL_DAYS_OFF = 2000


def _us(instant: dt.datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, unlike timestamp())."""
    delta = instant - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


class WorkingTable:
    """Office windows of a calendar's working days from `first` to `last` (local dates, inclusive).

    Exact for instants in [lo, hi]: local midnight before `first` to local midnight after `last`.
    Immutable once built; extending makes a new table with the same `first`, so sums taken on
    the old one stay valid on the new one.
    """

    __slots__ = ("calendar", "first", "last", "lo", "hi", "opens", "closes", "before", "after")

    def __init__(self, calendar: WorkingCalendar, first: dt.date, last: dt.date,
                 base: WorkingTable | None = None) -> None:
        self.calendar, self.first, self.last = calendar, first, last
        tz = calendar.tz
        self.lo = _us(dt.datetime.combine(first, dt.time(), tzinfo=tz))
        self.hi = _us(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz))
        if base is not None:  # grow forward from base.last
            opens, closes, before, after = list(base.opens), list(base.closes), list(base.before), list(base.after)
            day, total = base.last + dt.timedelta(days=1), (base.after[-1] if base.after else 0)
        else:
            opens, closes, before, after = [], [], [], []
            day, total = first, 0
        while day <= last:
            if calendar.is_working_day(day):
                opening, closing = _us(calendar.opening(day)), _us(calendar.closing(day))
                opens.append(opening)
                closes.append(closing)
                before.append(total)
                total += closing - opening
                after.append(total)
            day += dt.timedelta(days=1)
        self.opens, self.closes, self.before, self.after = opens, closes, before, after

    def covers(self, us: int) -> bool:
        return self.lo <= us <= self.hi

    def at(self, us: int) -> int:
        """W(us): working microseconds from the table's start up to the instant."""
        k = bisect_right(self.opens, us) - 1
        if k < 0:
            return 0
        return self.before[k] + min(us, self.closes[k]) - self.opens[k]

    def reaching(self, total: int) -> int | None:
        """The earliest instant with W == total (total > 0); None if it lies past the table."""
        k = bisect_left(self.after, total)
        if k == len(self.after):
            return None
        return self.opens[k] + total - self.before[k]


class _Tables:
    """The current table of one calendar; replaced (never changed) when it must cover more."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.table: WorkingTable | None = None

    def covering(self, *instants: int) -> WorkingTable:
        table = self.table
        low, high = min(instants), max(instants)
        if table is not None and table.covers(low) and table.covers(high):
            return table
        local = [self.calendar.local_date(_instant(us)) for us in (low, high)]
        first_year, last_year = local[0].year, local[1].year + 1
        if table is not None:
            first_year, last_year = min(first_year, table.first.year), max(last_year, table.last.year)
        table = WorkingTable(self.calendar, dt.date(first_year, 1, 1), dt.date(last_year, 12, 31))
        self.table = table
        return table

    def longer(self, table: WorkingTable) -> WorkingTable:
        """table grown by five years (to add working time past its end)."""
        current = self.table
        if current is not None and current.first == table.first and current.last > table.last:
            return current
        if (table.last - table.first).days > 400 * 366:
            raise ValueError(f"no working time left in the calendar after {table.last}")
        grown = WorkingTable(self.calendar, table.first, dt.date(table.last.year + 5, 12, 31), base=table)
        self.table = grown
        return grown


@lru_cache(maxsize=32)
def _calendar_tables(calendar: WorkingCalendar) -> _Tables | None:
    if len(calendar.local_days_off) > _TABLE_MAX_LOCAL_DAYS_OFF:
        return None
    return _Tables(calendar)


def _tables(calendar: WorkingCalendar) -> _Tables | None:
    """The tables of a calendar, kept per calendar; None for one with so many local days off that
    the day-by-day walk must run (it reports a calendar without any working day for years), or
    for one that cannot be a cache key (local days off given as a set, not a frozenset)."""
    try:
        return _calendar_tables(calendar)
    except TypeError:
        return None


def working_table(calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime) -> WorkingTable | None:
    """A table of the calendar covering [start, end] (aware datetimes), or None (see _tables)."""
    tables = _tables(calendar)
    return None if tables is None else tables.covering(_us(start), _us(end))


def _working_time(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: list[Interval]
) -> dt.timedelta:
    """Running clock time in [start, end): office hours of working days, outside every pause."""
    if end <= start:
        return _ZERO
    tables = _tables(calendar)
    if tables is None:
        return _working_time_by_day(calendar, start, end, pauses)
    s, e = _us(start), _us(end)
    table = tables.table
    if table is None or not (table.lo <= s and e <= table.hi):
        table = tables.covering(s, e)
    at = table.at
    total = at(e) - at(s)
    for p_start, p_end in pauses:
        a, b = max(_us(p_start), s), min(_us(p_end), e)
        if a < b:
            total -= at(b) - at(a)
    return dt.timedelta(microseconds=total)


def _advance(
    calendar: WorkingCalendar, start: dt.datetime, amount: dt.timedelta, pauses: list[Interval]
) -> dt.datetime:
    """Earliest instant at which `amount` of running clock time has passed since start."""
    if amount < _ZERO:
        raise ValueError("cannot add a negative amount of working time")
    if amount == _ZERO:
        return start
    tables = _tables(calendar)
    if tables is None:
        return _advance_by_day(calendar, start, amount, pauses)
    need = (amount.days * 86400 + amount.seconds) * 1_000_000 + amount.microseconds
    cursor = _us(start)
    gaps = [(_us(a), _us(b)) for a, b in pauses]
    table = tables.covering(cursor, *(b for _, b in gaps))
    for a, b in gaps:  # the running stretches between the pauses, in order
        if b <= cursor:
            continue
        if a > cursor:
            available = table.at(a) - table.at(cursor)
            if available >= need:
                return _instant(table.reaching(table.at(cursor) + need))
            need -= available
        cursor = b
    target = table.at(cursor) + need
    while (found := table.reaching(target)) is None:
        table = tables.longer(table)
    return _instant(found)


def _minutes(amount: dt.timedelta) -> int:
    """Whole minutes, rounded down (so -30 seconds is -1: already late)."""
    return amount // _MINUTE


# --------------------------------------------------------------------------- the clock


def working_minutes(
    calendar: WorkingCalendar,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> int:
    """Working minutes between start and end (0 if end <= start), minus the paused intervals.

    Only office hours of working days count. An open pause (end None) ends at `end`.
    """
    start, end = as_utc(start), as_utc(end)
    return _minutes(_working_time(calendar, start, end, _merged_pauses(pauses, end)))


def add_working_minutes(calendar: WorkingCalendar, start: dt.datetime, minutes: int) -> dt.datetime:
    """The earliest instant at which `minutes` working minutes have passed since start (UTC).

    A start outside office hours begins counting at the next opening; a count that ends exactly
    at a closing time returns that closing time, not the next opening. 0 minutes returns start.
    """
    return _advance(calendar, as_utc(start), dt.timedelta(minutes=minutes), [])


def due_at(
    calendar: WorkingCalendar,
    submitted_at: dt.datetime,
    service_days: int,
    pauses: Sequence[Pause] = (),
    *,
    now: dt.datetime | None = None,
) -> dt.datetime:
    """The promised date (UTC), later by the working time the dossier spent returned.

    Without pauses this is WorkingCalendar.due_at: closing time of the service_days-th working
    day after the receiving day (the day of submission if it is a working day and the
    submission came before closing time, else the next working day). With pauses it is the
    instant at which the clock, stopped during each pause, has run the same working time as
    from submission to that promise. A pause that starts after the budget ran out moves
    nothing: a late dossier stays late. An open pause ends at `now` (the due date if the
    dossier were resumed now); without `now` it raises ValueError.
    """
    submitted = as_utc(submitted_at)
    promise = calendar.due_at(submitted, service_days)
    merged = _merged_pauses(pauses, as_utc(now) if now is not None else None)
    if not merged:
        return promise
    budget = _working_time(calendar, submitted, promise, [])
    return _advance(calendar, submitted, budget, [(max(a, submitted), b) for a, b in merged if b > submitted])


def _left(calendar: WorkingCalendar, due: dt.datetime, now: dt.datetime, pauses: Sequence[Pause]) -> dt.timedelta:
    """Remaining budget at now: signed working time to `due` plus working time paused until now."""
    due, now = as_utc(due), as_utc(now)
    if now <= due:
        to_due = _working_time(calendar, now, due, [])
    else:
        to_due = -_working_time(calendar, due, now, [])
    paused = [(a, min(b, now)) for a, b in _merged_pauses(pauses, now) if a < now]
    if paused:
        to_due += sum((_working_time(calendar, a, b, []) for a, b in paused), _ZERO)
    return to_due


def working_time_left(
    calendar: WorkingCalendar,
    due: dt.datetime,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> int:
    """Working minutes left at `now` (negative: minutes late), rounded down.

    `due` is the promise as it stands, with the pauses given here not yet in it: Dossier.due_at
    already includes every closed return (a resume moves it), so callers pass only the open
    return, if any. The working time paused up to now is added here, so a returned dossier's
    figure does not change while it waits. An open pause ends at now.
    """
    return _minutes(_left(calendar, due, now, pauses))


def clock(
    calendar: WorkingCalendar,
    due: dt.datetime,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> tuple[int, bool]:
    """(working_time_left, is_overdue) from one pass over the calendar, for a grid page."""
    left = _left(calendar, due, now, pauses)
    if left != _ZERO:
        return _minutes(left), left < _ZERO
    return 0, is_overdue(calendar, due, now, pauses)


def is_overdue(
    calendar: WorkingCalendar,
    due: dt.datetime,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> bool:
    """True once the budget ran out before now (terlambat).

    With due at 16.00 and no pauses: 16.00 itself is on time, 16.00.01, 17.00 and the next
    morning are late. `due` and pauses as in working_time_left.
    """
    left = _left(calendar, due, now, pauses)
    if left != _ZERO:
        return left < _ZERO
    # Exactly zero: on time if the budget runs out at this very instant, late if it ran out
    # earlier (the office has been closed, or the dossier returned, since).
    return _left(calendar, due, as_utc(now) - _TICK, pauses) == _ZERO


def is_due_today(
    calendar: WorkingCalendar,
    due: dt.datetime,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> bool:
    """True if the budget runs out later today, in the office's time zone (jatuh tempo hari ini).

    Disjoint from is_overdue. A dossier that is returned right now (an open pause covering
    now) is not due today: its clock is stopped and the office cannot finish it.
    """
    now = as_utc(now)
    if any(end is None and as_utc(start) <= now for start, end in pauses):
        return False
    if is_overdue(calendar, due, now, pauses):
        return False
    left = _left(calendar, due, now, pauses)
    return calendar.local_date(_advance(calendar, now, left, [])) == calendar.local_date(now)


# --------------------------------------------------------------------------- history


def return_pauses(events: Iterable[StageEventLike]) -> list[Pause]:
    """Pauses from a history in time order: each 'return' until the next 'resume' (None: not yet)."""
    pauses: list[Pause] = []
    started: dt.datetime | None = None
    for event in events:
        if event.action == RETURN_ACTION and started is None:
            started = as_utc(event.occurred_at)
        elif event.action == RESUME_ACTION and started is not None:
            pauses.append((started, as_utc(event.occurred_at)))
            started = None
    if started is not None:
        pauses.append((started, None))
    return pauses


@dataclass(frozen=True)
class StageVisit:
    """One stay of a dossier at a stage, in working time."""

    stage_id: int
    entered_at: dt.datetime
    left_at: dt.datetime | None  # None: the dossier is still at this stage
    working_minutes: int  # clock time spent here, pauses excluded
    paused_minutes: int  # working minutes the dossier was returned to the applicant meanwhile

    def exceeds(self, standard_minutes: int) -> bool:
        """True if the stay took longer than the stage's time standard (Stage.time_standard_minutes)."""
        return self.working_minutes > standard_minutes


def stage_durations(
    calendar: WorkingCalendar,
    events: Sequence[StageEventLike],
    now: dt.datetime,
    *,
    pauses: Sequence[Pause] | None = None,
) -> list[StageVisit]:
    """Working time per stage visit, from a dossier's history in time order.

    A visit starts with the event that brings the dossier to a stage ('submit', 'advance', or a
    'return'/'resume' that names another stage) and ends with the next event that moves it to
    another stage, with an 'advance' past the last stage (to_stage_id None: archived) or with a
    'reject' (final). Time from a 'return' until its 'resume' is not counted. The last visit,
    if nothing ended it, runs until now (left_at None). `pauses`: return_pauses(events), if the
    caller has it already.
    """
    now = as_utc(now)
    pauses = _merged_pauses(return_pauses(events) if pauses is None else pauses, now)
    spans: list[tuple[int, dt.datetime, dt.datetime | None]] = []
    current: int | None = None
    entered: dt.datetime | None = None
    for event in events:
        action, to_stage = event.action, event.to_stage_id
        if action == REJECT_ACTION or (action == ADVANCE_ACTION and to_stage is None):
            target = None  # rejected, or moved on past the last stage: no stage any more
        else:
            target = to_stage if to_stage is not None else current
        if target == current:
            continue
        at = as_utc(event.occurred_at)
        if current is not None and entered is not None:
            spans.append((current, entered, at))
        current, entered = target, at
    if current is not None and entered is not None:
        spans.append((current, entered, None))

    tables = _tables(calendar)
    if tables is None or not spans:
        visits = []
        for stage_id, start, end in spans:
            until = end if end is not None else now
            total = _working_time(calendar, start, until, [])
            running = _working_time(calendar, start, until, pauses)
            visits.append(StageVisit(stage_id, start, end, _minutes(running), _minutes(total - running)))
        return visits
    # One table lookup per distinct instant: W is monotone, so a pause clipped to a visit is
    # min(W(pause end), W(visit end)) - max(W(pause start), W(visit start)) when positive.
    points = dict.fromkeys([now, *(t for _, a, b in spans for t in (a, b) if t is not None),
                            *(t for p in pauses for t in p)])
    values = [_us(t) for t in points]
    low, high = min(values), max(values)
    table = tables.table
    if table is None or not (table.lo <= low and high <= table.hi):
        table = tables.covering(low, high)
    at = dict(zip(points, map(table.at, values)))
    paused_at = [(at[a], at[b]) for a, b in pauses]
    visits = []
    for stage_id, start, end in spans:
        w_start, w_until = at[start], at[end if end is not None else now]
        total = w_until - w_start if w_until > w_start else 0
        paused = 0
        for w_a, w_b in paused_at:
            clipped = (w_b if w_b < w_until else w_until) - (w_a if w_a > w_start else w_start)
            if clipped > 0:
                paused += clipped
        visits.append(StageVisit(stage_id, start, end, (total - paused) // _MINUTE_US, paused // _MINUTE_US))
    return visits

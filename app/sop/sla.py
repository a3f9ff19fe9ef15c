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
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.sop.calendar import WorkingCalendar, as_utc

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


def _working_time(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: list[Interval]
) -> dt.timedelta:
    """Running clock time in [start, end)."""
    if end <= start:
        return _ZERO
    return sum((b - a for a, b in _active(calendar, start, end, pauses)), _ZERO)


def _advance(
    calendar: WorkingCalendar, start: dt.datetime, amount: dt.timedelta, pauses: list[Interval]
) -> dt.datetime:
    """Earliest instant at which `amount` of running clock time has passed since start."""
    if amount < _ZERO:
        raise ValueError("cannot add a negative amount of working time")
    if amount == _ZERO:
        return start
    for a, b in _active(calendar, start, None, pauses):
        if b - a >= amount:
            return a + amount
        amount -= b - a
    raise AssertionError("unreachable: _office_windows never ends without an end")  # pragma: no cover


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
) -> list[StageVisit]:
    """Working time per stage visit, from a dossier's history in time order.

    A visit starts with the event that brings the dossier to a stage ('submit', 'advance', or a
    'return'/'resume' that names another stage) and ends with the next event that moves it to
    another stage, with an 'advance' past the last stage (to_stage_id None: archived) or with a
    'reject' (final). Time from a 'return' until its 'resume' is not counted. The last visit,
    if nothing ended it, runs until now (left_at None).
    """
    now = as_utc(now)
    pauses = _merged_pauses(return_pauses(events), now)
    spans: list[tuple[int, dt.datetime, dt.datetime | None]] = []
    current: int | None = None
    entered: dt.datetime | None = None
    for event in events:
        at = as_utc(event.occurred_at)
        if event.action == REJECT_ACTION or (event.action == ADVANCE_ACTION and event.to_stage_id is None):
            target = None  # rejected, or moved on past the last stage: no stage any more
        else:
            target = event.to_stage_id if event.to_stage_id is not None else current
        if target == current:
            continue
        if current is not None and entered is not None:
            spans.append((current, entered, at))
        current, entered = target, at
    if current is not None and entered is not None:
        spans.append((current, entered, None))

    visits = []
    for stage_id, start, end in spans:
        until = end if end is not None else now
        total = _working_time(calendar, start, until, [])
        running = _working_time(calendar, start, until, pauses)
        visits.append(StageVisit(stage_id, start, end, _minutes(running), _minutes(total - running)))
    return visits

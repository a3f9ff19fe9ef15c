"""The working-day tables give the SLA clock exactly the answers of the day-by-day walk.

app.sop.sla computes working time from a cached table of office windows (bisect on accumulated
working time); _working_time_by_day / _advance_by_day walk the calendar a day at a time and are
the definition. Hypothesis draws instants (to the microsecond), pauses, office hours, time zones
and local days off, and every public function must agree on both paths.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sop import sla
from app.sop.calendar import WorkingCalendar

UTC = dt.timezone.utc
FIRST, LAST = dt.datetime(2024, 11, 1, tzinfo=UTC), dt.datetime(2028, 3, 1, tzinfo=UTC)


@contextmanager
def day_by_day():
    """The public functions on the reference path."""
    with mock.patch.multiple(sla, _working_time=sla._working_time_by_day, _advance=sla._advance_by_day):
        yield


def both(function, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """(table answer, day-by-day answer); an exception counts as an answer (its type and text)."""
    def run():  # noqa: ANN202
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            return ("ValueError", str(error))

    fast = run()
    with day_by_day():
        slow = run()
    return fast, slow


instants = st.datetimes(
    min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None), timezones=st.just(UTC)
)
# Instants on office-hour boundaries are where off-by-one answers hide: draw them often.
edges = st.builds(
    lambda day, hour, minute, second: dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(
        days=day, hours=hour, minutes=minute, seconds=second),
    st.integers(0, 500), st.sampled_from([0, 8, 9, 17, 23]), st.sampled_from([0, 30, 59]), st.sampled_from([0, 59]),
)
moments = st.one_of(instants, edges)


@st.composite
def calendars(draw) -> WorkingCalendar:  # noqa: ANN001
    zone = draw(st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Amsterdam"]))
    opens = draw(st.sampled_from([dt.time(7, 30), dt.time(8, 0), dt.time(0, 0), dt.time(9, 15)]))
    closes = draw(st.sampled_from([dt.time(16, 0), dt.time(15, 0), dt.time(23, 59, 59), dt.time(12, 0)]))
    days_off = draw(st.frozensets(st.dates(dt.date(2024, 11, 1), dt.date(2028, 3, 1)), max_size=40))
    return WorkingCalendar(timezone=zone, opens=opens, closes=closes, local_days_off=days_off)


@st.composite
def pause_lists(draw) -> list[sla.Pause]:  # noqa: ANN001
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(moments)
        length = draw(st.one_of(st.none(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40))))
        pauses.append((start, None if length is None else start + length))
    return pauses


def closed(pauses: list[sla.Pause]) -> list[sla.Pause]:
    return [(a, b) for a, b in pauses if b is not None]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(calendars(), moments, moments, pause_lists())
def test_working_time_between_two_instants_is_the_day_by_day_sum(calendar, start, end, pauses):
    merged = sla._merged_pauses(pauses, end)
    fast, slow = both(sla._working_time, calendar, start, end, merged)
    assert fast == slow
    assert both(sla.working_minutes, calendar, start, end, pauses) == (sla._minutes(slow),) * 2


@SETTINGS
@given(calendars(), moments, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=60)), pause_lists())
def test_adding_working_time_lands_where_the_day_by_day_walk_lands(calendar, start, amount, pauses):
    merged = [(max(a, start), b) for a, b in sla._merged_pauses(closed(pauses), None) if b > start]
    fast, slow = both(sla._advance, calendar, start, amount, merged)
    assert fast == slow
    fast, slow = both(sla.add_working_minutes, calendar, start, amount // dt.timedelta(minutes=1))
    assert fast == slow


@SETTINGS
@given(calendars(), moments, st.integers(0, 30), pause_lists(), moments)
def test_due_dates_with_pauses_agree(calendar, submitted, service_days, pauses, now):
    fast, slow = both(sla.due_at, calendar, submitted, service_days, pauses, now=now)
    assert fast == slow


@SETTINGS
@given(calendars(), moments, moments, st.one_of(st.none(), moments))
def test_clock_overdue_and_due_today_agree(calendar, due, now, returned_at):
    pauses = [] if returned_at is None else [(returned_at, None)]
    for function in (sla.clock, sla.working_time_left, sla.is_overdue, sla.is_due_today):
        fast, slow = both(function, calendar, due, now, pauses)
        assert fast == slow, function.__name__


@dataclass
class Event:
    occurred_at: dt.datetime
    action: str
    from_stage_id: int | None
    to_stage_id: int | None


@st.composite
def histories(draw) -> list[Event]:  # noqa: ANN001
    at = draw(moments)
    events = [Event(at, "submit", None, 1)]
    stage = 1
    for _ in range(draw(st.integers(0, 8))):
        at += draw(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=9)))
        action = draw(st.sampled_from(["advance", "return", "resume", "reject"]))
        target = None if action == "reject" or draw(st.booleans()) and action == "advance" else stage + 1
        events.append(Event(at, action, stage, target))
        stage += 1
    return events


@SETTINGS
@given(calendars(), histories(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=30)))
def test_time_per_stage_agrees(calendar, history, later):
    now = history[-1].occurred_at + later
    fast, slow = both(sla.stage_durations, calendar, history, now)
    assert fast == slow
    assert sla.stage_durations(calendar, history, now, pauses=sla.return_pauses(history)) == fast


def test_a_table_is_built_once_per_calendar_and_grows_to_far_instants():
    calendar = WorkingCalendar(local_days_off=frozenset({dt.date(2031, 3, 3)}))
    start = dt.datetime(2026, 6, 1, 2, tzinfo=UTC)
    first = sla.working_table(calendar, start, start)
    assert sla.working_table(WorkingCalendar(local_days_off=frozenset({dt.date(2031, 3, 3)})), start, start) is first
    assert (first.first, first.last) == (dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    # Ten years of working time from 2026 runs past the table: it grows, and still agrees.
    far = sla.add_working_minutes(calendar, start, 10 * 250 * 510)
    with day_by_day():
        assert far == sla.add_working_minutes(calendar, start, 10 * 250 * 510)
    assert sla.working_table(calendar, far, far).last.year >= far.year
    # An instant before the table rebuilds it from that year on.
    assert sla.working_table(calendar, dt.datetime(2019, 5, 5, tzinfo=UTC), start).first == dt.date(2019, 1, 1)
    assert sla.working_minutes(calendar, dt.datetime(2019, 5, 6, 2, tzinfo=UTC), start) == both(
        sla.working_minutes, calendar, dt.datetime(2019, 5, 6, 2, tzinfo=UTC), start)[1]


def test_a_calendar_without_working_days_for_years_still_raises():
    """Too many local days off for the tables: the day-by-day walk runs and reports the calendar."""
    start = dt.date(2026, 1, 1)
    off = frozenset(start + dt.timedelta(days=n) for n in range(3700))
    calendar = WorkingCalendar(local_days_off=off)
    assert sla.working_table(calendar, dt.datetime(2026, 1, 2, tzinfo=UTC), dt.datetime(2026, 1, 2, tzinfo=UTC)) is None
    try:
        sla.add_working_minutes(calendar, dt.datetime(2026, 1, 2, tzinfo=UTC), 1)
    except ValueError as error:
        assert "no working day within 3660 days" in str(error)
    else:
        raise AssertionError("expected ValueError")


def test_a_calendar_with_its_days_off_in_a_set_still_counts_them():
    """A set is no cache key: such a calendar runs day by day, with the same answers."""
    day_off = dt.date(2026, 6, 2)
    loose = WorkingCalendar(local_days_off={day_off})  # type: ignore[arg-type]
    start, end = dt.datetime(2026, 6, 1, 2, tzinfo=UTC), dt.datetime(2026, 6, 4, 2, tzinfo=UTC)
    assert sla.working_table(loose, start, end) is None
    frozen = WorkingCalendar(local_days_off=frozenset({day_off}))
    assert sla.working_minutes(loose, start, end) == sla.working_minutes(frozen, start, end)
    assert sla.working_minutes(WorkingCalendar(), start, end) - sla.working_minutes(loose, start, end) == 510

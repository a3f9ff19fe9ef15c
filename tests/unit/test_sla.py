"""The SLA clock in working time, on dates worked out by hand (no Flask).

Office hours 07:30-16:00 WIB (UTC+7): 510 working minutes a day, Monday to Friday, minus the
national holidays and cuti bersama of the holidays package and the office's local days off.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from app.sop import sla
from app.sop.calendar import WorkingCalendar

WIB = dt.timezone(dt.timedelta(hours=7))
CAL = WorkingCalendar()


def wib(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=WIB)


def in_wib(value: dt.datetime) -> dt.datetime:
    assert value.tzinfo is not None
    return value.astimezone(WIB)


# --------------------------------------------------------------------------- across a weekend


def test_due_date_across_a_weekend():
    # Thu 26 Nov 2026 10.00: received Thursday (day 0). Working days after it: Fri 27 (1),
    # [Sat 28, Sun 29 skipped] Mon 30 (2), Tue 1 Dec (3), Wed 2 (4), Thu 3 Dec (5) -> 16.00.
    submitted = wib(11, 26, 10)
    assert in_wib(sla.due_at(CAL, submitted, 5)) == wib(12, 3, 16)
    assert sla.due_at(CAL, submitted, 5) == CAL.due_at(submitted, 5)
    # The budget: Thu 10.00-16.00 = 360, Fri 510, Mon-Thu 4 x 510 = 2040; 360 + 510 + 2040 = 2910.
    assert sla.working_minutes(CAL, submitted, wib(12, 3, 16)) == 2910


def test_working_minutes_and_their_inverse_across_a_weekend():
    # Fri 27 Nov 15.00 -> Mon 30 Nov 08.30: Friday 15.00-16.00 (60) + Monday 07.30-08.30 (60).
    assert sla.working_minutes(CAL, wib(11, 27, 15), wib(11, 30, 8, 30)) == 120
    assert in_wib(sla.add_working_minutes(CAL, wib(11, 27, 15), 120)) == wib(11, 30, 8, 30)
    # Exactly the rest of Friday: the clock stops at closing time, not at Monday's opening.
    assert in_wib(sla.add_working_minutes(CAL, wib(11, 27, 15), 60)) == wib(11, 27, 16)
    assert in_wib(sla.add_working_minutes(CAL, wib(11, 27, 15), 61)) == wib(11, 30, 7, 31)
    # A start on Saturday begins at Monday's opening.
    assert in_wib(sla.add_working_minutes(CAL, wib(11, 28, 10), 30)) == wib(11, 30, 8)
    # Nothing to count: the same instant; the whole weekend is worth nothing.
    assert sla.add_working_minutes(CAL, wib(11, 28, 10), 0) == wib(11, 28, 10)
    assert sla.working_minutes(CAL, wib(11, 27, 16), wib(11, 30, 7, 30)) == 0
    assert sla.working_minutes(CAL, wib(11, 30, 9), wib(11, 30, 8)) == 0  # end before start


def test_naive_datetimes_are_utc():
    # 03.00 UTC is 10.00 WIB: SQLite hands stored datetimes back naive, in UTC.
    naive = dt.datetime(2026, 11, 26, 3, 0)
    assert sla.due_at(CAL, naive, 5) == sla.due_at(CAL, wib(11, 26, 10), 5)
    assert sla.working_minutes(CAL, naive, dt.datetime(2026, 11, 26, 4, 30)) == 90


# --------------------------------------------------------------------------- Idul Fitri 2026


def test_idul_fitri_2026_and_its_cuti_bersama_are_not_working_days():
    # holidays lists 18 Mar (cuti bersama Nyepi), 19 (Nyepi), 20 (cuti Idul Fitri), 21-22
    # (Idul Fitri, a weekend anyway), 23 and 24 Mar (cuti bersama Idul Fitri).
    for day in (18, 19, 20, 23, 24):
        assert not CAL.is_working_day(dt.date(2026, 3, day)), day
    # Tue 17 Mar 2026 09.00: received Tuesday. After it: [18-24 off] Wed 25 (1), Thu 26 (2),
    # Fri 27 (3), [weekend] Mon 30 (4), Tue 31 Mar (5) -> 16.00.
    assert in_wib(sla.due_at(CAL, wib(3, 17, 9), 5)) == wib(3, 31, 16)
    # Tue 17 09.00 -> Wed 25 09.00 is 510 working minutes: Tue 09.00-16.00 (420) + Wed 07.30-09.00 (90).
    assert sla.working_minutes(CAL, wib(3, 17, 9), wib(3, 25, 9)) == 510
    # One working minute after Tuesday's close is Wednesday 25 March 07.31.
    assert in_wib(sla.add_working_minutes(CAL, wib(3, 17, 16), 1)) == wib(3, 25, 7, 31)


# --------------------------------------------------------------------------- after office hours


@pytest.mark.parametrize(
    "submitted",
    [
        wib(11, 27, 16),  # Friday exactly at closing time
        wib(11, 27, 17),  # Friday evening
        wib(11, 28, 10),  # Saturday
        wib(11, 30, 6),  # Monday before opening
        wib(11, 30, 15, 59),  # Monday, a minute before closing
    ],
)
def test_submission_after_office_hours_is_received_the_next_working_day(submitted):
    # All of these are received on Mon 30 Nov (day 0): Tue 1 (1), Wed 2 (2), Thu 3 (3),
    # Fri 4 (4), Mon 7 Dec (5) -> 16.00.
    assert in_wib(sla.due_at(CAL, submitted, 5)) == wib(12, 7, 16)


def test_submission_within_office_hours_counts_from_that_day():
    # Friday 15.59 is still Friday: Mon 30 (1), Tue 1 (2), Wed 2 (3), Thu 3 (4), Fri 4 Dec (5).
    assert in_wib(sla.due_at(CAL, wib(11, 27, 15, 59), 5)) == wib(12, 4, 16)
    # Received Friday evening: the budget is six full days, 6 x 510 = 3060 minutes.
    assert sla.working_minutes(CAL, wib(11, 27, 17), wib(12, 7, 16)) == 3060


# --------------------------------------------------------------------------- local day off


def test_a_local_day_off_is_skipped():
    local = WorkingCalendar(local_days_off=frozenset({dt.date(2026, 11, 30)}))
    # Fri 27 Nov 10.00 with Mon 30 Nov off: Tue 1 (1), Wed 2 (2), Thu 3 (3), Fri 4 (4),
    # Mon 7 Dec (5), one working day later than the national calendar's Fri 4 Dec.
    assert in_wib(sla.due_at(local, wib(11, 27, 10), 5)) == wib(12, 7, 16)
    assert in_wib(sla.due_at(CAL, wib(11, 27, 10), 5)) == wib(12, 4, 16)
    # Fri 15.00 -> Tue 08.30: Friday 60 + Tuesday 60; Monday counts nothing.
    assert sla.working_minutes(local, wib(11, 27, 15), wib(12, 1, 8, 30)) == 120
    assert in_wib(sla.add_working_minutes(local, wib(11, 27, 16), 30)) == wib(12, 1, 8)


def test_office_hours_are_configurable():
    short = WorkingCalendar(opens=dt.time(8, 0), closes=dt.time(15, 0))
    assert short.day_minutes == 420 and CAL.day_minutes == 510
    # Mon 30 Nov 14.30 + 60 working minutes: 30 on Monday, then Tuesday 08.00-08.30.
    assert in_wib(sla.add_working_minutes(short, wib(11, 30, 14, 30), 60)) == wib(12, 1, 8, 30)
    assert in_wib(sla.due_at(short, wib(11, 30, 9), 1)) == wib(12, 1, 15)
    with pytest.raises(ValueError):
        WorkingCalendar(opens=dt.time(16, 0), closes=dt.time(7, 30))


# --------------------------------------------------------------------------- a pause for a return

# Submitted Mon 30 Nov 08.00 (received Monday): promised Mon 7 Dec 16.00. Budget: Monday
# 08.00-16.00 (480) + 5 x 510 = 3030 working minutes.
SUBMITTED = wib(11, 30, 8)
PROMISE = wib(12, 7, 16)
# Returned Tue 1 Dec 14.00, resumed Thu 3 Dec 10.00. Paused working time: Tuesday 14.00-16.00
# (120) + Wednesday (510) + Thursday 07.30-10.00 (150) = 780 = one day (510) + 270 minutes.
RETURNED, RESUMED = wib(12, 1, 14), wib(12, 3, 10)
PAUSE = [(RETURNED, RESUMED)]


def test_a_return_pushes_the_due_date_by_the_working_time_paused():
    assert in_wib(sla.due_at(CAL, SUBMITTED, 5)) == PROMISE
    # 780 working minutes after Mon 7 Dec 16.00: all of Tue 8 Dec (510), then 270 minutes
    # from Wed 9 Dec 07.30 -> 12.00.
    assert in_wib(sla.due_at(CAL, SUBMITTED, 5, PAUSE)) == wib(12, 9, 12)
    # The clock ran 3030 working minutes from submission to that new due date, pauses excluded.
    assert sla.working_minutes(CAL, SUBMITTED, wib(12, 9, 12), PAUSE) == 3030
    # Still returned (open pause): the due date if the applicant came back now, Thu 10.00.
    assert in_wib(sla.due_at(CAL, SUBMITTED, 5, [(RETURNED, None)], now=RESUMED)) == wib(12, 9, 12)
    with pytest.raises(ValueError):
        sla.due_at(CAL, SUBMITTED, 5, [(RETURNED, None)])


def test_working_minutes_leave_out_pauses():
    # Mon 30 Nov 08.00 -> Thu 3 Dec 11.00 is 480 + 510 + 510 + 210 = 1710 working minutes; minus
    # the 780 paused: 930. An open pause ends at `end`: Tue 14.00 -> Thu 11.00 is 120+510+210 = 840.
    assert sla.working_minutes(CAL, SUBMITTED, wib(12, 3, 11)) == 1710
    assert sla.working_minutes(CAL, SUBMITTED, wib(12, 3, 11), PAUSE) == 930
    assert sla.working_minutes(CAL, SUBMITTED, wib(12, 3, 11), [(RETURNED, None)]) == 1710 - 840
    # Overlapping pauses count once.
    assert sla.working_minutes(CAL, SUBMITTED, wib(12, 3, 11), [*PAUSE, (wib(12, 2, 9), wib(12, 2, 10))]) == 930


def test_working_time_left_does_not_run_while_returned():
    # Used before the return: Monday 480 + Tuesday 07.30-14.00 (390) = 870; left 3030 - 870 = 2160.
    open_pause = [(RETURNED, None)]
    assert sla.working_time_left(CAL, PROMISE, wib(12, 1, 14), open_pause) == 2160
    assert sla.working_time_left(CAL, PROMISE, wib(12, 2, 12), open_pause) == 2160
    assert sla.working_time_left(CAL, PROMISE, wib(12, 3, 9, 59), open_pause) == 2160
    # Resumed Thu 10.00; an hour later 60 more minutes are used.
    assert sla.working_time_left(CAL, PROMISE, wib(12, 3, 11), PAUSE) == 2100
    # Without the return the same instant would leave 3030 - 1710 = 1320.
    assert sla.working_time_left(CAL, PROMISE, wib(12, 3, 11)) == 1320


def test_overdue_and_due_today():
    # Without a pause, due Mon 7 Dec 16.00: on time at 16.00 itself, late a second later, and
    # still late at 17.00 and the next morning although no working minute passed since.
    assert not sla.is_overdue(CAL, PROMISE, wib(12, 7, 16))
    assert sla.is_overdue(CAL, PROMISE, wib(12, 7, 16, 0, 1))
    assert sla.is_overdue(CAL, PROMISE, wib(12, 7, 17))
    assert sla.working_time_left(CAL, PROMISE, wib(12, 7, 17)) == 0
    assert sla.is_overdue(CAL, PROMISE, wib(12, 8, 7))
    # Tue 8 Dec 09.00: 90 minutes late (Tuesday 07.30-09.00).
    assert sla.working_time_left(CAL, PROMISE, wib(12, 8, 9)) == -90
    # With the return the new due date is Wed 9 Dec 12.00.
    assert not sla.is_overdue(CAL, PROMISE, wib(12, 8, 9), PAUSE)
    assert not sla.is_overdue(CAL, PROMISE, wib(12, 9, 12), PAUSE)
    assert sla.is_overdue(CAL, PROMISE, wib(12, 9, 12, 1), PAUSE)

    assert sla.is_due_today(CAL, PROMISE, wib(12, 7, 6))  # before opening on the due day
    assert sla.is_due_today(CAL, PROMISE, wib(12, 7, 15, 59))
    assert not sla.is_due_today(CAL, PROMISE, wib(12, 7, 16, 30))  # overdue instead
    assert not sla.is_due_today(CAL, PROMISE, wib(12, 6, 10))  # Sunday: due tomorrow
    assert not sla.is_due_today(CAL, PROMISE, wib(12, 7, 9), PAUSE)  # pushed to Wednesday
    assert sla.is_due_today(CAL, PROMISE, wib(12, 9, 9), PAUSE)
    # Returned right now: the clock stands still, nothing is due today.
    assert not sla.is_due_today(CAL, PROMISE, wib(12, 7, 9), [(wib(12, 7, 8), None)])


def test_a_return_after_the_due_date_does_not_make_a_late_dossier_punctual():
    # Due Mon 7 Dec 16.00, returned Tue 8 Dec 09.00 (90 minutes late), resumed Wed 9 Dec 09.00.
    late_pause = [(wib(12, 8, 9), wib(12, 9, 9))]
    assert in_wib(sla.due_at(CAL, SUBMITTED, 5, late_pause)) == PROMISE
    assert sla.working_time_left(CAL, PROMISE, wib(12, 8, 12), [(wib(12, 8, 9), None)]) == -90
    assert sla.working_time_left(CAL, PROMISE, wib(12, 9, 9), late_pause) == -90
    assert sla.is_overdue(CAL, PROMISE, wib(12, 8, 12), [(wib(12, 8, 9), None)])


# --------------------------------------------------------------------------- per stage


@dataclass
class Event:
    occurred_at: dt.datetime
    action: str
    from_stage_id: int | None
    to_stage_id: int | None


BERKAS, REGISTRASI, LOGIN, PENGISIAN = 1, 2, 3, 4

HISTORY = [
    Event(wib(11, 30, 8), "submit", None, BERKAS),
    Event(wib(11, 30, 8, 12), "advance", BERKAS, REGISTRASI),
    Event(wib(11, 30, 15, 50), "advance", REGISTRASI, LOGIN),
    Event(wib(12, 1, 8), "return", LOGIN, LOGIN),
    Event(wib(12, 3, 9), "resume", LOGIN, LOGIN),
    Event(wib(12, 3, 9, 20), "advance", LOGIN, PENGISIAN),
]


def test_stage_durations_on_a_small_history():
    visits = sla.stage_durations(CAL, HISTORY, now=wib(12, 4, 8))
    assert [v.stage_id for v in visits] == [BERKAS, REGISTRASI, LOGIN, PENGISIAN]
    berkas, registrasi, login, pengisian = visits
    # BERKAS: Mon 08.00-08.12 = 12 minutes, over a 10-minute standard.
    assert (berkas.working_minutes, berkas.paused_minutes) == (12, 0)
    assert berkas.exceeds(10) and not berkas.exceeds(12)
    # REGISTRASI: Mon 08.12-15.50 = 7 h 38 min = 458.
    assert registrasi.working_minutes == 458
    # LOGIN: Mon 15.50-16.00 (10) + Tue 07.30-08.00 (30) before the return, Thu 09.00-09.20 (20)
    # after the resume = 60. Paused: Tue 08.00-16.00 (480) + Wed (510) + Thu 07.30-09.00 (90) = 1080.
    assert (login.working_minutes, login.paused_minutes) == (60, 1080)
    assert login.entered_at == wib(11, 30, 15, 50) and login.left_at == wib(12, 3, 9, 20)
    # PENGISIAN_DATA is still open: Thu 09.20-16.00 (400) + Fri 07.30-08.00 (30) = 430 until now.
    assert pengisian.left_at is None and pengisian.working_minutes == 430
    assert sla.return_pauses(HISTORY) == [(wib(12, 1, 8), wib(12, 3, 9))]


def test_a_visit_ends_at_rejection_or_past_the_last_stage():
    rejected = [*HISTORY[:3], Event(wib(11, 30, 15, 55), "reject", LOGIN, LOGIN)]
    login = sla.stage_durations(CAL, rejected, now=wib(12, 10, 8))[-1]
    assert login.left_at == wib(11, 30, 15, 55) and login.working_minutes == 5
    archived = [*HISTORY[:3], Event(wib(12, 1, 7, 45), "advance", LOGIN, None)]
    login = sla.stage_durations(CAL, archived, now=wib(12, 10, 8))[-1]
    # Mon 15.50-16.00 (10) + Tue 07.30-07.45 (15).
    assert login.left_at == wib(12, 1, 7, 45) and login.working_minutes == 25
    # A dossier still returned: its open pause ends at now, the stage's clock stands still.
    returned = HISTORY[:4]
    login = sla.stage_durations(CAL, returned, now=wib(12, 10, 8))[-1]
    assert login.left_at is None and login.working_minutes == 40
    assert sla.return_pauses(returned) == [(wib(12, 1, 8), None)]


def test_stored_naive_history_is_read_as_utc():
    naive = [
        Event(e.occurred_at.astimezone(dt.timezone.utc).replace(tzinfo=None), e.action, e.from_stage_id, e.to_stage_id)
        for e in HISTORY
    ]
    assert sla.stage_durations(CAL, naive, now=wib(12, 4, 8)) == sla.stage_durations(CAL, HISTORY, now=wib(12, 4, 8))


def test_clock_agrees_with_its_two_halves():
    from app.sop.sla import clock, is_overdue, working_time_left

    calendar = WorkingCalendar()
    due = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone.utc)  # Friday 16.00 WIB
    for hours in (-30, -1, 0, 1, 7, 60, 200):
        now = due + dt.timedelta(hours=hours)
        for pauses in ((), ((due - dt.timedelta(hours=20), None),)):
            assert clock(calendar, due, now, pauses) == (
                working_time_left(calendar, due, now, pauses),
                is_overdue(calendar, due, now, pauses),
            )

"""Local days off: Admin adds them in a grid, the office calendar skips them, others only read."""
from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import delete, select

from app.extensions import db
from app.models import LocalHoliday
from app.office import office_calendar
from tests.conftest import csrf_token, post_form
from tests.web.helpers import indonesian, page_text

# A Monday with no national holiday: the office closes for a local occasion.
DAY_OFF = dt.date(2026, 12, 7)
WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture()
def no_local_holidays(app: Flask):
    yield
    with app.app_context():
        db.session.execute(delete(LocalHoliday).where(LocalHoliday.date == DAY_OFF))
        db.session.commit()


def _holidays(app: Flask) -> list[LocalHoliday]:
    with app.app_context():
        return list(db.session.scalars(select(LocalHoliday).where(LocalHoliday.date == DAY_OFF)))


def test_admin_adds_a_local_holiday_and_the_office_calendar_skips_it(app, login_as, no_local_holidays):  # noqa: ARG001
    with app.test_request_context():
        before = office_calendar()
    assert before.is_working_day(DAY_OFF)
    # Fri 4 Dec 2026 10.00 plus one working day: Monday 7 December.
    assert before.due_at(dt.datetime(2026, 12, 4, 10, tzinfo=WIB), 1) == dt.datetime(2026, 12, 7, 16, tzinfo=WIB)

    client = login_as("Admin")
    form = {"date": DAY_OFF.isoformat(), "name": "Cuti daerah Hari Jadi Kabupaten", "note": "SE Bupati No. 1/2026"}
    response = post_form(client, "/localholidayview/add", form, follow_redirects=True)
    assert response.status_code == 200
    assert [h.name for h in _holidays(app)] == ["Cuti daerah Hari Jadi Kabupaten"]

    listing = page_text(client.get("/localholidayview/list/"))
    assert "7 Desember 2026" in listing and "Cuti daerah Hari Jadi Kabupaten" in listing
    assert indonesian(app, "Local holidays") in listing

    with app.test_request_context():
        calendar = office_calendar()
        assert office_calendar() is calendar  # built once per request
    assert not calendar.is_working_day(DAY_OFF)
    # Monday is off now: the one working day after Friday is Tuesday 8 December.
    assert calendar.due_at(dt.datetime(2026, 12, 4, 10, tzinfo=WIB), 1) == dt.datetime(2026, 12, 8, 16, tzinfo=WIB)

    # The same day twice is refused.
    again = post_form(client, "/localholidayview/add", {**form, "name": "Lagi"})
    assert again.status_code == 200 and len(_holidays(app)) == 1


def test_office_hours_come_from_the_config(app):
    with app.test_request_context():
        calendar = office_calendar()
    assert (calendar.opens, calendar.closes) == (dt.time(7, 30), dt.time(16, 0))
    assert calendar.timezone == app.config["OFFICE_TIMEZONE"]


@pytest.mark.parametrize("role", ["Front Office", "Supervisor"])
def test_staff_read_local_holidays_but_cannot_add_one(app, login_as, no_local_holidays, role):  # noqa: ARG001
    client = login_as(role)
    assert client.get("/localholidayview/list/").status_code == 200
    token = csrf_token(client, "/resetmypassword/form")
    response = client.post(
        "/localholidayview/add",
        data={"date": DAY_OFF.isoformat(), "name": "Libur buatan sendiri", "csrf_token": token},
    )
    assert response.status_code in (302, 403)
    assert "/localholidayview/list" not in response.headers.get("Location", "")
    assert _holidays(app) == []
    with app.test_request_context():
        assert office_calendar().is_working_day(DAY_OFF)

"""The date picker in a real browser: Indonesian month and day names, dd/mm/yyyy typed or picked
with the format shown in the field, a pasted date kept, and the server storing what was typed.
All of it under the Content-Security-Policy, without a complaint from the browser."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import ADMIN, ADMIN_PASSWORD, logged_in_page
from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.browser

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
FIELD = "input[name=date]"
SWITCH = ".datepicker-days .datepicker-switch"  # the picker's "<month> <year>" title


def _paste(page, value: str) -> None:  # noqa: ANN001
    """A paste as the browser sends one (the picker listens for it), then the pasted text in place."""
    page.eval_on_selector(FIELD, """(input, value) => {
        const data = new DataTransfer();
        data.setData('text/plain', value);
        input.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        input.value = value;
    }""", value)


def test_a_date_typed_as_dd_mm_yyyy_in_an_indonesian_picker_is_saved(browser, live_server, live_app) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import LocalHoliday

    base, _ = live_server
    context, page = logged_in_page(browser, base, ADMIN, ADMIN_PASSWORD)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()
        watch.attach(page)
        assert watch.open(page, f"{base}/localholidayview/add") == []
        assert page.get_attribute(FIELD, "placeholder") == "hh/bb/tttt"

        page.click(FIELD)  # the picker opens on this month, in Indonesian
        title = page.inner_text(SWITCH)
        assert title.split()[0] in MONTHS, title
        days = page.locator(".datepicker-days thead th.dow").all_inner_texts()
        assert days[:2] == ["Sn", "Sl"], days  # the week starts on Monday (Senin)

        page.type(FIELD, "15/03/2019")
        assert page.inner_text(SWITCH) == "Maret 2019"  # the picker read what was typed
        page.click("body", position={"x": 5, "y": 5})  # away: the picker closes
        assert page.input_value(FIELD) == "15/03/2019"

        # Picked: the 20th of that month, written back as dd/mm/yyyy.
        page.click(FIELD)
        page.locator(".datepicker-days td.day:not(.old):not(.new)", has_text="20").first.click()
        assert page.input_value(FIELD) == "20/03/2019"

        # Pasted, then left: kept as pasted, not emptied nor rewritten.
        page.fill(FIELD, "")
        _paste(page, "15/03/2019")
        page.click("body", position={"x": 5, "y": 5})
        assert page.input_value(FIELD) == "15/03/2019"

        page.fill("input[name=name]", "Uji pemilih tanggal")
        with page.expect_navigation():
            page.click("form#model_form [type=submit]")
        with live_app.app_context():
            holiday = db.session.scalar(select(LocalHoliday).where(LocalHoliday.name == "Uji pemilih tanggal"))
            assert holiday is not None, page.inner_text("body")[:1500]
            assert holiday.date == dt.date(2019, 3, 15)
            holiday_id = holiday.id
        assert watch.open(page, f"{base}/localholidayview/edit/{holiday_id}") == []
        assert page.input_value(FIELD) == "15/03/2019"
        page.click(FIELD)
        assert page.inner_text(SWITCH) == "Maret 2019"
    finally:
        context.close()

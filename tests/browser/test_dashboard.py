"""The dashboard in a real chromium under the app's Content-Security-Policy: every chart drawn, no
complaint from the browser, a bar opens the grid of the dossiers it counts, a chart saves as PNG."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from tests.browser.conftest import PASSWORD, SUPERVISOR, logged_in_page
from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def office(live_app: Flask) -> None:
    """Dossiers at verification: late, due within a working day, on track; and the tallies counted."""
    from sqlalchemy import update

    from app.dashboard import tallies
    from app.extensions import db
    from app.models import Dossier
    from app.office import office_calendar
    from tests.factories import make_dossier

    now = dt.datetime.now(dt.UTC)
    with live_app.test_request_context():
        for due in (-dt.timedelta(days=3), -dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(days=8)):
            dossier = make_dossier(stage_code="VERIFIKASI")
            db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(due_at=now + due))
        db.session.commit()
        tallies.refresh(db.session, office_calendar(), now)


def test_the_supervisor_sees_every_chart_and_a_bar_opens_its_dossiers(browser, live_server, office) -> None:  # noqa: ARG001
    base, _ = live_server
    context, page = logged_in_page(browser, base, SUPERVISOR, PASSWORD)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()  # the listener applies to pages opened from now on
        watch.attach(page)
        assert watch.open(page, f"{base}/dasbor/") == []
        panels = page.locator(".dashboard-panel")
        assert panels.count() == 7  # six of the office's figures and the SKM index
        for index in range(panels.count()):
            panel = panels.nth(index)
            name = panel.get_attribute("data-name")
            svg = panel.locator("svg")
            assert svg.count() == 1, name
            box = svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 40, f"{name}: {box}"
            assert panel.locator("svg rect, svg circle, svg path, svg line").count() > 0, f"{name}: an empty chart"

        # The late dossiers' bar: clicking it lands on the grid filtered to them, with the same count.
        bar = page.locator('#panel-tahap-sekarang a.chart-link[href*="_flt_2_due_at"]').first
        counted = int(float(bar.get_attribute("data-count")))
        assert counted == 2
        with page.expect_navigation():
            bar.click()
        assert "/dossierview/list/" in page.url
        listed = re.search(r"Jumlah data:\s*([\d.]+)", page.inner_text("body"))
        assert listed and int(listed.group(1).replace(".", "")) == counted
        assert page.locator("table tbody tr a[href*='/dossierview/show/']").count() >= counted

        # Any chart saves as a PNG, drawn by dashboard.js under the same policy.
        assert watch.open(page, f"{base}/dasbor/") == []
        with page.expect_download() as download:
            page.locator('#panel-per-bulan .download-png').click()
        saved = download.value
        assert saved.suggested_filename == "per-bulan.png"
        with open(saved.path(), "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
        assert page.evaluate("window.__cspViolations") == []
    finally:
        context.close()

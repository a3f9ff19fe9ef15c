"""The company type-ahead in a real browser: the Front Office types part of a company's name in the
applicant form, picks the company among the matches the server sends, saves; the edit form shows
it again. All of it under the Content-Security-Policy, without a complaint from the browser."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.conftest import PASSWORD, USERNAME, logged_in_page
from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def companies(live_app: Flask) -> int:
    """Thirty namesakes and the company to pick: its id."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Company
    from tests.factories import make_company

    with live_app.app_context():
        db.session.execute(insert(Company), [
            {"name": f"PT Kapuas Raya {n}", "legal_form": "PT", "nib": f"{7140000000000 + n:013d}"} for n in range(30)
        ])
        db.session.commit()
        return make_company(name="CV Pelita Kapuas").id


def test_front_office_types_a_company_name_and_picks_it(browser, live_server, live_app, companies) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Applicant
    from tests.factories import valid_nik

    base, _ = live_server
    context, page = logged_in_page(browser, base, USERNAME, PASSWORD)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()
        watch.attach(page)
        assert watch.open(page, f"{base}/applicantview/add") == []
        assert page.locator("#company option").count() == 1  # the empty choice only: nothing listed
        page.click("#company + .select2 .select2-selection")
        page.fill(".select2-search__field", "pelita kap")
        page.locator(".select2-results__option", has_text="CV Pelita Kapuas").click()
        nik = valid_nik()
        page.fill("input[name=full_name]", "Yohanes Pelita")
        page.fill("input[name=nik]", nik)
        with page.expect_navigation():
            page.click("form#model_form [type=submit]")
        with live_app.app_context():
            applicant = db.session.scalar(select(Applicant).where(Applicant.nik == nik))
            assert applicant is not None, page.inner_text("body")[:1500]
            assert applicant.company_id == companies
            applicant_id = applicant.id
        assert watch.open(page, f"{base}/applicantview/edit/{applicant_id}") == []
        shown = page.inner_text("#company + .select2 .select2-selection__rendered")
        assert "CV Pelita Kapuas" in shown
        # Namesakes: the server sends at most 20, and only those matching.
        page.click("#company + .select2 .select2-selection")
        page.fill(".select2-search__field", "kapuas raya")
        page.wait_for_selector(".select2-results__option:has-text('PT Kapuas Raya')")
        page.wait_for_load_state("networkidle")
        options = page.locator(".select2-results__option").all_inner_texts()
        assert len(options) == 20 and all(text.startswith("PT Kapuas Raya ") for text in options), options
    finally:
        context.close()

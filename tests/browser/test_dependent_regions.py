"""The desa select follows the kecamatan in a real browser: the Front Office edits a company of
Ngabang, sees only Ngabang's desa, chooses another kecamatan, sees that kecamatan's desa instead,
picks one and saves. All of it under the Content-Security-Policy, without a complaint."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.conftest import PASSWORD, USERNAME, logged_in_page
from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.browser

REGENCY, NGABANG, MEMPAWAH_HULU = "61.08", "61.08.01", "61.08.02"
_DESA_VALUES = "() => Array.from(document.querySelectorAll('#desa_code option')).map(o => o.value)"


@pytest.fixture(scope="module")
def company(live_app: Flask) -> int:
    """A company of Ngabang on no dossier (so its edit asks no reason): its id."""
    from app.extensions import db
    from tests.factories import make_company

    with live_app.app_context():
        company_id = make_company(name="CV Desa Ikut", kecamatan_code=NGABANG, desa_code=f"{NGABANG}.2001").id
        db.session.remove()
        return company_id


def _choose(page, select_id: str, text: str) -> None:
    """Picks an option of a select2 the way an officer does: open it, type, click."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.locator(".select2-container--open .select2-results__option", has_text=text).first.click()


def test_choosing_a_kecamatan_lists_its_desa_only(browser, live_server, live_app, company) -> None:
    from app.extensions import db
    from app.models import Company
    from app.regions import desa_of, region_name

    base, _ = live_server
    ngabang = ["", *(code for code, _ in desa_of(REGENCY, NGABANG))]
    mempawah_hulu = ["", *(code for code, _ in desa_of(REGENCY, MEMPAWAH_HULU))]
    chosen_code, chosen_name = desa_of(REGENCY, MEMPAWAH_HULU)[1]
    context, page = logged_in_page(browser, base, USERNAME, PASSWORD)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()
        watch.attach(page)
        assert watch.open(page, f"{base}/companyview/edit/{company}") == []
        assert page.evaluate(_DESA_VALUES) == ngabang

        _choose(page, "kecamatan_code", region_name(MEMPAWAH_HULU))
        page.wait_for_function(f"() => ({_DESA_VALUES})().join() === {','.join(mempawah_hulu)!r}")
        assert page.evaluate("document.querySelector('#desa_code').value") == "", "the old desa is let go"

        _choose(page, "desa_code", chosen_name)
        with page.expect_navigation():
            page.click("form#model_form [type=submit]")
        assert "/edit/" not in page.url, page.inner_text("body")[:1500]
        with live_app.app_context():
            saved = db.session.get(Company, company)
            assert (saved.kecamatan_code, saved.desa_code) == (MEMPAWAH_HULU, chosen_code)
            db.session.remove()
        assert watch.console == [] and page.evaluate("window.__cspViolations") == []
    finally:
        context.close()

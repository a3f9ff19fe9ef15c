"""WTForms' built-in messages reach staff in Indonesian (app/i18n.py, wired in create_app).

FAB's form template also runs each error through Flask-Babel's ``_()``, and messages.po lists
"This field is required." (from FAB's messages.py), so that one message reads Indonesian on FAB
forms even without the hook. A formatted message such as Length's "... than 200 characters." is
in no messages catalog: only the wtforms catalog can translate it, so that test proves the hook.
"""
from __future__ import annotations

import pytest
from babel.support import Translations

from app.i18n import TRANSLATIONS_DIR, install_wtforms_translations
from app.models import Company
from tests.conftest import post_form
from tests.web.helpers import page_text
from tests.web.test_forms import company_form, count

pytestmark = pytest.mark.usefixtures("clean_db")

REQUIRED = "This field is required."
TOO_LONG = ("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.")


def _id_catalog() -> Translations:
    catalog = Translations.load(str(TRANSLATIONS_DIR), ["id"], domain="wtforms")
    assert isinstance(catalog, Translations), "no Indonesian wtforms catalog; run tools/i18n.sh"
    return catalog


def test_create_app_registers_the_wtforms_catalog(app) -> None:  # noqa: ANN001
    assert install_wtforms_translations in app.before_request_funcs.get(None, []), (
        "create_app() must call app.i18n.register_wtforms_catalog(app)"
    )


def test_missing_company_name_gets_the_indonesian_required_message(app, login_as) -> None:  # noqa: ANN001
    required_id = _id_catalog().ugettext(REQUIRED)
    assert required_id != REQUIRED
    client = login_as("Front Office")
    blank_form = page_text(client.get("/companyview/add"))
    assert required_id not in blank_form  # so finding it below means a field error
    before = count(app, Company)

    response = post_form(client, "/companyview/add", company_form(name=""))

    assert response.status_code == 200
    text = page_text(response)
    assert required_id in text
    assert REQUIRED not in text
    assert count(app, Company) == before


def test_too_long_company_name_gets_the_indonesian_length_message(app, login_as) -> None:  # noqa: ANN001
    # Company.name is String(200): FAB adds Length(max=200); WTForms formats the message itself.
    too_long_en = TOO_LONG[1] % {"max": 200}
    too_long_id = _id_catalog().ungettext(*TOO_LONG, 200) % {"max": 200}
    assert too_long_id != too_long_en
    client = login_as("Front Office")
    before = count(app, Company)

    response = post_form(client, "/companyview/add", company_form(name="x" * 201))

    assert response.status_code == 200
    text = page_text(response)
    assert too_long_id in text
    assert too_long_en not in text
    assert count(app, Company) == before

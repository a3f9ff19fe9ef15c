"""The company type-ahead: GET /companyview/lookup answers at most 20 matches by name or NIB to
whoever may list companies; the applicant form posts the chosen company's id, and an id that
names no company is an Indonesian form error."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import Applicant, Company
from app.views.typeahead import LOOKUP_LIMIT
from tests.conftest import post_form
from tests.factories import make_applicant, make_company, valid_nik
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")

NO_SUCH = "No such record; type a few letters or digits and choose one from the list."
NO_ACCESS_ROLE = "Tanpa Akses Uji"


def _namesakes(count: int) -> None:
    db.session.execute(insert(Company), [
        {"name": f"CV Sumber Rejeki {n}", "legal_form": "CV", "nib": f"{7130000000000 + n:013d}"} for n in range(count)
    ])
    db.session.commit()


def _lookup(client, q: str) -> list[dict]:  # noqa: ANN001
    response = client.get("/companyview/lookup", query_string={"q": q})
    assert response.status_code == 200
    return response.get_json()["results"]


def _indonesian(app: Flask, msgid: str) -> str:
    with app.test_request_context(), force_locale("id"):
        return gettext(msgid)


def test_lookup_answers_at_most_20_matches_of_every_typed_word(app, login_as):
    with app.app_context():
        _namesakes(LOOKUP_LIMIT + 15)
        make_company(name="PT Rejeki Lain")
    client = login_as("Back Office")
    results = _lookup(client, "sumber rejeki")
    assert len(results) == LOOKUP_LIMIT
    assert all(r["text"].startswith("CV Sumber Rejeki ") for r in results)
    assert {r["text"] for r in _lookup(client, "rejeki lain")} == {"PT Rejeki Lain · " + _nib_of(app, "PT Rejeki Lain")}
    assert _lookup(client, "") == [] and _lookup(client, "tidak ada yang begini") == []


def _nib_of(app: Flask, name: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Company.nib).where(Company.name == name))


def test_lookup_finds_a_company_by_its_nib_whole_or_begun(app, login_as):
    with app.app_context():
        _namesakes(30)
        wanted = db.session.scalar(select(Company).where(Company.name == "CV Sumber Rejeki 17"))
        wanted_id, nib = wanted.id, wanted.nib
    client = login_as("Front Office")
    assert [r["id"] for r in _lookup(client, nib)] == [wanted_id]
    spaced = f"{nib[:4]} {nib[4:8]} {nib[8:]}"
    assert [r["id"] for r in _lookup(client, spaced)] == [wanted_id]
    begun = _lookup(client, nib[:12])  # 713000000001x: ten companies
    assert wanted_id in {r["id"] for r in begun} and len(begun) == 10


def test_lookup_takes_odd_text_without_error(app, login_as):
    with app.app_context():
        make_company(name="PT 100% Jaya_Abadi")
        make_company(name="PT 1000 Jaya Abadi")
    client = login_as("Front Office")
    assert [r["text"].split(" · ")[0] for r in _lookup(client, "100%")] == ["PT 100% Jaya_Abadi"]
    assert _lookup(client, "x" * 5000) == []
    assert client.get("/companyview/lookup?q=a%00b").status_code == 400


@pytest.fixture()
def no_access_client(app, login_as):
    """A signed-in user whose role holds no permission at all."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role(NO_ACCESS_ROLE)
        user = sm.add_user("tanpa_akses_uji", "Tanpa", "Akses", "tanpa@uji.invalid", role, password="rahasia-uji-12")
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    yield client
    with app.app_context():
        sm = app.appbuilder.sm
        sm.del_register_user(sm.get_user_by_id(user_id))
        db.session.delete(sm.find_role(NO_ACCESS_ROLE))
        db.session.commit()


def test_lookup_is_refused_to_whoever_may_not_list_companies(app, login_as, no_access_client):
    with app.app_context():
        make_company(name="PT Rahasia Dagang")
    for client in (no_access_client, login_as(None)):
        response = client.get("/companyview/lookup?q=rahasia")
        assert response.status_code in (302, 401, 403)
        assert b"Rahasia Dagang" not in response.data


def test_applicant_form_takes_the_chosen_company_and_shows_it_on_edit(app, login_as):
    with app.app_context():
        _namesakes(30)
        company_id = db.session.scalar(select(Company.id).where(Company.name == "CV Sumber Rejeki 3"))
    client = login_as("Front Office")
    add_page = page_text(client.get("/applicantview/add"))
    assert 'class="form-control loket-typeahead"' in add_page and "CV Sumber Rejeki" not in add_page
    nik = valid_nik()
    response = post_form(client, "/applicantview/add", {"full_name": "Rina Wati", "nik": nik, "company": company_id})
    assert response.status_code == 302
    with app.app_context():
        applicant = db.session.scalar(select(Applicant).where(Applicant.nik == nik))
        assert applicant.company_id == company_id
        applicant_id = applicant.id
    edit_page = page_text(client.get(f"/applicantview/edit/{applicant_id}"))
    assert f'<option value="{company_id}" selected>CV Sumber Rejeki 3 · ' in edit_page
    assert "CV Sumber Rejeki 4" not in edit_page


@pytest.mark.parametrize("company", ["999999999", "abc", "-1", "99999999999999999999999", "1.5"])
def test_a_company_that_does_not_exist_is_an_indonesian_form_error(app, login_as, company):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Applicant))
    response = post_form(login_as("Front Office"), "/applicantview/add",
                         {"full_name": "Rina Wati", "nik": valid_nik(), "company": company})
    assert response.status_code == 200
    assert _indonesian(app, NO_SUCH) in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Applicant)) == before


def test_an_applicant_without_company_stays_without_one(app, login_as):
    with app.app_context():
        applicant = make_applicant(position="Pemilik")
        applicant_id = applicant.id
    client = login_as("Back Office")
    page = page_text(client.get(f"/applicantview/edit/{applicant_id}"))
    assert "loket-typeahead" in page and " selected>" not in page.split("loket-typeahead", 1)[1].split("</select>")[0]
    response = post_form(client, f"/applicantview/edit/{applicant_id}",
                         {"full_name": "Nama Baru", "nik": _nik(app, applicant_id), "company": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Applicant, applicant_id).company_id is None


def _nik(app: Flask, applicant_id: int) -> str:
    with app.app_context():
        return db.session.get(Applicant, applicant_id).nik

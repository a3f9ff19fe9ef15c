"""Add/edit forms: bad identity numbers get an Indonesian field error and nothing is saved."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Applicant, Company, Dossier, PermitType, StageEvent
from tests.conftest import post_form
from tests.factories import make_applicant, make_company, valid_nib, valid_nik, valid_npwp
from tests.web.helpers import indonesian, page_text

pytestmark = pytest.mark.usefixtures("clean_db")


def company_form(**overrides) -> dict:  # noqa: ANN003
    form = {
        "name": "PT Pool Ngabang Raya",
        "legal_form": "PT",
        "nib": valid_nib(),
        "npwp": valid_npwp(),
        "deed_number": "12",
        "deed_date": "2020-03-04",
        "sk_kemenkumham": "AHU-0012345.AH.01.01.TAHUN 2020",
        "address": "Jl. Pangeran Cinata No. 7",
        "kecamatan_code": "61.08.01",
        "desa_code": "61.08.01.2001",
        "phone": "0563 21234",
        "email": "admin@poolngabang.co.id",
    }
    form.update(overrides)
    return form


def count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("field", "value", "msgid"),
    [
        ("nib", "12345", "NIB must be exactly 13 digits."),
        ("npwp", "01.234.567.8-901", "NPWP must be 15 or 16 digits."),
        ("email", "admin@@poolngabang", "Email address is not valid."),
        ("desa_code", "61.08.02.2001", "This desa/kelurahan is not in the chosen kecamatan."),
    ],
)
def test_bad_company_field_gets_an_indonesian_error_and_nothing_is_saved(app, login_as, field, value, msgid):
    client = login_as("Front Office")
    before = count(app, Company)
    response = post_form(client, "/companyview/add", company_form(**{field: value}))
    assert response.status_code == 200
    assert indonesian(app, msgid) in page_text(response)
    assert count(app, Company) == before


def test_valid_company_is_saved_with_normalised_numbers(app, login_as):
    client = login_as("Front Office")
    nib = valid_nib()
    response = post_form(client, "/companyview/add", company_form(nib=f"{nib[:4]} {nib[4:]}", npwp="01.234.567.8-901.000"))
    assert response.status_code == 302
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.nib == nib))
        assert company is not None
        assert company.npwp == "012345678901000"
        assert company.desa_name == "Hilir Kantor"


def test_duplicate_nib_is_refused(app, login_as):
    with app.app_context():
        existing = make_company().nib
    client = login_as("Front Office")
    before = count(app, Company)
    response = post_form(client, "/companyview/add", company_form(nib=existing))
    assert response.status_code == 200
    assert count(app, Company) == before


@pytest.mark.parametrize(
    ("nik", "msgid"),
    [
        ("610801450895", "NIK must be exactly 16 digits."),
        ("6108013208950001", "NIK digits 7-12 are not a valid birth date (DDMMYY, women's day +40)."),
    ],
)
def test_bad_nik_gets_an_indonesian_error_and_nothing_is_saved(app, login_as, nik, msgid):
    client = login_as("Front Office")
    before = count(app, Applicant)
    response = post_form(client, "/applicantview/add", {"full_name": "Siti Aminah", "nik": nik, "email": "siti@contoh.id"})
    assert response.status_code == 200
    assert indonesian(app, msgid) in page_text(response)
    assert count(app, Applicant) == before


def test_unknown_region_in_nik_is_named(app, login_as):
    client = login_as("Front Office")
    response = post_form(client, "/applicantview/add", {"full_name": "Siti Aminah", "nik": "6199014508950001"})
    assert indonesian(app, "NIK region code %(code)s is not a known regency.", code="6199") in page_text(response)


def test_bad_edit_leaves_the_record_as_it_was(app, login_as):
    with app.app_context():
        applicant = make_applicant()
        applicant_id, nik = applicant.id, applicant.nik
    client = login_as("Front Office")
    url = f"/applicantview/edit/{applicant_id}"
    response = post_form(client, url, {"full_name": "Nama Baru", "nik": "123", "email": "baru@contoh.id"})
    assert response.status_code == 200
    with app.app_context():
        applicant = db.session.get(Applicant, applicant_id)
        assert (applicant.full_name, applicant.nik) != ("Nama Baru", "123")
        assert applicant.nik == nik


def test_front_office_opens_a_dossier_at_the_first_stage(app, login_as):
    with app.app_context():
        company = make_company()
        applicant = make_applicant(company)
        permit = db.session.scalar(select(PermitType))
        company_id = company.id
        form = dict(permit_type=permit.id, company_nib=company.nib, applicant_nik=applicant.nik)
    client = login_as("Front Office")
    response = post_form(client, "/dossierview/add", {**form, "notes": "Berkas dibawa langsung"})
    assert response.status_code == 302
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.company_id == company_id))
        assert dossier.applicant.nik == form["applicant_nik"]
        assert re.fullmatch(r"IPK-\d{2}-[0-9A-HJKMNP-TV-Z]{6}", dossier.receipt_number)
        assert dossier.stage.code == "BERKAS"
        assert dossier.status == "in_progress"
        assert dossier.due_at is not None and dossier.due_at > dossier.submitted_at
        events = db.session.scalars(select(StageEvent).where(StageEvent.dossier_id == dossier.id)).all()
        assert [(e.action, e.to_stage.code) for e in events] == [("submit", "BERKAS")]
        assert events[0].actor.username == "front_office"


def test_valid_nik_of_a_woman_is_accepted(app, login_as):
    client = login_as("Front Office")
    nik = valid_nik(female=True)
    response = post_form(client, "/applicantview/add", {"full_name": "Maria Goreti", "nik": nik})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Applicant).where(Applicant.nik == nik)) is not None


def test_a_dossier_for_an_unregistered_company_is_refused_in_indonesian(app, login_as):
    with app.app_context():
        applicant = make_applicant()
        form = dict(permit_type=db.session.scalar(select(PermitType)).id, company_nib=valid_nib(), applicant_nik=applicant.nik)
    before = count(app, Dossier)
    response = post_form(login_as("Front Office"), "/dossierview/add", form)
    assert response.status_code == 200
    msgid = "No company is registered with this NIB; register the company first."
    assert indonesian(app, msgid) in page_text(response)
    assert count(app, Dossier) == before

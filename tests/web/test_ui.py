"""What staff see: Indonesian first, English on request, dates as 28 November 2026 in WIB."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.formatting import format_day, format_moment
from app.models import Dossier
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import page_text


@pytest.fixture()
def dossier_id(app, clean_db):  # noqa: ARG001
    with app.app_context():
        company = make_company(name="PT Pool Ngabang Sejahtera")
        submitted = dt.datetime(2026, 11, 27, 20, 30, tzinfo=dt.timezone.utc)  # 28 Nov 03.30 WIB
        return make_dossier(company, make_applicant(company, full_name="Yohanes Aloysius"), submitted_at=submitted).id


def test_dossier_grid_is_in_indonesian_with_indonesian_dates(login_as, dossier_id):  # noqa: ARG001
    text = page_text(login_as("Front Office").get("/dossierview/list/"))
    for word in ("Berkas Permohonan", "Nomor Pendaftaran", "Tahapan", "Pemohon", "Perusahaan", "Cari"):
        assert word in text
    assert "28 November 2026 03.30" in text  # submitted 20.30 UTC the day before
    assert "Dalam proses" in text
    assert "PT Pool Ngabang Sejahtera" in text


def test_english_is_selectable(login_as, dossier_id):  # noqa: ARG001
    client = login_as("Front Office")
    client.get("/lang/en")
    text = page_text(client.get("/dossierview/list/"))
    assert "Dossiers" in text and "Receipt no." in text
    assert "Berkas Permohonan" not in text


def test_dossier_page_shows_its_documents_and_history(login_as, dossier_id):
    text = page_text(login_as("Back Office").get(f"/dossierview/show/{dossier_id}"))
    assert "Dokumen" in text and "Riwayat" in text
    assert "Diajukan" in text  # the history row of the submission, in words
    assert "Yohanes Aloysius" in text


def test_company_page_lists_its_own_dossiers_and_applicants_only(app, login_as, dossier_id):
    with app.app_context():
        company_id = db.session.get(Dossier, dossier_id).company_id
        receipt = db.session.get(Dossier, dossier_id).receipt_number
        other = make_company(name="CV Lain Sama Sekali")
        other_receipt = make_dossier(other, make_applicant(other, full_name="Orang Lain")).receipt_number
    text = page_text(login_as("Supervisor").get(f"/companyview/show/{company_id}"))
    assert receipt in text and "Yohanes Aloysius" in text
    assert other_receipt not in text and "Orang Lain" not in text


def test_openapi_lists_the_entities(login_as):
    spec = login_as("Front Office").get("/api/v1/_openapi").get_json()
    for path in ("/company/", "/applicant/", "/dossier/", "/document/", "/register_entry/", "/permit_type/"):
        assert f"/api/v1{path}" in spec["paths"]


def test_dates_read_the_indonesian_way_in_wib(app):
    with app.test_request_context(), force_locale("id"):
        assert format_day(dt.date(2026, 11, 28)) == "28 November 2026"
        assert format_day(dt.date(2026, 8, 17)) == "17 Agustus 2026"
        late_utc = dt.datetime(2026, 12, 31, 18, 0, tzinfo=dt.timezone.utc)
        assert format_moment(late_utc) == "1 Januari 2027 01.00"

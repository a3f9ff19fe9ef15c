"""Issuing, printing, verifying and revoking permits through the app, read back from the PDFs."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Dossier, Permit, PrintLog, RegisterEntry
from config import TestConfig
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"
ALL_VERIFIED = (
    "SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "AKTA_PENDIRIAN", "NIB", "NPWP", "KTP_PENANGGUNG_JAWAB",
    "BUKTI_PENGUASAAN_LAHAN", "DENAH_LOKASI", "DAFTAR_KENDARAAN", "BAP_PEMERIKSAAN_LAPANGAN",
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _issue(app, login_as) -> tuple[int, str]:  # noqa: ANN001
    """A dossier signed by the Kepala Dinas, then moved on by them into numbering: the real path."""
    with app.app_context():
        dossier_id = make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED).id
    client = login_as("Kepala Dinas")
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [dossier_id], "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "1 dari 1 berkas dipindahkan" in result
    with app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
    assert f"Izin nomor {permit.number} terbit" in result
    return dossier_id, permit.number


def test_moving_into_numbering_issues_the_permit_and_its_register_line(app, login_as):
    dossier_id, number = _issue(app, login_as)
    year = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))).year
    assert number == f"503/0001/IPK/DPMPTSPTK/{year}"
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        assert (dossier.stage.code, dossier.status) == ("PENOMORAN_CETAK", "issued")
        entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.dossier_id == dossier_id))
        assert (entry.permit_number, entry.register_number) == (number, f"REG/0001/{year}")
    second_id, second = _issue(app, login_as)
    assert second == f"503/0002/IPK/DPMPTSPTK/{year}"


def test_the_permit_pdf_carries_number_holder_legal_bases_and_signatory_and_reprints_the_same(app, login_as):
    dossier_id, number = _issue(app, login_as)
    client = login_as("Back Office")
    first = client.get(f"/papers/{dossier_id}/permit.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(first.data)
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        company, applicant = dossier.company.name, dossier.applicant.full_name
    for expected in (number, company, applicant, "Jl. Raya Ngabang Km 3", "Undang-Undang Nomor 22 Tahun 2009",
                     "PEMERINTAH KABUPATEN LANDAK", app.config["SIGNATORY_NIP"], "Halaman 1 dari"):
        assert expected in text, expected
    again = client.get(f"/papers/{dossier_id}/permit.pdf")
    assert pdf_text(again.data) == text, "a re-print is the same paper"
    with app.app_context():
        prints = db.session.scalars(select(PrintLog).where(PrintLog.dossier_id == dossier_id)).all()
        assert [(p.paper, p.printed_by.username) for p in prints] == [("permit", "back_office")] * 2
        assert prints[0].sha256 == prints[1].sha256


def test_the_receipt_lists_the_documents_and_the_promised_date(app, login_as):
    with app.app_context():
        dossier = make_dossier(verified=("PROFIL_PERUSAHAAN",))
        dossier_id, receipt = dossier.id, dossier.receipt_number
        promised = dossier.due_at
    response = login_as("Front Office").get(f"/papers/{dossier_id}/receipt.pdf")
    text = pdf_text(response.data)
    assert receipt in text and "Profil perusahaan" in text and "PROFIL_PERUSAHAAN.pdf" in text
    jakarta = (promised if promised.tzinfo else promised.replace(tzinfo=dt.UTC)).astimezone(
        dt.timezone(dt.timedelta(hours=7)))
    assert str(jakarta.year) in text and str(jakarta.day) in text
    assert "Tanpa Biaya" in text


def test_papers_not_yet_possible_say_why(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Back Office")
    permit = page_text(client.get(f"/papers/{dossier_id}/permit.pdf", follow_redirects=True))
    assert "Izin berkas ini belum terbit (belum diberi nomor); izin belum dapat dicetak." in permit
    letter = page_text(client.get(f"/papers/{dossier_id}/return_letter.pdf", follow_redirects=True))
    assert "belum pernah dikembalikan ke pemohon" in letter
    assert client.get(f"/papers/{dossier_id}/nonsense.pdf").status_code == 404


def test_return_letter_lists_what_is_missing_and_the_reason(app, login_as):
    with app.app_context():
        dossier_id = make_dossier(stage_code="TANDA_TERIMA_BERKAS").id
    client = login_as("Front Office")
    page_text(client.post("/dossiermoves/apply", data={
        "action": "return", "scope": "ids", "ids": [dossier_id], "note": "Denah lokasi tidak terbaca",
        "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    text = pdf_text(client.get(f"/papers/{dossier_id}/return_letter.pdf").data)
    assert "Denah lokasi tidak terbaca" in text
    assert "Surat permohonan" in text and "KTP penanggung jawab" in text


def test_public_verification_shows_only_the_permit_and_revocation_shows_there(app, login_as):
    dossier_id, number = _issue(app, login_as)
    with app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        token, permit_id = permit.token, permit.id
        dossier = db.session.get(Dossier, dossier_id)
        nik, company = dossier.applicant.nik, dossier.company.name
    public = login_as(None)
    page = page_text(public.get(f"/verifikasi/{token}"))
    assert number in page and company in page and "SAH" in page
    assert nik not in page and dossier.applicant.full_name not in page, "no personal data"
    unknown = public.get("/verifikasi/tidak-ada-token-seperti-ini")
    assert unknown.status_code == 404 and "Tidak ditemukan." in page_text(unknown)

    kadis = login_as("Kepala Dinas")
    assert "Alasan pencabutan" in page_text(kadis.get(f"/permitview/revoke/{permit_id}"))
    token_form = csrf_token(kadis, TOKEN_PAGE)
    too_short = page_text(kadis.post(f"/permitview/revoke/{permit_id}", data={"reason": "x", "csrf_token": token_form},
                                     follow_redirects=True))
    assert "Alasan pencabutan wajib diisi" in too_short
    done = page_text(kadis.post(f"/permitview/revoke/{permit_id}", data={
        "reason": "Lokasi pool dialihfungsikan menjadi pasar", "csrf_token": token_form}, follow_redirects=True))
    assert f"Izin {number} telah dicabut." in done
    assert "DICABUT" in page_text(public.get(f"/verifikasi/{token}"))
    refused = page_text(login_as("Back Office").get(f"/papers/{dossier_id}/permit.pdf", follow_redirects=True))
    assert "Izin ini sudah dicabut" in refused


def test_public_status_shows_stage_and_promise_without_personal_data(app, login_as):
    with app.app_context():
        dossier = make_dossier()
        receipt, applicant, company = dossier.receipt_number, dossier.applicant.full_name, dossier.company.name
    public = login_as(None)
    page = page_text(public.get(f"/status?nomor={receipt.lower()}"))
    assert receipt in page and "Berkas" in page and "Dijanjikan selesai" in page
    assert applicant not in page and company not in page
    missing = public.get("/status?nomor=IPK-26-000000")
    assert missing.status_code == 404 and "Tidak ditemukan." in page_text(missing)


def test_public_pages_are_rate_limited(tmp_path, monkeypatch):
    monkeypatch.setenv("LOKET_INSTANCE_PATH", str(tmp_path))

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'limited.db'}"
        RATELIMIT_ENABLED = True
        PUBLIC_RATE_LIMIT = "3 per minute"

    app = create_app(Limited)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = app.test_client()
    for url in ("/status?nomor=IPK-26-000000", "/verifikasi/tidak-ada"):
        assert [client.get(url).status_code for _ in range(4)] == [404, 404, 404, 429], url

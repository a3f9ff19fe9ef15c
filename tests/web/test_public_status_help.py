"""The public status page tells a receipt holder what to do next: what to bring back after a
return, where and when to collect an issued permit; and nothing the receipt holder lacks."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Document, Dossier, Permit, RequirementType, StageEvent
from app.public import MISSING_MARK
from config import TestConfig
from tests.conftest import csrf_token
from tests.factories import make_company, make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"
DOCUMENT_ITEM = "Dokumen belum ada atau belum diverifikasi: "  # app.sop.guards.missing_documents
FIELD_ITEM = "Isian belum diisi: "  # app.sop.guards.missing_fields


def shown(app: Flask, msgid: str, **kwargs) -> str:  # noqa: ANN003
    """The text the (Indonesian) page shows for this msgid."""
    with app.test_request_context(), force_locale("id"):
        return gettext(msgid, **kwargs)


def listed(page: str, list_id: str) -> list[str]:
    match = re.search(rf'<ul id="{list_id}">(.*?)</ul>', page, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def _return(app: Flask, login_as, reason: str) -> tuple[int, str]:  # noqa: ANN001
    """A dossier at the receipt stage with only its letter of application verified, returned by
    the Front Office through the real move."""
    with app.app_context():
        dossier_id = make_dossier(stage_code="TANDA_TERIMA_BERKAS", verified=("SURAT_PERMOHONAN",)).id
    client = login_as("Front Office")
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "return", "scope": "ids", "ids": [dossier_id], "note": reason,
        "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "1 dari 1 berkas dipindahkan" in result
    with app.app_context():
        return dossier_id, db.session.get(Dossier, dossier_id).receipt_number


def _issue(app: Flask, login_as) -> tuple[int, str, str]:  # noqa: ANN001
    """A dossier signed by the Kepala Dinas, then moved on by them into numbering: the real path."""
    with app.app_context():
        every = tuple(db.session.scalars(select(RequirementType.code)))
        dossier_id = make_dossier(stage_code="PENANDATANGANAN", verified=every).id
    client = login_as("Kepala Dinas")
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [dossier_id], "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "1 dari 1 berkas dipindahkan" in result
    with app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        return dossier_id, db.session.get(Dossier, dossier_id).receipt_number, permit.number


def _private(app: Flask, dossier_id: int) -> list[str]:
    """What the page must never show: the applicant's NIK and name, the company, every officer."""
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        officers = [event.actor for event in dossier.events if event.actor is not None]
        assert officers, "the moves were made by signed-in officers"
        return [dossier.applicant.nik, dossier.applicant.full_name, dossier.company.name,
                *(officer.full_name for officer in officers), *(officer.nip for officer in officers if officer.nip)]


def test_a_returned_dossier_lists_exactly_what_is_missing_and_the_officers_reason(app, login_as):
    dossier_id, receipt = _return(app, login_as, "Denah lokasi tidak terbaca")
    with app.app_context():
        note = db.session.scalar(select(StageEvent.note).where(
            StageEvent.dossier_id == dossier_id, StageEvent.action == "return"))
        letter_items = note.partition(MISSING_MARK)[2].split("; ")
    # What the Surat Pengembalian printed, as requirement names (the verified letter is not among them).
    expected = [item.removeprefix(DOCUMENT_ITEM) for item in letter_items if item.startswith(DOCUMENT_ITEM)]
    assert expected and "Surat permohonan" not in expected and "KTP penanggung jawab" in expected

    response = login_as(None).get(f"/status?nomor={receipt}")
    assert response.status_code == 200
    page = page_text(response)
    assert listed(page, "public-status-documents") == expected
    assert "Denah lokasi tidak terbaca" in page and shown(app, "What to complete") in page
    assert shown(app, "Bring these documents to the counter:") in page
    assert "Kekurangan" not in page, "the engine's list is shown as names, not as the raw note"
    assert app.config["OFFICE_HOURS"] in page
    for private in _private(app, dossier_id):
        assert private not in page, private


def test_blank_entries_are_listed_by_label_never_by_value(app, login_as):
    with app.app_context():
        every = tuple(db.session.scalars(select(RequirementType.code)))
        dossier = make_dossier(make_company(npwp=None), stage_code="ENTRY_DATA", verified=every)
        dossier_id, receipt, nib = dossier.id, dossier.receipt_number, dossier.company.nib
    client = login_as("Front Office")
    client.post("/dossiermoves/apply", data={
        "action": "return", "scope": "ids", "ids": [dossier_id], "note": "Data perusahaan belum lengkap",
        "csrf_token": csrf_token(client, TOKEN_PAGE)})
    with app.app_context():
        note = db.session.scalar(select(StageEvent.note).where(
            StageEvent.dossier_id == dossier_id, StageEvent.action == "return"))
    expected = [item.removeprefix(FIELD_ITEM) for item in note.partition(MISSING_MARK)[2].split("; ")]
    assert "NPWP perusahaan" in expected
    page = page_text(login_as(None).get(f"/status?nomor={receipt}"))
    assert listed(page, "public-status-fields") == expected and listed(page, "public-status-documents") == []
    assert "Data perusahaan belum lengkap" in page and nib not in page


def test_a_document_verified_after_the_return_drops_off_the_list(app, login_as):
    dossier_id, receipt = _return(app, login_as, "Lengkapi dokumen")
    public = login_as(None)
    before = listed(page_text(public.get(f"/status?nomor={receipt}")), "public-status-documents")
    with app.app_context():
        ktp = db.session.scalar(select(RequirementType).where(RequirementType.code == "KTP_PENANGGUNG_JAWAB"))
        db.session.add(Document(dossier_id=dossier_id, requirement_type_id=ktp.id, original_filename="ktp.pdf",
                                storage_key="k" * 64, size_bytes=1, sha256="k" * 64,
                                verified_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
    after = listed(page_text(public.get(f"/status?nomor={receipt}")), "public-status-documents")
    assert after == [name for name in before if name != "KTP penanggung jawab"] and len(after) == len(before) - 1


def test_an_issued_dossier_shows_its_permit_number_ready_to_collect_with_hours_and_address(app, login_as):
    dossier_id, receipt, number = _issue(app, login_as)
    page = page_text(login_as(None).get(f"/status?nomor={receipt}"))
    assert number in page and shown(app, "Permit issued — ready to collect") in page
    assert app.config["OFFICE_HOURS"] in page and app.config["LETTERHEAD_ADDRESS"] in page
    assert 'id="public-status-returned"' not in page and "Dijanjikan selesai" in page
    for private in _private(app, dossier_id):
        assert private not in page, private


def test_a_revoked_permit_says_so_and_is_not_ready_to_collect(app, login_as):
    dossier_id, receipt, number = _issue(app, login_as)
    with app.app_context():
        permit_id = db.session.scalar(select(Permit.id).where(Permit.dossier_id == dossier_id))
    kadis = login_as("Kepala Dinas")
    kadis.post(f"/permitview/revoke/{permit_id}", data={
        "reason": "Lokasi pool dialihfungsikan menjadi pasar", "csrf_token": csrf_token(kadis, TOKEN_PAGE)})
    with app.app_context():
        revoked_at = db.session.scalar(select(Permit.revoked_at).where(Permit.id == permit_id))
    assert revoked_at is not None
    page = page_text(login_as(None).get(f"/status?nomor={receipt}"))
    assert number in page and 'id="public-status-permit-standing"' in page
    assert shown(app, "Permit issued — ready to collect") not in page
    assert "Lokasi pool dialihfungsikan" not in page, "the revocation reason is internal"


def test_an_in_progress_dossier_keeps_stage_and_promise_and_no_help_boxes(app, login_as):
    with app.app_context():
        receipt = make_dossier().receipt_number
    page = page_text(login_as(None).get(f"/status?nomor={receipt}"))
    assert "Berkas" in page and "Dijanjikan selesai" in page
    assert 'id="public-status-returned"' not in page and 'id="public-status-ready"' not in page


def test_an_unknown_receipt_number_says_it_is_not_found(app, login_as):
    response = login_as(None).get("/status?nomor=IPK-26-ZZZZZZ")
    assert response.status_code == 404 and "Tidak ditemukan." in page_text(response)


def test_the_status_page_is_still_rate_limited(tmp_path, monkeypatch):
    monkeypatch.setenv("LOKET_INSTANCE_PATH", str(tmp_path))

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'limited.db'}"
        RATELIMIT_ENABLED = True
        PUBLIC_RATE_LIMIT = "2 per minute"

    limited = create_app(Limited)
    with limited.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = limited.test_client()
    assert [client.get("/status?nomor=IPK-26-000000").status_code for _ in range(3)] == [404, 404, 429]
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()

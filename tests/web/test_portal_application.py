"""The applicant's portal through HTTP: applying online with papers, the home, tracking, answering
a return, the receipt and the permit, and two applicants who try each other's ids."""
from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit import set_reason
from app.extensions import db
from app.models import Applicant, AuditEntry, Company, Document, Dossier, Permit, PermitType, PrintLog, StageEvent
from app.printing import permit_snapshot
from app.sop.machine import Action, move
from tests.conftest import csrf_token, role_username, signed_in_client, wipe_business_tables
from tests.factories import make_company, make_dossier, valid_nib, valid_nik, valid_npwp
from tests.paper_samples import LETTERHEAD, PERMIT
from tests.web.helpers import indonesian, page_text, statements_of
from tests.web.test_documents import pdf_bytes, png_bytes

APPLY = "/pemohon/permohonan/baru"
_numbers = itertools.count(7001)


class Person:
    """An applicant with a portal account, signed in by writing Flask-Login's session."""

    def __init__(self, app: Flask, name: str) -> None:
        n = next(_numbers)
        sm = app.appbuilder.sm
        email = f"pemohon{n}@contoh.co.id"
        user = sm.add_user(username=email, first_name=name, last_name="Uji", email=email,
                           role=sm.find_role("Pemohon"), password="Rahasia-Uji-123")
        applicant = Applicant(full_name=f"{name} Uji", nik=valid_nik(n), email=email, phone="081234567890",
                              account_id=user.id)
        db.session.add(applicant)
        db.session.commit()
        self.app, self.account_id, self.applicant_id, self.email = app, user.id, applicant.id, email

    def client(self):  # noqa: ANN201
        return signed_in_client(self.app, self.account_id)


@pytest.fixture()
def people(app: Flask):
    """Two applicants, A and B; afterwards the business tables and their accounts are gone."""
    with app.app_context():
        pair = Person(app, "Agustinus"), Person(app, "Bernadeta")
    yield pair
    with app.app_context():
        wipe_business_tables()
        sm = app.appbuilder.sm
        for person in pair:
            user = sm.get_user_by_id(person.account_id)
            user.roles = []
            db.session.delete(user)
        db.session.commit()
        wipe_business_tables()  # the trail of the deletions


def _requirements(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {r.code: r.id for r in db.session.scalar(select(PermitType)).requirements}


def _new_company(**overrides) -> dict:  # noqa: ANN003
    n = next(_numbers)
    values = {
        "company_id": "", "company_name": f"PT Pool Daring {n}", "legal_form": "PT", "nib": valid_nib(n),
        "npwp": valid_npwp(n), "deed_number": "AHU-12/2020", "deed_date": "2020-03-14", "sk_kemenkumham": "",
        "address": "Jl. Pangeran Cinata No. 7", "kecamatan_code": "61.08.01", "desa_code": "61.08.01.2001",
        "company_phone": "0563 21234", "company_email": "", "position": "Direktur",
        "site_address": "Jl. Raya Ngabang Km 4", "site_area_m2": "1200", "vehicle_capacity": "15",
    }
    return values | overrides


def _apply(client, data: dict, files: dict[int, tuple[bytes, str]] | None = None):  # noqa: ANN001, ANN202
    token = csrf_token(client, APPLY)
    with client.application.app_context():
        permit_type_id = db.session.scalar(select(PermitType.id))
    payload = {"permit_type_id": str(permit_type_id), **data, "csrf_token": token}
    for requirement_id, (content, name) in (files or {}).items():
        payload[f"req_{requirement_id}"] = (io.BytesIO(content), name)
    return client.post(APPLY, data=payload, content_type="multipart/form-data")


def _counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Dossier, Company, Document, StageEvent))


def _issue(dossier_id: int, stage_code: str = "PENYERAHAN") -> None:
    """The dossier as the Back Office leaves it after numbering: issued, at the handover."""
    set_reason(db.session, "penyiapan data uji")  # arranging a received dossier needs a reason
    dossier = db.session.get(Dossier, dossier_id)
    dossier.stage = next(s for s in dossier.permit_type.stages if s.code == stage_code)
    dossier.status = "issued"
    db.session.add(Permit(
        dossier=dossier, permit_type=dossier.permit_type, series="UJI", year=2026, seq=dossier_id,
        number=f"503/{dossier_id:04d}/IPK/DPMPTSPTK/2026", issued_at=dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC),
        issued_on=dt.date(2026, 11, 27), token=f"uji-portal-{dossier_id}",
        snapshot=permit_snapshot(PERMIT, LETTERHEAD, "F4"),
    ))
    db.session.commit()


def _own_dossier(person: Person, **kwargs) -> int:  # noqa: ANN003
    company = make_company()
    applicant = db.session.get(Applicant, person.applicant_id)
    return make_dossier(company, applicant, **kwargs).id


# ---------------------------------------------------------------------------- applying


def test_applying_with_a_new_company_and_papers_opens_the_dossier_as_the_applicant(app, people):
    a, _ = people
    client = a.client()
    req = _requirements(app)
    form = page_text(client.get(APPLY))
    for code, requirement_id in req.items():  # every paper the applicant hands in has its own slot
        assert (f'name="req_{requirement_id}"' in form) is (code != "BAP_PEMERIKSAAN_LAPANGAN")
    data = _new_company()
    response = _apply(client, data, {req["SURAT_PERMOHONAN"]: (pdf_bytes("Surat permohonan daring"), "surat.pdf"),
                                     req["DENAH_LOKASI"]: (png_bytes(), "denah.png")})
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.applicant_id == a.applicant_id))
        assert response.headers["Location"].endswith(f"/pemohon/berkas/{dossier.id}")
        assert dossier.submitted_online and dossier.stage.code == "BERKAS" and dossier.status == "in_progress"
        assert dossier.due_at is not None and dossier.receipt_number.startswith("IPK-")
        assert dossier.site_address == "Jl. Raya Ngabang Km 4" and dossier.vehicle_capacity == 15
        company = dossier.company
        assert (company.nib, company.npwp, company.desa_code) == (data["nib"], data["npwp"], "61.08.01.2001")
        assert [(e.action, e.actor_id) for e in dossier.events] == [("submit", a.account_id)]
        documents = db.session.scalars(select(Document).where(Document.dossier_id == dossier.id)).all()
        assert sorted(d.original_filename for d in documents) == ["denah.png", "surat.pdf"]
        assert {d.uploaded_by_id for d in documents} == {a.account_id}
        applicant = db.session.get(Applicant, a.applicant_id)
        assert (applicant.company_id, applicant.position) == (company.id, "Direktur")
        trail = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "dossier",
                                                            AuditEntry.record_id == dossier.id)).all()
        assert [(t.action, t.actor_id) for t in trail] == [("create", a.account_id)]
        receipt_number, dossier_id = dossier.receipt_number, dossier.id
    page = page_text(client.get(response.headers["Location"]))
    assert receipt_number in page and "Diajukan" in page and "Berkas" in page
    assert "Surat permohonan" in page and "surat.pdf" in page
    pdf = client.get(f"/pemohon/berkas/{dossier_id}/tanda-terima.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # No officer has received it yet: the applicant is not printed as the Front Office's signer.
    receipt = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert receipt_number in receipt and "Agustinus" in receipt.split("Petugas Front Office")[0]
    assert "Agustinus" not in receipt.split("Petugas Front Office", 1)[1]
    with app.app_context():
        log = db.session.scalars(select(PrintLog).where(PrintLog.dossier_id == dossier_id)).all()
        assert [(row.paper, row.printed_by_id) for row in log] == [("receipt", a.account_id)]
    home = page_text(client.get("/pemohon/"))
    assert receipt_number in home and company.name in home and "Izin Pool Kendaraan" in home


def test_an_existing_company_of_theirs_is_chosen_without_retyping_it(app, people):
    a, _ = people
    with app.app_context():
        dossier_id = _own_dossier(a)
        company_id = db.session.get(Dossier, dossier_id).company_id
    response = _apply(a.client(), {"company_id": str(company_id), "position": "Manajer", "nib": "salah"})
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        newest = db.session.scalar(select(Dossier).where(Dossier.applicant_id == a.applicant_id)
                                   .order_by(Dossier.id.desc()))
        assert newest.id != dossier_id and newest.company_id == company_id and newest.submitted_online


@pytest.mark.parametrize(("overrides", "msgid"), [
    ({"nib": "12345"}, "NIB must be exactly 13 digits."),
    ({"npwp": "12.345"}, "NPWP must be 15 or 16 digits."),
    ({"kecamatan_code": "61.08.02", "desa_code": "61.08.01.2001"},
     "This desa/kelurahan is not in the chosen kecamatan."),
])
def test_bad_legal_data_is_refused_in_indonesian_and_nothing_is_written(app, people, overrides, msgid):
    a, _ = people
    before = _counts(app)
    req = _requirements(app)
    data = _new_company(**overrides)
    response = _apply(a.client(), data, {req["SURAT_PERMOHONAN"]: (pdf_bytes(), "surat.pdf")})
    page = page_text(response)
    assert response.status_code == 200
    assert indonesian(app, msgid) in page
    assert _counts(app) == before
    assert data["company_name"] in page and data["address"] in page  # what was typed stays


def test_a_bad_file_refuses_the_whole_application(app, people):
    a, _ = people
    before = _counts(app)
    req = _requirements(app)
    response = _apply(a.client(), _new_company(), {req["SURAT_PERMOHONAN"]: (pdf_bytes(), "surat.pdf"),
                                                   req["DENAH_LOKASI"]: (b"MZ\x90\x00 not a paper", "denah.pdf")})
    assert response.status_code == 200
    assert "Jenis berkas tidak diizinkan" in page_text(response)
    assert _counts(app) == before


def test_a_registered_nib_attaches_only_with_its_npwp_and_never_changes_it(app, people):
    a, b = people
    with app.app_context():
        known = make_company(name="PT Sudah Terdaftar", address="Jl. Lama 1")
        nib, npwp, known_id = known.nib, known.npwp, known.id
    before = _counts(app)
    refused = _apply(b.client(), _new_company(nib=nib, npwp=valid_npwp(), company_name="PT Lain"))
    page = page_text(refused)
    assert refused.status_code == 200 and "Front Office" in page and "PT Sudah Terdaftar" not in page
    assert "Jl. Lama 1" not in page
    assert _counts(app) == before
    accepted = _apply(a.client(), _new_company(nib=nib, npwp=npwp, company_name="PT Nama Lain", address="Jl. Baru"))
    assert accepted.status_code == 302
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.applicant_id == a.applicant_id))
        assert dossier.company_id == known_id
        company = db.session.get(Company, known_id)
        assert (company.name, company.address) == ("PT Sudah Terdaftar", "Jl. Lama 1")


# ---------------------------------------------------------------------------- home and isolation


def test_the_home_lists_only_the_applicants_own_companies_and_dossiers(app, people):
    a, b = people
    with app.app_context():
        mine, theirs = _own_dossier(a), _own_dossier(b)
        mine_no, theirs_no = (db.session.get(Dossier, i).receipt_number for i in (mine, theirs))
        theirs_company = db.session.get(Dossier, theirs).company.name
    page = page_text(a.client().get("/pemohon/"))
    assert mine_no in page and theirs_no not in page and theirs_company not in page
    assert "Berkas" in page and 'id="portal-apply"' in page


def test_another_applicants_ids_answer_404_everywhere(app, people):
    a, b = people
    with app.app_context():
        dossier_id = _own_dossier(a)
        dossier = db.session.get(Dossier, dossier_id)
        company_id = dossier.company_id
        req = next(r.id for r in dossier.permit_type.requirements if r.code == "SURAT_PERMOHONAN")
    client_a = a.client()
    token = csrf_token(client_a, f"/pemohon/berkas/{dossier_id}")
    up = client_a.post(f"/pemohon/berkas/{dossier_id}/unggah", content_type="multipart/form-data",
                       data={"csrf_token": token, "requirement_id": req, "file": (io.BytesIO(pdf_bytes()), "a.pdf")})
    assert up.status_code == 302
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.dossier_id == dossier_id))
        _issue(dossier_id)
    assert client_a.get(f"/pemohon/dokumen/{document_id}").status_code == 200
    assert client_a.get(f"/pemohon/berkas/{dossier_id}/izin.pdf").status_code == 200

    client_b = b.client()
    token = csrf_token(client_b, "/pemohon/")
    for url in (f"/pemohon/berkas/{dossier_id}", f"/pemohon/berkas/{dossier_id}/tanda-terima.pdf",
                f"/pemohon/berkas/{dossier_id}/izin.pdf", f"/pemohon/dokumen/{document_id}"):
        assert client_b.get(url).status_code == 404, url
    for url in (f"/pemohon/berkas/{dossier_id}/unggah", f"/pemohon/berkas/{dossier_id}/kirim"):
        assert client_b.post(url, data={"csrf_token": token, "requirement_id": req}).status_code == 404, url
    before = _counts(app)
    chosen = _apply(client_b, {"company_id": str(company_id), "position": "Direktur"})
    assert chosen.status_code == 404
    assert _counts(app) == before


def test_staff_accounts_are_refused_the_portal(login_as):
    client = login_as("Front Office")
    assert client.get("/pemohon/").status_code == 403
    assert client.get(APPLY).status_code == 403


# ---------------------------------------------------------------------------- tracking and answering


def test_a_returned_dossier_shows_its_reason_and_takes_the_missing_papers(app, people):
    a, _ = people
    req = _requirements(app)
    with app.app_context():
        dossier_id = _own_dossier(a)
        fo = app.appbuilder.sm.find_user(username=role_username("Front Office")).id
        outcome = move(db.session, dossier_id, Action.RETURN, actor_id=fo, roles={"Front Office"},
                       note="Denah lokasi belum berskala.", now=dt.datetime.now(dt.UTC))
        assert outcome.moved
        db.session.commit()
    client = a.client()
    page = page_text(client.get(f"/pemohon/berkas/{dossier_id}"))
    assert "Denah lokasi belum berskala." in page and "Dikembalikan" in page
    assert "Profil perusahaan" in page  # the gate's missing paper, as the return letter printed it
    assert "Uji" not in page.split('id="portal-history"')[1]  # no officer named in the history
    token = csrf_token(client, f"/pemohon/berkas/{dossier_id}")
    up = client.post(f"/pemohon/berkas/{dossier_id}/unggah", content_type="multipart/form-data", data={
        "csrf_token": token, "requirement_id": req["PROFIL_PERUSAHAAN"],
        "file": (io.BytesIO(pdf_bytes("Profil perusahaan")), "profil.pdf")}, follow_redirects=True)
    assert "profil.pdf" in page_text(up)
    sent = client.post(f"/pemohon/berkas/{dossier_id}/kirim", data={"csrf_token": token}, follow_redirects=True)
    assert 'id="portal-resubmitted"' in page_text(sent)
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        assert dossier.resubmitted_at is not None
        document = db.session.scalar(select(Document).where(Document.dossier_id == dossier_id))
        assert document.uploaded_by_id == a.account_id and document.original_filename == "profil.pdf"
        trail = db.session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "dossier", AuditEntry.record_id == dossier_id, AuditEntry.action == "update")).all()
        assert [(t.actor_id, list(t.changes)) for t in trail] == [(a.account_id, ["resubmitted_at"])]


def test_papers_are_refused_once_the_office_works_the_dossier_and_kirim_only_when_returned(app, people):
    a, _ = people
    req = _requirements(app)
    with app.app_context():
        dossier_id = _own_dossier(a, stage_code="VERIFIKASI")
    client = a.client()
    page = page_text(client.get(f"/pemohon/berkas/{dossier_id}"))
    assert 'id="portal-upload-closed"' in page and 'class="portal-upload"' not in page
    token = csrf_token(client, f"/pemohon/berkas/{dossier_id}")
    up = client.post(f"/pemohon/berkas/{dossier_id}/unggah", content_type="multipart/form-data", data={
        "csrf_token": token, "requirement_id": req["DENAH_LOKASI"], "file": (io.BytesIO(pdf_bytes()), "d.pdf")},
        follow_redirects=True)
    assert "Berkas sedang diproses petugas" in page_text(up)
    sent = client.post(f"/pemohon/berkas/{dossier_id}/kirim", data={"csrf_token": token}, follow_redirects=True)
    assert "tidak sedang dikembalikan" in page_text(sent)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0
        assert db.session.get(Dossier, dossier_id).resubmitted_at is None


def test_an_issued_dossier_is_ready_to_collect_and_its_permit_downloads(app, people):
    a, _ = people
    with app.app_context():
        dossier_id = _own_dossier(a)
    client = a.client()
    assert 'id="portal-permit-pdf"' not in page_text(client.get(f"/pemohon/berkas/{dossier_id}"))
    early = client.get(f"/pemohon/berkas/{dossier_id}/izin.pdf")
    assert early.status_code == 302  # not numbered yet: back to the page with the reason
    with app.app_context():
        _issue(dossier_id)
    page = page_text(client.get(f"/pemohon/berkas/{dossier_id}"))
    assert 'id="portal-ready"' in page and 'id="portal-permit-pdf"' in page
    assert "Izin siap diambil" in page_text(client.get("/pemohon/"))
    pdf = client.get(f"/pemohon/berkas/{dossier_id}/izin.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        set_reason(db.session, "penyiapan data uji")
        permit.revoked_at = dt.datetime.now(dt.UTC)
        permit.revocation_reason = "Uji pencabutan"
        db.session.commit()
    page = page_text(client.get(f"/pemohon/berkas/{dossier_id}"))
    assert 'id="portal-permit-revoked"' in page and 'id="portal-permit-pdf"' not in page
    assert client.get(f"/pemohon/berkas/{dossier_id}/izin.pdf").status_code == 302


def test_the_home_reads_the_same_few_statements_for_one_dossier_or_many(app, people):
    a, _ = people
    client = a.client()
    with app.app_context():
        _own_dossier(a)
    one, _ = statements_of(app, client, "/pemohon/")
    with app.app_context():
        for _ in range(5):
            _own_dossier(a)
    many, page = statements_of(app, client, "/pemohon/")
    assert len(many) == len(one) <= 8, many
    assert page.count('class="panel panel-default portal-card') == 6

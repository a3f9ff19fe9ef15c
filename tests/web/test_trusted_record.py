"""An issued permit is a legal act: what it printed never changes, and the public check tells the
truth. Each test is one of the ways issue 11 found the record could be changed after the fact."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.audit import changes_by
from app.extensions import db
from app.models import AuditEntry, Company, Dossier, Permit, PermitType
from app.printing import describe_permits
from app.sop.machine import Action, move
from tests.conftest import csrf_token, post_form
from tests.factories import make_applicant, make_company, make_dossier
from tests.paper_samples import OFFICE
from tests.web.helpers import page_text
from tests.web.test_papers import ALL_VERIFIED, TOKEN_PAGE

pytestmark = pytest.mark.usefixtures("clean_db")

# After numbering (Back Office), handover (Front Office) and filing (Arsiparis), the dossier is archived.
_TO_THE_ARCHIVE = ("Back Office", "Front Office", "Arsiparis")


def _advance(client, dossier_id: int) -> str:  # noqa: ANN001
    return page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [dossier_id], "csrf_token": csrf_token(client, TOKEN_PAGE)}))


def _issued(app, login_as, archived: bool = True) -> tuple[int, Permit]:  # noqa: ANN001
    """A dossier signed and numbered by the Kepala Dinas through the move screen, then handed over
    and filed: archived, its permit issued."""
    with app.app_context():
        dossier_id = make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED).id
    assert "1 dari 1 berkas dipindahkan" in _advance(login_as("Kepala Dinas"), dossier_id)
    for role in _TO_THE_ARCHIVE if archived else ():
        assert "1 dari 1 berkas dipindahkan" in _advance(login_as(role), dossier_id)
    with app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        assert db.session.get(Dossier, dossier_id).status == ("archived" if archived else "issued")
        db.session.expunge(permit)
    return dossier_id, permit


def _revoke(login_as, permit_id: int, reason: str) -> None:  # noqa: ANN001
    kadis = login_as("Kepala Dinas")
    kadis.post(f"/permitview/revoke/{permit_id}", data={"reason": reason, "csrf_token": csrf_token(kadis, TOKEN_PAGE)})


def _verification(login_as, token: str) -> str:  # noqa: ANN001
    return page_text(login_as(None).get(f"/verifikasi/{token}"))


def _api_put(client, url: str, body: dict, reason: str | None = None):  # noqa: ANN001, ANN202
    headers = {"X-CSRFToken": csrf_token(client, TOKEN_PAGE)}
    if reason is not None:
        headers["X-Change-Reason"] = quote(reason)
    return client.put(url, json=body, headers=headers)


@pytest.mark.parametrize("role", ["Back Office", "Front Office", "Admin"])
def test_the_api_cannot_give_an_issued_permit_to_another_company(app, login_as, role):
    dossier_id, permit = _issued(app, login_as)
    with app.app_context():
        holder = db.session.get(Dossier, dossier_id).company.name
        other = make_company(name="PT Bukan Pemegang Izin").id
    response = _api_put(login_as(role), f"/api/v1/dossier/{dossier_id}", {"company": other}, "pindah pemegang")
    assert response.status_code in (403, 422), response.get_json()
    with app.app_context():
        assert db.session.get(Dossier, dossier_id).company_id != other
        assert not db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.entity == "dossier", AuditEntry.record_id == dossier_id, AuditEntry.action == "update"))
    page = _verification(login_as, permit.token)
    assert holder in page and "PT Bukan Pemegang Izin" not in page and "SAH" in page


def test_the_api_refuses_a_new_site_for_an_issued_permit_and_a_change_without_a_reason(app, login_as):
    dossier_id, permit = _issued(app, login_as)
    client = login_as("Back Office")
    frozen = _api_put(client, f"/api/v1/dossier/{dossier_id}", {"vehicle_capacity": 99}, "salah ketik kapasitas")
    assert frozen.status_code == 422 and "sudah terbit" in frozen.get_json()["message"]
    unexplained = _api_put(client, f"/api/v1/dossier/{dossier_id}", {"notes": "berkas lengkap"})
    assert unexplained.status_code == 422 and "Alasan perubahan wajib diisi" in unexplained.get_json()["message"]
    explained = _api_put(client, f"/api/v1/dossier/{dossier_id}", {"notes": "berkas lengkap"},
                         "catatan arsip ditambahkan")
    assert explained.status_code == 200, explained.get_json()
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        assert (dossier.vehicle_capacity, dossier.notes) == (12, "berkas lengkap")
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.entity == "dossier", AuditEntry.record_id == dossier_id, AuditEntry.action == "update"))
        assert entry.changes == {"notes": [None, "berkas lengkap"]} and entry.reason == "catatan arsip ditambahkan"
        assert entry.origin == "api" and entry.actor_name.startswith("back_office") and entry.address == "127.0.0.1"


def test_the_dossier_form_keeps_what_an_archived_permit_printed_and_the_reprint_stays_the_same(app, login_as):
    dossier_id, permit = _issued(app, login_as)
    client = login_as("Back Office")
    first = client.get(f"/papers/{dossier_id}/permit.pdf").data
    page = page_text(post_form(client, f"/dossierview/edit/{dossier_id}", {
        "site_address": "Jl. Lain No. 9, Ngabang", "site_area_m2": "", "vehicle_capacity": "99", "notes": "",
        "change_reason": "kapasitas bertambah",
    }, follow_redirects=True))
    assert "sudah terbit" in page and "kapasitas kendaraan" in page
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        assert (dossier.vehicle_capacity, dossier.site_address) == (12, "Jl. Raya Ngabang Km 3, Ngabang")
    assert client.get(f"/papers/{dossier_id}/permit.pdf").data == first
    assert "SAH" in _verification(login_as, permit.token)


def test_the_permit_says_what_it_printed_after_its_company_is_renamed(app, login_as):
    dossier_id, permit = _issued(app, login_as)
    client = login_as("Front Office")
    first = client.get(f"/papers/{dossier_id}/permit.pdf").data
    with app.app_context():
        company = db.session.get(Dossier, dossier_id).company
        company_id, old_name, old_nib = company.id, company.name, company.nib
        region = {"kecamatan_code": company.kecamatan_code, "desa_code": company.desa_code}
    refused = page_text(post_form(client, f"/companyview/edit/{company_id}", {
        "name": "PT Nama Baru Sejahtera", "legal_form": "PT", "nib": old_nib, "change_reason": "", **region,
    }, follow_redirects=True))
    assert "Alasan perubahan wajib diisi" in refused
    post_form(client, f"/companyview/edit/{company_id}", {
        "name": "PT Nama Baru Sejahtera", "legal_form": "PT", "nib": "9120000000999", "npwp": "",
        "change_reason": "akta perubahan nama 12/2026", **region,
    })
    with app.app_context():
        assert db.session.get(Company, company_id).name == "PT Nama Baru Sejahtera"
    page = _verification(login_as, permit.token)
    assert old_name in page and "PT Nama Baru Sejahtera" not in page
    assert client.get(f"/papers/{dossier_id}/permit.pdf").data == first
    # The company's page shows the change, who made it and why.
    trail = page_text(client.get(f"/companyview/show/{company_id}")).split('id="record-trail"', 1)[1]
    assert f"{old_name} → PT Nama Baru Sejahtera" in trail and "akta perubahan nama 12/2026" in trail
    assert f"{old_nib} → 9120000000999" in trail


def test_the_public_check_says_expired_revoked_and_replaced_plainly(app, login_as):
    with app.app_context(), changes_by(db.session, reason="masa berlaku untuk uji"):
        permit_type = db.session.scalar(select(PermitType))
        permit_type.validity_months = 12
        db.session.commit()
        dossier = make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED)
        two_years_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
        assert move(db.session, dossier.id, Action.ADVANCE, actor_id=None, roles={"Kepala Dinas"}, note=None,
                    now=two_years_ago, describe_permit=describe_permits(OFFICE)).moved
        db.session.commit()
        expired = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier.id))
        token, valid_until = expired.token, expired.valid_until
        permit_type.validity_months = None
        db.session.commit()
    page = _verification(login_as, token)
    assert "KEDALUWARSA" in page and "SAH" not in page
    assert f"berakhir pada {valid_until.day} " in page

    _, revoked = _issued(app, login_as, archived=False)
    _revoke(login_as, revoked.id, "Lokasi pool dialihfungsikan")
    page = _verification(login_as, revoked.token)
    assert "DICABUT" in page and "tidak berlaku lagi" in page and "SAH" not in page


def test_a_correction_is_a_revocation_and_a_new_dossier_whose_permit_replaces_the_old(app, login_as):
    old_dossier_id, old = _issued(app, login_as)
    front_office = login_as("Front Office")
    assert "masih berlaku" in page_text(front_office.get(f"/permitcorrections/{old.id}", follow_redirects=True))
    _revoke(login_as, old.id, "Kapasitas tercetak salah (25)")

    form = page_text(front_office.get(f"/permitcorrections/{old.id}"))
    assert "Jl. Raya Ngabang Km 3, Ngabang" in form, "pre-filled from the revoked permit's dossier"
    with app.app_context():
        old_dossier = db.session.get(Dossier, old_dossier_id)
        nib, nik = old_dossier.company.nib, old_dossier.applicant.nik
    opened = page_text(post_form(front_office, f"/permitcorrections/{old.id}", {
        "company_nib": nib, "applicant_nik": nik, "site_address": "Jl. Raya Ngabang Km 3, Ngabang",
        "site_area_m2": "", "vehicle_capacity": "20", "notes": "Kapasitas yang benar 20 kendaraan",
    }, follow_redirects=True))
    assert "Berkas perbaikan" in opened
    assert "sudah memiliki berkas perbaikan" in page_text(
        front_office.get(f"/permitcorrections/{old.id}", follow_redirects=True)), "one correction at a time"
    with app.app_context():
        new = db.session.scalar(select(Dossier).where(Dossier.corrects_permit_id == old.id))
        assert (new.vehicle_capacity, new.stage.code, new.company.nib) == (20, "BERKAS", nib)
        # The correction goes through the SOP like any dossier; here it is placed at signing.
        with changes_by(db.session, reason="uji: langsung ke penandatanganan"):
            new.stage = next(s for s in new.permit_type.stages if s.code == "PENANDATANGANAN")
            db.session.commit()
        new_id = new.id
    _verify_all(app, new_id)
    assert "1 dari 1 berkas dipindahkan" in _advance(login_as("Kepala Dinas"), new_id)
    with app.app_context():
        replacement = db.session.scalar(select(Permit).where(Permit.dossier_id == new_id))
        assert replacement.supersedes_id == old.id
        token = replacement.token
    old_page = _verification(login_as, old.token)
    assert "DICABUT DAN DIGANTI" in old_page and replacement.number in old_page
    assert f"/verifikasi/{token}" in login_as(None).get(f"/verifikasi/{old.token}").get_data(as_text=True)
    assert old.number in _verification(login_as, token) and "Menggantikan" in _verification(login_as, token)


def _verify_all(app, dossier_id: int) -> None:  # noqa: ANN001
    from app.models import Document

    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        for requirement in dossier.permit_type.requirements:
            if requirement.code in ALL_VERIFIED:
                db.session.add(Document(
                    dossier_id=dossier_id, requirement_type_id=requirement.id,
                    original_filename=f"{requirement.code}.pdf", storage_key="c" * 64, size_bytes=1,
                    sha256=f"{dossier_id:08d}{requirement.id:056d}", verified_at=dt.datetime.now(dt.UTC),
                ))
        db.session.commit()


def test_admin_neither_revokes_a_permit_nor_moves_a_dossier(app, login_as):
    dossier_id, permit = _issued(app, login_as, archived=False)
    admin = login_as("Admin")
    token = csrf_token(admin, TOKEN_PAGE)
    revoke = admin.post(f"/permitview/revoke/{permit.id}", data={"reason": "Admin mencoba mencabut", "csrf_token": token})
    moved = admin.post("/dossiermoves/apply", data={"action": "advance", "scope": "ids", "ids": [dossier_id],
                                                    "csrf_token": token})
    for response in (revoke, moved):
        assert response.status_code in (302, 403) and "/login" in response.headers.get("Location", "/login")
    with app.app_context():
        assert db.session.get(Permit, permit.id).revoked_at is None
        assert db.session.get(Dossier, dossier_id).stage.code == "PENOMORAN_CETAK"


def test_a_dossier_opened_for_another_applicant_needs_no_reason_but_its_edits_do(app, login_as):
    with app.app_context():
        company = make_company()
        applicant = make_applicant(company)
        dossier_id = make_dossier(company, applicant).id
    client = login_as("Front Office")
    refused = page_text(post_form(client, f"/dossierview/edit/{dossier_id}", {
        "site_address": "Jl. Baru", "site_area_m2": "", "vehicle_capacity": "12", "notes": "", "change_reason": "",
    }, follow_redirects=True))
    assert "Alasan perubahan wajib diisi" in refused
    post_form(client, f"/dossierview/edit/{dossier_id}", {
        "site_address": "Jl. Baru", "site_area_m2": "", "vehicle_capacity": "12", "notes": "",
        "change_reason": "alamat dikoreksi pemohon",
    })
    history = page_text(client.get(f"/dossierview/show/{dossier_id}")).split('id="dossier-history"', 1)[1]
    assert "Jl. Raya Ngabang Km 3, Ngabang → Jl. Baru" in history and "alamat dikoreksi pemohon" in history

"""Every change audited and nothing deleted behind the office's back: the trail, its grid, the
database's own guards, deletes of records in use, and undo that never destroys staff work."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    AuditEntry,
    Company,
    Dossier,
    ImportBatch,
    LocalHoliday,
    Permit,
    RegisterEntry,
    StageEvent,
)
from tests.conftest import csrf_token, post_form
from tests.factories import make_applicant, make_company, make_dossier, valid_nib
from tests.web.helpers import page_text
from tests.web.test_imports import _batch_id, _preview, _xlsx
from tests.web.test_papers import TOKEN_PAGE
from tests.web.test_trusted_record import _issued

pytestmark = pytest.mark.usefixtures("clean_db")


def _trail(entity: str, record_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.record_id == record_id).order_by(AuditEntry.id)))


# ---------------------------------------------------------------------------- the trail itself


def test_a_company_edit_records_who_when_from_where_each_field_and_why(app, login_as):
    with app.app_context():
        company = make_company(name="PT Jejak Awal")
        make_dossier(company)
        company_id, nib = company.id, company.nib
        region = {"kecamatan_code": company.kecamatan_code, "desa_code": company.desa_code}
    client = login_as("Front Office")
    post_form(client, f"/companyview/edit/{company_id}", {
        "name": "PT Jejak Baru", "legal_form": "PT", "nib": nib, "address": "Jl. Baru 1",
        "change_reason": "perubahan akta 2026", **region,
    })
    with app.app_context():
        created, updated = _trail("company", company_id)
        assert created.action == "create" and created.changes["name"] == "PT Jejak Awal"
        assert updated.action == "update" and updated.reason == "perubahan akta 2026"
        assert updated.changes["name"] == ["PT Jejak Awal", "PT Jejak Baru"]
        assert updated.changes["address"] == ["Jl. Pangeran Cinata No. 1", "Jl. Baru 1"]
        assert updated.actor_name.startswith("front_office (") and updated.address == "127.0.0.1"
        assert updated.origin == "web" and updated.occurred_at is not None


def test_moves_documents_and_numbering_leave_their_trail_on_the_dossier(app, login_as):
    dossier_id, permit = _issued(app, login_as, archived=False)
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.dossier_id == dossier_id)).all()
        kinds = {(r.entity, r.action) for r in rows}
        assert {("dossier", "create"), ("document", "create"), ("dossier", "move"), ("permit", "create"),
                ("register_entry", "create")} <= kinds
        moved = next(r for r in rows if r.action == "move")
        assert moved.changes["stage"] == ["PENANDATANGANAN", "PENOMORAN_CETAK"]
        assert moved.changes["status"] == ["in_progress", "issued"] and moved.actor_name.startswith("kepala_dinas")
    history = page_text(login_as("Supervisor").get(f"/dossierview/show/{dossier_id}")).split('id="dossier-history"')[1]
    assert "Izin · Dibuat" in history and permit.number in history


def test_nobody_edits_or_deletes_the_trail_not_even_admin(app, login_as):
    with app.app_context():
        make_company()
        entry_id = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    assert not [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") and "audit" in rule.rule]
    # FAB routes add, edit and delete on every grid; no role holds those permissions on the trail.
    for role in ("Admin", "Supervisor"):
        client = login_as(role)
        token = csrf_token(client, TOKEN_PAGE)
        for response in (client.post(f"/auditentryview/delete/{entry_id}", data={"csrf_token": token}),
                         client.post(f"/auditentryview/edit/{entry_id}", data={"reason": "x", "csrf_token": token}),
                         client.get("/auditentryview/add")):
            assert response.status_code in (302, 403) and "/login" in response.headers.get("Location", "/login")
    with app.app_context():
        for statement in (update(AuditEntry).where(AuditEntry.id == entry_id).values(reason="dihapus"),
                          delete(AuditEntry).where(AuditEntry.id == entry_id)):
            with pytest.raises(IntegrityError):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.get(AuditEntry, entry_id).reason is None


def test_supervisors_and_admin_read_filter_and_export_the_trail(app, login_as):
    with app.app_context():
        make_company(name="PT Jejak Ekspor")
    for role in ("Supervisor", "Admin"):
        client = login_as(role)
        grid = page_text(client.get("/auditentryview/list/?_flt_0_entity=company"))
        assert "PT Jejak Ekspor" in grid and "Perusahaan" in grid
        book = load_workbook(io.BytesIO(client.get("/auditentryview/export_xlsx?_flt_0_entity=company").data))
        assert any("PT Jejak Ekspor" in str(cell.value) for row in book.active.iter_rows() for cell in row)
    assert login_as("Front Office").get("/auditentryview/list/").status_code in (302, 403)


def test_users_and_their_roles_are_audited_without_their_passwords(app):
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user("uji_jejak", "Uji", "Jejak", "uji_jejak@uji.invalid", sm.find_role("Front Office"),
                           password="rahasia-yang-panjang")
        user.roles = [sm.find_role("Back Office")]
        db.session.commit()
        created, changed = _trail("ab_user", user.id)
        assert created.changes["username"] == "uji_jejak" and created.changes["password"] == "(diubah)"
        assert "rahasia" not in str(created.changes)
        assert changed.changes == {"roles": [["Front Office"], ["Back Office"]]}
        db.session.delete(user)
        db.session.commit()


# ---------------------------------------------------------------------------- the database refuses


def test_the_database_refuses_to_change_an_issued_permit_its_dossier_or_its_register_line(app, login_as):
    dossier_id, permit = _issued(app, login_as)
    with app.app_context():
        refused = (
            update(Permit).where(Permit.id == permit.id).values(snapshot={"version": 1}),
            update(Permit).where(Permit.id == permit.id).values(number="503/9999/X"),
            delete(Permit).where(Permit.id == permit.id),
            update(Dossier).where(Dossier.id == dossier_id).values(vehicle_capacity=99),
            update(Dossier).where(Dossier.id == dossier_id).values(company_id=make_company().id),
            update(RegisterEntry).where(RegisterEntry.dossier_id == dossier_id).values(permit_number="X"),
            delete(RegisterEntry).where(RegisterEntry.dossier_id == dossier_id),
        )
        for statement in refused:
            with pytest.raises(IntegrityError):
                db.session.execute(statement)
            db.session.rollback()
        # What stays open: one revocation, and where the archivist keeps the paper.
        db.session.execute(update(RegisterEntry).where(RegisterEntry.dossier_id == dossier_id)
                           .values(archive_box="BOKS 1", archive_shelf="RAK A"))
        db.session.execute(update(Permit).where(Permit.id == permit.id).values(
            revoked_at=text("CURRENT_TIMESTAMP"), revocation_reason="uji pencabutan langsung"))
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(Permit).where(Permit.id == permit.id).values(revocation_reason="diganti"))
        db.session.rollback()


# ---------------------------------------------------------------------------- deleting what is in use


def test_a_company_in_use_is_not_deleted_and_the_refusal_names_its_dossiers(app, login_as):
    with app.app_context():
        company = make_company(name="PT Masih Dipakai")
        receipt = make_dossier(company).receipt_number
        company_id = company.id
        unused = make_company(name="PT Salah Daftar").id
    client = login_as("Front Office")
    token = csrf_token(client, TOKEN_PAGE)
    page = page_text(client.post(f"/companyview/delete/{company_id}", data={"csrf_token": token},
                                 follow_redirects=True))
    assert "tidak dapat dihapus" in page and receipt in page and "pemohon" in page
    api = client.delete(f"/api/v1/company/{company_id}", headers={"X-CSRFToken": token})
    assert api.status_code == 422 and receipt in api.get_json()["message"]
    assert client.delete(f"/api/v1/company/{unused}", headers={"X-CSRFToken": token}).status_code == 200
    admin = login_as("Admin")  # keeps users, roles and the SOP; deletes no company at all
    admin_token = csrf_token(admin, TOKEN_PAGE)
    assert admin.delete(f"/api/v1/company/{company_id}", headers={"X-CSRFToken": admin_token}).status_code == 403
    with app.app_context():
        assert db.session.get(Company, company_id) is not None and db.session.get(Company, unused) is None
        assert _trail("company", unused)[-1].action == "delete"
        assert login_as("Supervisor").get("/dossierview/list/").status_code == 200


def test_a_user_who_acted_is_not_deleted(app, login_as):
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user("uji_petugas", "Uji", "Petugas", "uji_petugas@uji.invalid", sm.find_role("Front Office"),
                           password="rahasia-yang-panjang")
        make_dossier(actor_id=user.id)
        user_id = user.id
    admin = login_as("Admin")
    page = page_text(admin.post(f"/users/delete/{user_id}", data={"csrf_token": csrf_token(admin, TOKEN_PAGE)},
                                follow_redirects=True))
    assert "tidak dapat dihapus" in page and "riwayat berkas" in page
    with app.app_context():
        assert db.session.get(app.appbuilder.sm.user_model, user_id) is not None


def test_an_admin_change_of_a_local_holiday_is_audited(app, login_as):
    import datetime as dt

    admin = login_as("Admin")
    post_form(admin, "/localholidayview/add", {"date": "2031-02-03", "name": "Cuti daerah uji", "note": ""})
    with app.app_context():
        holiday = db.session.scalar(select(LocalHoliday).where(LocalHoliday.date == dt.date(2031, 2, 3)))
        (created,) = _trail("local_holiday", holiday.id)
        assert created.changes["name"] == "Cuti daerah uji" and created.actor_name.startswith("admin")
        db.session.delete(holiday)
        db.session.commit()


# ---------------------------------------------------------------------------- undo


def _import(client, entity: str, rows: list[list], reason: str | None = None) -> int:  # noqa: ANN001
    page = page_text(_preview(client, entity, _xlsx(rows)))
    batch_id = _batch_id(page)
    data = {"csrf_token": csrf_token(client, TOKEN_PAGE)} | ({"reason": reason} if reason else {})
    client.post(f"/imports/apply/{batch_id}", data=data)
    return batch_id


def _undo(client, batch_id: int) -> str:  # noqa: ANN001
    return page_text(client.post(f"/imports/undo/{batch_id}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)},
                                 follow_redirects=True))


def test_undoing_a_company_import_is_refused_once_a_dossier_uses_the_company(app, login_as):
    nib = valid_nib()
    client = login_as("Front Office")
    batch_id = _import(client, "company", [["Nama perusahaan", "Bentuk badan usaha", "NIB"],
                                           ["PT Impor Dipakai", "PT", nib]])
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.nib == nib))
        dossier = make_dossier(company)
        dossier_id, receipt = dossier.id, dossier.receipt_number
    page = _undo(client, batch_id)
    # The refusal names the row (by its NIB) and what uses it.
    assert "Impor tidak dapat dibatalkan" in page and f"{nib}: dipakai oleh" in page
    assert f"1 berkas permohonan ({receipt})" in page
    with app.app_context():
        assert db.session.scalar(select(Company.id).where(Company.nib == nib)) is not None
        assert db.session.get(ImportBatch, batch_id).status == "applied"
    assert login_as("Front Office").get(f"/dossierview/show/{dossier_id}").status_code == 200


def test_undoing_a_dossier_import_after_a_return_keeps_the_dossier_and_its_history(app, login_as):
    with app.app_context():
        company = make_company()
        nib, nik = company.nib, make_applicant(company).nik
    client = login_as("Front Office")
    batch_id = _import(client, "dossier", [
        ["Nomor Pendaftaran", "Diajukan", "NIB Perusahaan", "NIK Pemohon", "Jenis Izin"],
        ["SCT-2026-00041", "05/11/2026", nib, nik, "IZIN_POOL_KENDARAAN"],
        ["SCT-2026-00042", "05/11/2026", nib, nik, "IZIN_POOL_KENDARAAN"]])
    with app.app_context():
        returned = db.session.scalar(select(Dossier.id).where(Dossier.receipt_number == "SCT-2026-00041"))
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "return", "scope": "ids", "ids": [returned], "note": "KTP tidak terbaca",
        "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "1 dari 1 berkas dipindahkan" in result
    page = _undo(client, batch_id)
    assert "Impor tidak dapat dibatalkan" in page and "SCT-2026-00041" in page and "1 langkah SOP" in page
    assert "SCT-2026-00042" not in page.split("Impor tidak dapat dibatalkan", 1)[1].split("Impor", 1)[0]
    with app.app_context():
        assert db.session.scalar(select(Dossier.id).where(Dossier.receipt_number == "SCT-2026-00042")) is not None
        notes = db.session.scalars(select(StageEvent.note).where(StageEvent.dossier_id == returned)).all()
        assert any("KTP tidak terbaca" in (note or "") for note in notes)


def test_an_untouched_import_is_undone_with_its_trail(app, login_as):
    nib = valid_nib()
    client = login_as("Front Office")
    batch_id = _import(client, "company", [["Nama perusahaan", "Bentuk badan usaha", "NIB"], ["PT Sekejap", "PT", nib]])
    assert "Impor dibatalkan." in _undo(client, batch_id)
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.import_batch_id == batch_id)
                                  .order_by(AuditEntry.id)).all()
        assert [(r.entity, r.action) for r in rows] == [("company", "create"), ("company", "delete")]
        assert rows[0].changes["name"] == "PT Sekejap" and rows[1].reason.startswith(f"Pembatalan impor #{batch_id}")


def test_an_import_renaming_a_company_named_on_a_dossier_needs_a_reason(app, login_as):
    with app.app_context():
        company = make_company(name="PT Lama Impor")
        make_dossier(company)
        nib = company.nib
    client = login_as("Front Office")
    rows = [["Nama perusahaan", "NIB"], ["PT Baru Impor", nib]]
    page = page_text(_preview(client, "company", _xlsx(rows)))
    assert 'id="import-reason"' in page
    refused = page_text(client.post(f"/imports/apply/{_batch_id(page)}", data={
        "csrf_token": csrf_token(client, TOKEN_PAGE)}, follow_redirects=True))
    assert "Alasan perubahan wajib diisi" in refused
    _import(client, "company", rows, reason="nama baru menurut akta")
    with app.app_context():
        renamed = db.session.scalar(select(Company).where(Company.nib == nib))
        assert renamed.name == "PT Baru Impor"
        last = _trail("company", renamed.id)[-1]
        assert last.changes == {"name": ["PT Lama Impor", "PT Baru Impor"]} and last.reason == "nama baru menurut akta"


def test_a_new_record_never_takes_the_id_and_so_the_trail_of_one_an_undo_removed(app, login_as):
    nib = valid_nib()
    client = login_as("Front Office")
    batch_id = _import(client, "company", [["Nama perusahaan", "Bentuk badan usaha", "NIB"], ["PT Impor", "PT", nib]])
    with app.app_context():
        undone_id = db.session.scalar(select(Company.id).where(Company.nib == nib))
    assert "Impor dibatalkan." in _undo(client, batch_id)
    with app.app_context():
        newcomer = make_company(name="PT Lain Sama Sekali")
        assert newcomer.id != undone_id
        assert [(r.action, r.changes["name"]) for r in _trail("company", newcomer.id)] == [
            ("create", "PT Lain Sama Sekali")]


def test_an_undo_that_fails_for_another_reason_says_so_and_is_logged(app, login_as, monkeypatch, caplog):
    import app.views.imports as imports_view

    client = login_as("Front Office")
    batch_id = _import(client, "company", [["Nama perusahaan", "Bentuk badan usaha", "NIB"],
                                           ["PT Gagal Batal", "PT", valid_nib()]])

    def broken(*_args, **_kwargs) -> None:
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(imports_view, "undo_batch", broken)
    page = _undo(client, batch_id)
    assert f"Pembatalan impor #{batch_id} gagal karena kesalahan internal" in page
    assert "sudah dipakai" not in page, "not told as rows used elsewhere"
    assert any("undo of import" in r.getMessage() and r.exc_info for r in caplog.records)
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "applied"

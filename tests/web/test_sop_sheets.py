"""A permit type's SOP sheet out, and a new SOP in from a sheet, through the app."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import PermitType, RequirementType, Stage
from tests.conftest import csrf_token
from tests.web.helpers import page_text

TOKEN_PAGE = "/resetmypassword/form"


@pytest.fixture()
def remove_new_permit_type(app):  # noqa: ANN001, ANN201
    yield
    with app.app_context():
        permit = db.session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_UJI"))
        if permit is not None:
            db.session.delete(permit)
            db.session.commit()


def _recoded(sheet_bytes: bytes) -> bytes:
    """The exported sheet with another code and prefix, as an office would start a new SOP."""
    book = load_workbook(io.BytesIO(sheet_bytes))
    sheet = book["SOP"]
    for row in sheet.iter_rows():
        label = str(row[0].value or "").strip()
        value_cell = next((c for c in row[1:] if c.value not in (None, "", ":")), None)
        if label == "Kode" and value_cell is not None:
            value_cell.value = "IZIN_POOL_UJI"
        elif label == "Prefiks Nomor Pendaftaran" and value_cell is not None:
            value_cell.value = "IPU"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_staff_download_the_sheet_and_admin_loads_a_new_sop_from_it(app, login_as, remove_new_permit_type):
    with app.app_context():
        seeded = db.session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_KENDARAAN"))
        seeded_id = seeded.id
    exported = login_as("Front Office").get(f"/sopsheets/export/{seeded_id}")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment;")

    admin = login_as("Admin")
    preview = page_text(admin.post("/sopsheets/preview", data={
        "csrf_token": csrf_token(admin, TOKEN_PAGE), "file": (io.BytesIO(_recoded(exported.data)), "sop-uji.xlsx"),
    }, content_type="multipart/form-data", follow_redirects=True))
    assert "IZIN_POOL_UJI" in preview and "Menerapkan akan membuat jenis izin baru." in preview
    assert "Tanda Terima Berkas" in preview and "Kepala Dinas" in preview
    sha = preview.split("/sopsheets/apply/")[1][:64]
    applied = admin.post(f"/sopsheets/apply/{sha}", data={"csrf_token": csrf_token(admin, TOKEN_PAGE)},
                         follow_redirects=True)
    assert "SOP IZIN_POOL_UJI dimuat." in page_text(applied)
    with app.app_context():
        new = db.session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_UJI"))

        def stages(permit_id: int) -> list[tuple]:
            return db.session.execute(
                select(Stage.seq, Stage.code, Stage.name, Stage.role_name, Stage.time_standard_minutes,
                       Stage.issues_permit, Stage.reject_role, Stage.resume_role)
                .where(Stage.permit_type_id == permit_id).order_by(Stage.seq)).all()

        def requirements(permit_id: int) -> list[tuple]:
            return db.session.execute(
                select(RequirementType.code, RequirementType.is_mandatory)
                .where(RequirementType.permit_type_id == permit_id).order_by(RequirementType.seq)).all()

        assert new.receipt_prefix == "IPU" and new.legal_bases == seeded.legal_bases
        assert stages(new.id) == stages(seeded_id)
        assert requirements(new.id) == requirements(seeded_id)


def test_a_broken_sheet_is_refused_with_its_problem_and_nothing_changes(app, login_as):
    with app.app_context():
        before = db.session.scalar(select(PermitType.id).order_by(PermitType.id.desc()))
    admin = login_as("Admin")
    page = page_text(admin.post("/sopsheets/preview", data={
        "csrf_token": csrf_token(admin, TOKEN_PAGE), "file": (io.BytesIO(b"No,Kegiatan\n1,Berkas\n"), "sop.xlsx"),
    }, content_type="multipart/form-data", follow_redirects=True))
    assert "bukan" in page.lower()
    with app.app_context():
        assert db.session.scalar(select(PermitType.id).order_by(PermitType.id.desc())) == before
    staff_page = page_text(login_as("Front Office").get("/sopsheets/"))
    assert "sop-sheet-export" in staff_page and "sop-sheet-import" not in staff_page, "only Admin loads SOPs"

"""Spreadsheet import through the app: preview, apply in one transaction, errors, hostile files."""
from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Applicant, Company, ImportBatch
from tests.conftest import BUSINESS_TABLES, csrf_token
from tests.factories import make_applicant, make_company, valid_nik
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preview(client, entity: str, content: bytes, name: str = "data.xlsx"):  # noqa: ANN001, ANN202
    return client.post("/imports/preview", data={
        "csrf_token": csrf_token(client, TOKEN_PAGE), "entity": entity, "file": (io.BytesIO(content), name),
    }, content_type="multipart/form-data", follow_redirects=True)


def _batch_id(page: str) -> int:
    return int(re.search(r"/imports/apply/(\d+)", page).group(1))


def _fingerprint(app) -> dict[str, str]:  # noqa: ANN001
    """Row count and a checksum of every business table (and the import records)."""
    with app.app_context():
        result = {}
        for table in (*BUSINESS_TABLES, "import_batch"):
            rows = db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            result[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return result


def test_export_change_three_cells_import_shows_three_updates_and_applies_them(app, login_as):
    with app.app_context():
        companies = [make_company(name=f"PT Putaran {n}") for n in range(6)]
        nibs = [c.nib for c in companies]
    client = login_as("Front Office")
    book = load_workbook(io.BytesIO(client.get("/companyview/export_xlsx").data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    name_col, phone_col = header.index("Nama perusahaan") + 1, header.index("Telepon") + 1
    nib_col = header.index("NIB") + 1
    rows = {sheet.cell(r, nib_col).value: r for r in range(2, sheet.max_row + 1)}
    sheet.cell(rows[nibs[0]], name_col).value = "PT Putaran Baru"
    sheet.cell(rows[nibs[1]], phone_col).value = "0563 21234"
    sheet.cell(rows[nibs[2]], name_col).value = "PT Putaran Dua Baru"
    changed = io.BytesIO()
    book.save(changed)

    page = page_text(_preview(client, "company", changed.getvalue(), "perusahaan.xlsx"))
    assert "0 dibuat, 3 diperbarui, 3 tidak berubah, 0 kesalahan." in page, page[-3000:]
    assert "PT Putaran 0" in page and "PT Putaran Baru" in page  # before -> after
    with app.app_context():
        assert db.session.scalar(select(Company.name).where(Company.nib == nibs[0])) == "PT Putaran 0", \
            "nothing is written by a preview"
    applied = page_text(client.post(f"/imports/apply/{_batch_id(page)}",
                                    data={"csrf_token": csrf_token(client, TOKEN_PAGE)}, follow_redirects=True))
    assert "0 dibuat, 3 diperbarui, 3 tidak berubah" in applied
    with app.app_context():
        current = dict(db.session.execute(select(Company.nib, Company.name).where(Company.nib.in_(nibs))).all())
        assert current[nibs[0]] == "PT Putaran Baru" and current[nibs[2]] == "PT Putaran Dua Baru"
        assert db.session.scalar(select(Company.phone).where(Company.nib == nibs[1])) == "056321234"
        batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert (batch.status, batch.created, batch.updated, batch.unchanged, batch.user.username) == (
            "applied", 0, 3, 3, "front_office")

    undone = page_text(client.post(f"/imports/undo/{batch.id}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)},
                                   follow_redirects=True))
    assert "Impor dibatalkan." in undone
    with app.app_context():
        assert db.session.scalar(select(Company.name).where(Company.nib == nibs[0])) == "PT Putaran 0"


def test_a_column_left_out_of_the_file_leaves_that_field_alone(app, login_as):
    with app.app_context():
        company = make_company(name="PT Lama", phone="056321234", email="kantor@lama.co.id")
        nib, legal_form = company.nib, company.legal_form
    client = login_as("Front Office")
    page = page_text(_preview(client, "company", _xlsx([["Nama perusahaan", "NIB"], ["PT Lama Baru", nib]])))
    assert "0 dibuat, 1 diperbarui, 0 tidak berubah, 0 kesalahan." in page, page[-2000:]
    client.post(f"/imports/apply/{_batch_id(page)}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)})
    with app.app_context():
        stored = db.session.execute(select(Company.name, Company.phone, Company.email, Company.legal_form)
                                    .where(Company.nib == nib)).one()
        assert tuple(stored) == ("PT Lama Baru", "056321234", "kantor@lama.co.id", legal_form)


def test_apply_refuses_when_the_data_changed_since_the_preview(app, login_as):
    """Terapkan does what the preview showed, or nothing: here a colleague registered the
    company between the preview (1 to create) and the click (it would now be an update)."""
    client = login_as("Front Office")
    page = page_text(_preview(client, "company", _xlsx([["Nama perusahaan", "Bentuk badan usaha", "NIB"],
                                                        ["PT Baru Sekali", "PT", "9120000000777"]])))
    assert "1 dibuat, 0 diperbarui, 0 tidak berubah, 0 kesalahan." in page
    with app.app_context():
        make_company(name="PT Didaftar Rekan", nib="9120000000777")
    before = _fingerprint(app)
    refused = page_text(client.post(f"/imports/apply/{_batch_id(page)}",
                                    data={"csrf_token": csrf_token(client, TOKEN_PAGE)}, follow_redirects=True))
    assert "Data sudah berubah sejak pratinjau: berkas ini sekarang akan membuat 0, memperbarui 1" in refused
    assert _fingerprint(app) == before, "nothing written, the batch stays a preview"


def test_a_second_terapkan_on_the_same_preview_writes_nothing(app, login_as):
    """Two clicks: the second request read the batch and planned before the first committed,
    so its batch still reads 'previewed'; the guarded claim finds it applied and refuses."""
    import datetime as dt

    from app.imports.planning import ImportRefused, apply_plan, plan_import
    from app.imports.specs import company_spec
    from app.views.imports import imports_dir

    client = login_as("Front Office")
    content = _xlsx([["Nama perusahaan", "Bentuk badan usaha", "NIB"], ["PT Dua Klik", "PT", "9120000000888"]])
    batch_id = _batch_id(page_text(_preview(client, "company", content)))

    def planned() -> tuple:
        spec = company_spec(app.config["OFFICE_REGENCY_CODE"])
        batch = db.session.get(ImportBatch, batch_id)
        return batch, plan_import(db.session, spec, spec.read(imports_dir() / f"{batch.sha256}.xlsx"))

    with app.app_context():                      # the second click's request, with its own session
        second_batch, second_plan = planned()
        with app.app_context():                  # the first click's request, another session
            first_batch, first_plan = planned()
            apply_plan(db.session, first_plan, first_batch, dt.datetime.now(dt.UTC))
            db.session.commit()
        assert second_batch.status == "previewed" and second_plan.count("create") == 1, "stale, as in a real race"
        before = _fingerprint(app)
        with pytest.raises(ImportRefused, match="sudah diterapkan"):
            apply_plan(db.session, second_plan, second_batch, dt.datetime.now(dt.UTC))
        db.session.rollback()
    assert _fingerprint(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company).where(Company.nib == "9120000000888")) == 1


def test_new_rows_are_created_and_row_errors_block_the_whole_file(app, login_as):
    with app.app_context():
        company = make_company(name="PT Induk")
        company_id, company_nib = company.id, company.nib
    client = login_as("Front Office")
    good = _xlsx([["Nama lengkap", "NIK", "NIB Perusahaan", "Telepon"],
                  ["Budi Baru", valid_nik(901), company_nib, "0812 3456 7890"]])
    page = page_text(_preview(client, "applicant", good))
    assert "1 dibuat, 0 diperbarui, 0 tidak berubah, 0 kesalahan." in page
    client.post(f"/imports/apply/{_batch_id(page)}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)})
    with app.app_context():
        created = db.session.scalar(select(Applicant).where(Applicant.full_name == "Budi Baru"))
        assert created.company_id == company_id

    before = _fingerprint(app)
    bad = _xlsx([["Nama lengkap", "NIK", "NIB Perusahaan"],
                 ["Ani", "123", company_nib],
                 ["Citra", valid_nik(902), "9999999999999"],
                 ["Dewi", valid_nik(903), company_nib],
                 ["Dewi Lagi", valid_nik(903), company_nib]])
    page = page_text(_preview(client, "applicant", bad))
    assert "NIK harus tepat 16 digit." in page
    assert "Tidak ada perusahaan terdaftar dengan NIB 9999999999999." in page
    assert "Kunci ganda" in page
    assert "/imports/apply/" not in page, "no apply while errors remain"
    errors = client.get(re.search(r'href="(/imports/errors/\d+)"', page).group(1))
    error_rows = list(load_workbook(io.BytesIO(errors.data)).active.iter_rows(values_only=True))
    assert error_rows[0][-1] == "Kesalahan" and len(error_rows) == 4
    after = _fingerprint(app)
    after.pop("import_batch"), before.pop("import_batch")
    assert after == before, "a refused file changes nothing"


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (300 * 2**20))
    return out.getvalue()


def _macro_workbook() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["Nama perusahaan", "NIB"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        archive.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


def _replaced(member: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["Nama perusahaan", "NIB"], ["PT A", "9120000000001"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item.filename, data if item.filename == member else source.read(item))
    return out.getvalue()


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 9))
    + ']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol8;</workbook>'
)
_MILLION_ROWS = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main"><dimension ref="A1:C1048576"/><sheetData/></worksheet>'
)

HOSTILE = {
    "entity bomb": (_replaced("xl/workbook.xml", _LAUGHS.encode()), "entitas XML"),
    "a million rows claimed": (_replaced("xl/worksheets/sheet1.xml", _MILLION_ROWS.encode()), "1.048.576 baris"),
    "not a zip": (b"nama,nib\nPT A,9120000000001\n", "bukan"),
    "empty": (b"", "kosong"),
    "password-protected": (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 512, "kata sandi"),
    "zip bomb": (_zip_bomb(), "terlalu besar"),
    "macros": (_macro_workbook(), "makro"),
    "wrong headers": (_xlsx([["Nama", "Alamat Rumah"], ["x", "y"]]), "Kolom"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_gets_a_message_and_changes_nothing(app, login_as, name):
    with app.app_context():
        make_company(name="PT Tetap")
        make_applicant()
    before = _fingerprint(app)
    content, fragment = HOSTILE[name]
    page = page_text(_preview(login_as("Front Office"), "company", content))
    assert fragment.lower() in page.lower(), page[-2000:]
    assert _fingerprint(app) == before, "tables and checksums unchanged, no import recorded"


def test_template_has_the_columns_and_only_the_front_office_imports(app, login_as):
    template = login_as("Front Office").get("/imports/template/company")
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert header[:3] == ["Nama perusahaan", "Bentuk badan usaha", "NIB"]
    assert login_as("Back Office").get("/imports/").status_code in (302, 403)


def test_archivist_imports_the_old_paper_register_and_the_counter_moves_past_it(app, login_as):
    from app.models import NumberCounter, RegisterEntry

    with app.app_context():
        company = make_company(name="PT Lama")
        applicant = make_applicant(company)
        nib, nik = company.nib, applicant.nik
    header = ["Nomor register", "Tahun", "Nomor urut", "Tanggal", "Nomor izin", "NIB Perusahaan", "NIK Pemohon",
              "Jenis Izin", "Tanggal terbit", "Boks arsip", "Rak arsip"]
    rows = [header,
            ["REG/0001/2019", 2019, 1, "02/01/2019", "503/0001/IPK/2019", nib, nik, "Izin Pool Kendaraan",
             "02/01/2019", "BOKS 2019-001", "RAK A-1"],
            ["REG/0002/2019", 2019, 2, "09/01/2019", "503/0002/IPK/2019", nib, nik, "IZIN_POOL_KENDARAAN",
             "09/01/2019", None, None]]
    archivist = login_as("Arsiparis")
    page = page_text(_preview(archivist, "register", _xlsx(rows), "register-2019.xlsx"))
    assert "2 dibuat, 0 diperbarui, 0 tidak berubah, 0 kesalahan." in page, page[-2000:]
    archivist.post(f"/imports/apply/{_batch_id(page)}", data={"csrf_token": csrf_token(archivist, TOKEN_PAGE)})
    with app.app_context():
        lines = db.session.execute(select(RegisterEntry.register_number, RegisterEntry.dossier_id, RegisterEntry.seq)
                                   .where(RegisterEntry.year == 2019).order_by(RegisterEntry.seq)).all()
        assert lines == [("REG/0001/2019", None, 1), ("REG/0002/2019", None, 2)]
        assert db.session.get(NumberCounter, ("REGISTER", 2019)).last_seq == 2

    clash = [header,
             ["REG/0099/2019", 2019, 2, "10/01/2019", "503/0099/IPK/2019", nib, nik, "Izin Pool Kendaraan",
              "10/01/2019", None, None],
             ["REG/0003/2019", 2019, 3, "10/01/2019", "503/0003/IPK/2019", "9120000099999", nik,
              "Izin Pool Kendaraan", "10/01/2019", None, None],
             ["REG/0004/2019", 2019, 4, "10/01/2019", "503/0004/IPK/2019", nib, nik, "Izin Lain", "10/01/2019",
              None, None]]
    page = page_text(_preview(archivist, "register", _xlsx(clash)))
    assert "Nomor urut 2 tahun 2019 sudah dipakai REG/0002/2019." in page
    assert "Perusahaan dengan NIB ini belum terdaftar; impor perusahaan dulu." in page
    assert "Jenis izin 'Izin Lain' tidak dikenal." in page

    with app.app_context():
        batch_id = db.session.scalar(select(ImportBatch.id).where(ImportBatch.status == "applied"))
    archivist.post(f"/imports/undo/{batch_id}", data={"csrf_token": csrf_token(archivist, TOKEN_PAGE)})
    with app.app_context():
        assert db.session.scalar(select(RegisterEntry.id).where(RegisterEntry.year == 2019)) is None
        assert db.session.get(NumberCounter, ("REGISTER", 2019)).last_seq == 0
    form = page_text(archivist.get("/imports/"))
    assert 'value="register"' in form and 'value="company"' not in form, "each imports only what it may write"


def test_a_sicantik_extract_opens_dossiers_through_the_sop_and_updates_them_on_the_next_extract(app, login_as):
    import datetime as dt

    from app.models import Dossier, StageEvent

    with app.app_context():
        company = make_company(name="PT Ekstrak")
        applicant = make_applicant(company)
        other = make_company(name="PT Lain")
        nib, nik, other_nib = company.nib, applicant.nik, other.nib
    header = ["Nomor Permohonan", "Tanggal Daftar", "NIB", "NIK", "Jenis Izin", "Alamat lokasi pool", "Catatan"]
    extract = [header,
               ["SCT-2026-00017", "03/11/2026", nib, nik, "Izin Pool Kendaraan", "Jl. Sosok Km 2", None],
               ["SCT-2026-00018", "04/11/2026", nib, nik, "Izin Pool Kendaraan", None, "dari OSS"]]
    client = login_as("Front Office")
    page = page_text(_preview(client, "dossier", _xlsx(extract), "sicantik.xlsx"))
    assert "2 dibuat, 0 diperbarui, 0 tidak berubah, 0 kesalahan." in page, page[-2000:]
    client.post(f"/imports/apply/{_batch_id(page)}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)})
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.receipt_number == "SCT-2026-00017"))
        assert (dossier.stage.code, dossier.status, dossier.site_address) == ("BERKAS", "in_progress", "Jl. Sosok Km 2")
        submitted = dossier.submitted_at if dossier.submitted_at.tzinfo else dossier.submitted_at.replace(tzinfo=dt.UTC)
        assert submitted == dt.datetime(2026, 11, 3, 0, 30, tzinfo=dt.UTC), "the office's opening, 07:30 WIB"
        assert dossier.due_at is not None
        events = db.session.scalars(select(StageEvent.action).where(StageEvent.dossier_id == dossier.id)).all()
        assert events == ["submit"]

    later = [header,
             ["SCT-2026-00017", "03/11/2026", nib, nik, "Izin Pool Kendaraan", "Jl. Sosok Km 2,5", None],
             ["SCT-2026-00018", "04/11/2026", other_nib, nik, "Izin Pool Kendaraan", None, "dari OSS"]]
    page = page_text(_preview(client, "dossier", _xlsx(later)))
    assert "Jl. Sosok Km 2,5" in page and "0 dibuat, 1 diperbarui" in page
    assert "Tidak dapat diubah lewat impor pada data yang sudah ada." in page, "the parties are fixed by the receipt"


def test_undoing_a_dossier_import_takes_back_its_dossiers_and_their_history(app, login_as):
    from app.models import Dossier, StageEvent

    with app.app_context():
        company = make_company()
        nib, nik = company.nib, make_applicant(company).nik
    client = login_as("Front Office")
    page = page_text(_preview(client, "dossier", _xlsx([
        ["Nomor Pendaftaran", "Diajukan", "NIB Perusahaan", "NIK Pemohon", "Jenis Izin"],
        ["SCT-2026-00031", "05/11/2026", nib, nik, "IZIN_POOL_KENDARAAN"]])))
    client.post(f"/imports/apply/{_batch_id(page)}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)})
    with app.app_context():
        batch_id = db.session.scalar(select(ImportBatch.id).where(ImportBatch.status == "applied"))
    done = page_text(client.post(f"/imports/undo/{batch_id}", data={"csrf_token": csrf_token(client, TOKEN_PAGE)},
                                 follow_redirects=True))
    assert "Impor dibatalkan." in done
    with app.app_context():
        assert db.session.scalar(select(Dossier.id).where(Dossier.receipt_number == "SCT-2026-00031")) is None
        assert db.session.scalar(select(StageEvent.id)) is None


def test_a_sicantik_extract_as_exported_opens_only_applications_in_progress(app, login_as):
    """A title above the table, columns Loket does not use, and a status per row: finished and
    stopped applications are skipped with their reason, an unknown status is an error."""
    from app.models import Dossier

    with app.app_context():
        company = make_company(name="PT Ekspor SiCantik")
        nib, nik = company.nib, make_applicant(company).nik
    title = ["DAFTAR PERMOHONAN IZIN - DPMPTSPTK KABUPATEN LANDAK", None, None, None, None, None, None]
    header = ["No", "No Pendaftaran", "Tanggal Daftar", "Nama Pemohon", "NIB", "NIK", "Jenis Izin", "Status Permohonan"]
    rows = [title, [None] * 8, header,
            [1, "SCT-2026-00041", "02/11/2026", "Budi", nib, nik, "Izin Pool Kendaraan", "Proses"],
            [2, "SCT-2026-00042", "02/11/2026", "Budi", nib, nik, "Izin Pool Kendaraan", "  izin   TERBIT "],
            [3, "SCT-2026-00043", "03/11/2026", "Budi", nib, nik, "Izin Pool Kendaraan", "Ditolak"],
            [4, "SCT-2026-00044", "03/11/2026", "Budi", nib, nik, "Izin Pool Kendaraan", "Verifikasi"]]
    client = login_as("Front Office")
    page = page_text(_preview(client, "dossier", _xlsx(rows), "sicantik-november.xlsx"))
    assert "2 dibuat, 0 diperbarui, 0 tidak berubah, 0 kesalahan." in page, page[-2000:]
    assert "2 baris akan dilewati" in page
    assert "Kolom yang tidak dipakai Loket dan dilewati: No, Nama Pemohon." in page
    assert "SCT-2026-00042" in page and "sudah selesai di sistem asal" in page and "impor Buku Register" in page
    assert "SCT-2026-00043" in page and "permohonan sudah berhenti di sistem asal" in page

    applied = page_text(client.post(f"/imports/apply/{_batch_id(page)}",
                                    data={"csrf_token": csrf_token(client, TOKEN_PAGE)}, follow_redirects=True))
    assert "2 baris dilewati, sesuai pratinjau." in applied
    with app.app_context():
        opened = db.session.scalars(select(Dossier.receipt_number).order_by(Dossier.receipt_number)).all()
        assert opened == ["SCT-2026-00041", "SCT-2026-00044"]
        batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert (batch.created, batch.skipped, batch.errors) == (2, 2, 0)

    before = _fingerprint(app)
    unknown = [header, [5, "SCT-2026-00045", "04/11/2026", "Ani", nib, nik, "Izin Pool Kendaraan", "Dikembalikan"]]
    page = page_text(_preview(client, "dossier", _xlsx(unknown)))
    assert "Status 'Dikembalikan' tidak dikenal." in page, page[-2000:]
    assert "/imports/apply/" not in page
    after = _fingerprint(app)
    after.pop("import_batch"), before.pop("import_batch")
    assert after == before, "a file with an unknown status changes nothing"


def test_unknown_columns_still_refuse_a_file_meant_for_a_loket_template(app, login_as):
    client = login_as("Front Office")
    page = page_text(_preview(client, "company", _xlsx([["Nama perusahaan", "NIB", "Bentuk badan usaha", "Status"],
                                                        ["PT X", "9120000000001", "PT", "Proses"]])))
    assert "Kolom tidak dikenal: Status." in page

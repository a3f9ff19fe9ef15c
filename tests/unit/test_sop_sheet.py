"""SOP sheets: a permit type from the office's own SOP table, and back. Bare session, no Flask."""
from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from app.models import PermitType, RequirementType, Stage
from app.security.roles import STAGE_ROLES
from app.sop.loader import load_sops
from app.sop.schema import SopFileError, parse_sop
from app.sop.sheet import read_sop_sheet, write_sop_sheet

SEED_FILE = Path(__file__).resolve().parents[2] / "seed" / "sop" / "izin_pool_kendaraan.yaml"
MINUTES_PER_DAY = 510


def seeded(session) -> PermitType:
    return session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_KENDARAAN"))


def stage_row(s: Stage) -> tuple:
    return (
        s.seq, s.code, s.name, s.activity, s.actor, s.role_name, s.time_standard_text, s.time_standard_minutes,
        s.inputs, s.output, s.is_applicant_step, s.is_office_continuation, list(s.required_fields), s.issues_permit,
        s.reject_role, s.resume_role, s.online_event,
    )


def requirement_row(r: RequirementType) -> tuple:
    return (r.seq, r.code, r.name, r.is_mandatory, r.due_stage.code)


PERMIT_FIELDS = (
    "name", "sop_number", "legal_bases", "executor_qualifications", "equipment", "related_sops", "recording",
    "service_days", "fee", "output_document", "validity_months", "permit_number_format",
)


def set_header_value(path: Path, label: str, value: str) -> None:
    """Types a value into the header block row of `label` (value cell: column C)."""
    workbook = openpyxl.load_workbook(path)
    ws = workbook["SOP"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
    ws.cell(row, 3).value = value
    workbook.save(path)


def db_snapshot(session) -> list[tuple]:
    rows = []
    for model in (PermitType, Stage, RequirementType):
        for obj in session.scalars(select(model).order_by(model.id)):
            rows.append(tuple((c.key, getattr(obj, c.key)) for c in model.__table__.columns))
    return rows


# ---------------------------------------------------------------------------------------------
# 1. Round trip of the seeded SOP 76
# ---------------------------------------------------------------------------------------------


def test_export_then_import_reproduces_the_seeded_sop_76(session, tmp_path):
    permit = seeded(session)
    path = tmp_path / "sop76.xlsx"
    write_sop_sheet(path, permit)

    d = read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)

    assert (d.code, d.receipt_prefix) == ("IZIN_POOL_KENDARAAN", "IPK")
    for name in PERMIT_FIELDS:
        expected = getattr(permit, name)
        assert getattr(d, name) == (tuple(expected) if isinstance(expected, list) else expected), name
    assert d.fee == Decimal(0) and d.validity_months is None

    assert len(d.steps) == len(permit.stages) == 15
    for step, stage in zip(d.steps, permit.stages):
        assert (
            step.no, step.code, step.name, step.activity, step.actor, step.role, step.time_text, step.time_minutes,
            step.inputs, step.output, step.applicant_step, step.office_continuation, list(step.required_fields),
            step.issues_permit, step.reject_role, step.resume_role, step.online_event,
        ) == stage_row(stage)
    assert [s.code for s in d.steps if s.reject_role] == ["PEMERIKSAAN_KASI", "PARAF_KABID", "PENANDATANGANAN"]
    assert [(s.code, s.online_event) for s in d.steps if s.online_event] == [
        ("REGISTRASI", "account_verified"), ("LOGIN", "signed_in"), ("PENGISIAN_DATA", "data_filled"),
    ]
    assert len(d.requirements) == len(permit.requirements) == 11
    for req, requirement in zip(d.requirements, permit.requirements):
        assert (req.seq, req.code, req.name, req.mandatory, req.due_stage) == requirement_row(requirement)

    # And the very definition the YAML file gives, but for where it came from.
    from_yaml = parse_sop(SEED_FILE, STAGE_ROLES, MINUTES_PER_DAY)
    assert dataclasses.replace(d, path="", content_hash="") == dataclasses.replace(from_yaml, path="", content_hash="")


def test_an_exported_sheet_loads_as_a_second_permit_type_equal_to_the_first(session, tmp_path):
    permit = seeded(session)
    path = tmp_path / "sop_uji.xlsx"
    write_sop_sheet(path, permit)
    set_header_value(path, "Kode", "IZIN_POOL_UJI")
    set_header_value(path, "Prefiks Nomor Pendaftaran", "IPU")

    [result] = load_sops(session, [read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)])

    assert result.changed and result.code == "IZIN_POOL_UJI"
    copy = session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_UJI"))
    assert copy.id != permit.id and copy.receipt_prefix == "IPU" and copy.source_file == "sop_uji.xlsx"
    for name in PERMIT_FIELDS:
        assert getattr(copy, name) == getattr(permit, name), name
    assert [stage_row(s) for s in copy.stages] == [stage_row(s) for s in permit.stages]
    assert [requirement_row(r) for r in copy.requirements] == [requirement_row(r) for r in permit.requirements]
    assert all(r.due_stage.permit_type_id == copy.id for r in copy.requirements)

    # The same sheet again is a no-op, like a YAML file; another working day is not.
    before = db_snapshot(session)
    [again] = load_sops(session, [read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)])
    assert not again.changed and db_snapshot(session) == before
    assert read_sop_sheet(path, STAGE_ROLES, 480).content_hash != copy.source_hash


def test_the_exported_sheet_looks_like_the_office_document(session, tmp_path):
    permit = seeded(session)
    permit.stages[0].activity = '=HYPERLINK("http://contoh.invalid")'  # user text is never a formula
    path = tmp_path / "sop76.xlsx"
    write_sop_sheet(path, permit)
    session.rollback()

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["SOP", "Persyaratan"]
    ws = workbook["SOP"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "No")
    top = [ws.cell(header, c).value for c in range(1, ws.max_column + 1)]
    sub = [ws.cell(header + 1, c).value for c in range(1, ws.max_column + 1)]
    names = [s or t for s, t in zip(sub, top)]
    assert names == [
        "No", "Kegiatan", "Permohonan", "Front Office", "Back Office", "Tim Teknis", "Kasi Perizinan",
        "Kabid Perizinan", "Kepala Dinas", "Arsiparis", "Kelengkapan", "Waktu", "Output", "Ket",
        "Nama Tahap", "Kode Tahap", "Pelaksana Menurut SOP", "Isian Wajib", "Terbitkan Nomor Izin", "Undang Survei SKM",
        "Peristiwa Daring Pemohon", "Lanjutan Kantor", "Dapat Ditolak Oleh", "Penerima Berkas Kembali",
    ]
    assert "MUTU BAKU" in top and "PELAKSANA" in top
    assert ws.cell(header, 1).font.bold and ws.cell(header + 1, 4).border.left.style == "thin"
    assert ws.print_title_rows == f"${header}:${header + 1}"
    assert ws.page_setup.orientation == "landscape"

    first = header + 2  # step 1
    assert ws.cell(first, names.index("Front Office") + 1).value == "✓"
    assert ws.cell(first, names.index("Front Office") + 1).alignment.horizontal == "center"
    assert ws.cell(first, names.index("Back Office") + 1).value in (None, "")
    assert ws.cell(first + 14, names.index("Arsiparis") + 1).value == "✓"
    assert ws.cell(first + 5, 2).alignment.wrap_text
    assert ws.cell(first + 12, names.index("Terbitkan Nomor Izin") + 1).value == "Ya"
    # The applicant's online events on steps 2-4, blank elsewhere.
    online = names.index("Peristiwa Daring Pemohon") + 1
    assert [ws.cell(first + n, online).value for n in range(5)] == [
        None, "account_verified", "signed_in", "data_filled", None,
    ]
    # Who may reject, per step; who takes returned files back once in the header, as every step shares it.
    rejecting = names.index("Dapat Ditolak Oleh") + 1
    assert [ws.cell(first + n, rejecting).value for n in (8, 9, 10, 11, 12)] == [
        None, "Kasi Perizinan", "Kabid Perizinan", "Kepala Dinas", None,
    ]
    resume_label = next(r for r in range(1, header) if ws.cell(r, 1).value == "Penerima Berkas Kembali")
    assert ws.cell(resume_label, 3).value == "Front Office"
    resuming = names.index("Penerima Berkas Kembali") + 1
    assert all(ws.cell(first + n, resuming).value is None for n in range(15))
    assert ws.cell(first, 2).data_type == "s"
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("SOP").to_python(skip_empty_area=False)
    assert calamine[first - 1][1] == '=HYPERLINK("http://contoh.invalid")'
    requirements = workbook["Persyaratan"]
    assert [c.value for c in requirements[3]] == ["No", "Kode", "Persyaratan", "Wajib", "Diperiksa Sampai Tahap"]
    assert [c.value for c in requirements[13]] == [
        10, "REKOMENDASI_ANDALALIN", permit.requirements[9].name, "Tidak", "PEMERIKSAAN_LAPANGAN",
    ]
    assert [c.value for c in requirements[14]] == [
        11, "BAP_PEMERIKSAAN_LAPANGAN", permit.requirements[10].name, "Ya", "PEMERIKSAAN_LAPANGAN",
    ]


# ---------------------------------------------------------------------------------------------
# 2. The office's own sheet, typed the way the office types it
# ---------------------------------------------------------------------------------------------

EXECUTORS = ["Front Office", "Back Office", "Tim Teknis", "Kasi Perizinan", "Kabid Perizinan", "Kepala Dinas"]
TABLE_HEADER = ["No", "Kegiatan", "Permohonan", *EXECUTORS, "Kelengkapan", "Waktu", "Output", "Ket"]


def office_step(no, activity, lane, marked, inputs, time, output, mark="√"):
    marks = [mark if role == marked else None for role in EXECUTORS]
    return [no, activity, lane, *marks, inputs, time, output, None]


def office_sheet() -> tuple[list[list], list[list]]:
    sop = [
        ["PEMERINTAH KABUPATEN LANDAK"],
        ["DINAS PENANAMAN MODAL PELAYANAN TERPADU SATU PINTU DAN TENAGA KERJA"],
        [],
        ["Nomor Standar Operasional Prosedur", ":", 77],
        ["Tanggal Pembuatan", ":", None],
        ["Disahkan Oleh", ":", "Kepala Dinas"],
        ["NAMA SOP : IZIN TRAYEK ANGKUTAN PEDESAAN"],
        ["DASAR HUKUM", ":", "1. Undang-Undang Nomor 22 Tahun 2009 tentang Lalu Lintas dan Angkutan Jalan."],
        [None, None, "2. Peraturan Pemerintah Nomor 74 Tahun 2014 tentang Angkutan Jalan."],
        ["KLASIFIKASI PELAKSANA", ":", "1. Mampu mengoperasikan komputer\n2. Mampu menjalankan system aplikasi"],
        ["KETERKAITAN", ":", "SOP SEMUA IZIN BERUSAHA DAN NON BERUSAHA LAINNYA"],
        ["PERALATAN/ PERLENGKAPAN", ":", "1. Jaringan internet 2. Server 3. Komputer 4. ID. OSS"],
        ["PECANTATAN DAN PENDATAAN", ":", "1. Sistem Cloud dan Server 2. Register Manual"],
        ["WAKTU", ":", "5 hari"],
        ["BIAYA", ":", "Tanpa Biaya"],
        ["OUTPUT", ":", "Dokumen Izin Trayek"],
        [],
        ["IZIN TRAYEK ANGKUTAN PEDESAAN"],
        list(TABLE_HEADER),
        office_step(1, "Pemohon Membawa berkas", "BERKAS", None, "Profil Perusahaan", "10 Menit", "Legalitas Perusahaan"),
        office_step(2, "Pemohon Melakukan Pendaftaran Akun SICANTIK", "REGISTRASI", None, "e-Mail", "5 menit",
                    "Akun SICANTIK"),
        office_step(3, "Petugas Front Office Memberikan Tanda Terima Berkas", "TANDA TERIMA BERKAS", "Front Office",
                    "Dokumen Persyaratan Izin", "5 Menit", "Tanda Terima Berkas"),
        office_step(4, "Petugas Back Office Memverifikasi Berkas", "VERIFIKASI", "Back Office",
                    "Berkas permohonan", "1 Hari Kerja", "Berkas terverifikasi", mark="X"),
        office_step(5, "Tim Teknis Meninjau Trayek", "PENINJAUAN LAPANGAN", "Tim Teknis", "Berkas terverifikasi",
                    "2 hari", "Berita Acara"),
        office_step(6, "Kasi Perizinan Memeriksa Draf Izin", "PEMERIKSAAN DRAF", "Kasi Perizinan", "Draf izin",
                    "10 Menit", "Draf berparaf"),
        office_step(7, "Kabid Perizinan Memaraf Draf Izin", "PARAF KABID", "Kabid Perizinan", "Draf berparaf",
                    "1 Hari Kerja", "Draf berparaf Kabid"),
        office_step(8, "Kepala Dinas Menandatangani Izin", "PENANDATANGANAN", "Kepala Dinas", "Draf berparaf Kabid",
                    "1 Hari Kerja", "Dokumen Izin Trayek"),
    ]
    requirements = [
        ["No", "Kode", "Persyaratan", "Wajib", "Diperiksa Sampai Tahap"],
        [1, "SURAT_PERMOHONAN", "Surat permohonan", "Ya", "TANDA_TERIMA_BERKAS"],
        [2, None, "Kartu Tanda Penduduk", "Ya", "Tanda Terima Berkas"],
        [3, None, "Rekomendasi Dinas Perhubungan", "Tidak", "VERIFIKASI"],
        [4, None, None, None, None],
    ]
    return sop, requirements


def save_sheet(path: Path, sop: list[list], requirements: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "SOP"
    for row in sop:
        ws.append(row)
    sheet = workbook.create_sheet("Persyaratan")
    for row in requirements:
        sheet.append(row)
    workbook.save(path)
    return path


def table_header(sop: list[list]) -> int:
    return next(i for i, row in enumerate(sop) if row[:2] == ["No", "Kegiatan"])


def step_line(sop: list[list], no: int) -> int:
    """The sheet row (1-based) of step `no`."""
    header = table_header(sop)
    return next(i for i, row in enumerate(sop) if i > header and row[0] == no) + 1


def test_an_office_sheet_becomes_a_new_permit_type(session, tmp_path):
    path = save_sheet(tmp_path / "sop77.xlsx", *office_sheet())

    d = read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)

    assert (d.code, d.name, d.sop_number, d.receipt_prefix) == (
        "IZIN_TRAYEK_ANGKUTAN_PEDESAAN", "IZIN TRAYEK ANGKUTAN PEDESAAN", "77", "ITAP",
    )
    assert d.legal_bases == (
        "Undang-Undang Nomor 22 Tahun 2009 tentang Lalu Lintas dan Angkutan Jalan.",
        "Peraturan Pemerintah Nomor 74 Tahun 2014 tentang Angkutan Jalan.",
    )
    assert d.executor_qualifications == ("Mampu mengoperasikan komputer", "Mampu menjalankan system aplikasi")
    assert d.related_sops == ("SOP SEMUA IZIN BERUSAHA DAN NON BERUSAHA LAINNYA",)
    assert d.equipment == ("Jaringan internet", "Server", "Komputer", "ID. OSS")
    assert d.recording == ("Sistem Cloud dan Server", "Register Manual")
    assert (d.service_days, d.fee, d.output_document, d.validity_months) == (5, Decimal(0), "Dokumen Izin Trayek", None)
    assert d.permit_number_format == "503/{seq:04d}/{prefix}/DPMPTSPTK/{year}"

    assert [s.code for s in d.steps] == [
        "BERKAS", "REGISTRASI", "TANDA_TERIMA_BERKAS", "VERIFIKASI", "PENINJAUAN_LAPANGAN", "PEMERIKSAAN_DRAF",
        "PARAF_KABID", "PENANDATANGANAN",
    ]
    assert [s.name for s in d.steps][:3] == ["Berkas", "Registrasi", "Tanda Terima Berkas"]
    assert [s.role for s in d.steps] == [
        "Front Office", "Front Office", "Front Office", "Back Office", "Tim Teknis", "Kasi Perizinan",
        "Kabid Perizinan", "Kepala Dinas",
    ]
    assert [s.actor for s in d.steps][:4] == ["Pemohon", "Pemohon", "Front Office", "Back Office"]
    assert [s.applicant_step for s in d.steps] == [True, True] + [False] * 6
    assert [s.time_minutes for s in d.steps] == [10, 5, 5, 510, 1020, 10, 510, 510]
    assert d.steps[3].time_text == "1 Hari Kerja" and d.steps[3].inputs == "Berkas permohonan"
    assert not any(s.office_continuation or s.issues_permit or s.required_fields for s in d.steps)
    assert [(r.seq, r.code, r.mandatory, r.due_stage) for r in d.requirements] == [
        (1, "SURAT_PERMOHONAN", True, "TANDA_TERIMA_BERKAS"),
        (2, "KARTU_TANDA_PENDUDUK", True, "TANDA_TERIMA_BERKAS"),
        (3, "REKOMENDASI_DINAS_PERHUBUNGAN", False, "VERIFIKASI"),
    ]

    [result] = load_sops(session, [d])
    assert result.changed
    permit = session.scalar(select(PermitType).where(PermitType.code == "IZIN_TRAYEK_ANGKUTAN_PEDESAAN"))
    assert session.scalar(select(func.count()).select_from(PermitType)) == 2
    assert [s.role_name for s in permit.stages][3:5] == ["Back Office", "Tim Teknis"]
    assert [s.is_applicant_step for s in permit.stages][:3] == [True, True, False]
    assert permit.requirements[2].due_stage.code == "VERIFIKASI" and not permit.requirements[2].is_mandatory


def test_an_office_sheet_with_a_two_row_header_and_loket_columns(tmp_path):
    sop, requirements = office_sheet()
    header = table_header(sop)
    extra = ["Kode Tahap", "Pelaksana Menurut SOP", "Isian Wajib", "Terbitkan Nomor Izin", "Lanjutan Kantor"]
    sop[header] = ["No", "Kegiatan", "PELAKSANA", *[None] * 6, "MUTU BAKU", None, None, "Ket", *extra]
    sop.insert(header + 1, [None, None, "Permohonan", *EXECUTORS, "Kelengkapan", "Waktu", "Output", None])
    sop[header + 2] += [None, "Pemohon", "applicant.email"]  # step 1
    sop[header + 9] += ["TTD", None, None, "ya", "Ya"]  # step 8: the office's continuation, numbers the permit
    sop[header + 2][0] = "1."

    d = read_sop_sheet(save_sheet(tmp_path / "two_rows.xlsx", sop, requirements), STAGE_ROLES, MINUTES_PER_DAY)

    assert d.steps[0].required_fields == ("applicant.email",) and d.steps[0].actor == "Pemohon"
    assert (d.steps[7].code, d.steps[7].issues_permit, d.steps[7].office_continuation) == ("TTD", True, True)
    assert [s.role for s in d.steps][-2:] == ["Kabid Perizinan", "Kepala Dinas"]


# ---------------------------------------------------------------------------------------------
# 3. Refused sheets: a clear message, and nothing written
# ---------------------------------------------------------------------------------------------


def _no_mark(sop, requirements):
    sop[step_line(sop, 4) - 1][4] = None
    return f"baris {step_line(sop, 4)} (langkah 4): tidak ada pelaksana yang ditandai"


def _two_marks(sop, requirements):
    sop[step_line(sop, 4) - 1][6] = "v"
    return (
        f"baris {step_line(sop, 4)} (langkah 4): ditandai pada lebih dari satu pelaksana "
        "(Back Office, Kasi Perizinan); tandai tepat satu"
    )


def _bad_time(sop, requirements):
    sop[step_line(sop, 4) - 1][10] = "sebentar"
    return f"baris {step_line(sop, 4)} (langkah 4): waktu 'sebentar' tidak dipahami"


def _unknown_role(sop, requirements):
    header = table_header(sop)
    for row in sop[header:]:
        row.insert(9, "Satpam" if row is sop[header] else None)
    row = sop[step_line(sop, 4) - 1]
    row[4], row[9] = None, "●"
    return f"baris {step_line(sop, 4)} (langkah 4): peran 'Satpam' tidak dikenal"


def _unknown_due_stage(sop, requirements):
    requirements[3][4] = "PENGAMBILAN_SAMPEL"
    return "lembar Persyaratan baris 4: tahapan 'PENGAMBILAN_SAMPEL' tidak ada di SOP ini"


def _duplicate_stage(sop, requirements):
    sop[step_line(sop, 5) - 1][2] = "VERIFIKASI"
    return f"baris {step_line(sop, 5)} (langkah 5): kode tahapan 'VERIFIKASI' ganda"


def _steps_out_of_order(sop, requirements):
    sop[step_line(sop, 6) - 1][0] = 7
    return f"baris {step_line(sop, 7)} (langkah 7): nomor langkah 7 tidak urut (seharusnya 6)"


def _unknown_header_label(sop, requirements):
    sop[3][0] = "Nomer SOP"
    return "baris 4: judul 'Nomer SOP' tidak dikenal"


def _two_permit_numbering_steps(sop, requirements):
    header = table_header(sop)
    sop[header].append("Terbitkan Nomor Izin")
    sop[step_line(sop, 7) - 1].append("Ya")
    sop[step_line(sop, 8) - 1].append("Ya")
    return "lembar SOP: hanya satu tahapan boleh menerbitkan nomor izin"


def _unknown_required_field(sop, requirements):
    header = table_header(sop)
    sop[header].append("Isian Wajib")
    sop[step_line(sop, 3) - 1].append("company.nib, company.golongan_darah")
    return f"baris {step_line(sop, 3)} (langkah 3): isian 'company.golongan_darah' tidak dikenal"


def _bad_number_format(sop, requirements):
    sop.insert(15, ["Format Nomor Izin", ":", "503/{nomor}/ITAP"])
    return "lembar SOP: format nomor izin '503/{nomor}/ITAP' tidak valid"


def _unknown_reject_role(sop, requirements):
    header = table_header(sop)
    sop[header].append("Dapat Ditolak Oleh")
    sop[step_line(sop, 6) - 1].append("Satpam")
    return f"baris {step_line(sop, 6)} (langkah 6): kolom 'Dapat Ditolak Oleh': peran 'Satpam' tidak dikenal"


def _reject_on_the_numbering_step(sop, requirements):
    header = table_header(sop)
    sop[header] += ["Terbitkan Nomor Izin", "Dapat Ditolak Oleh"]
    sop[step_line(sop, 7) - 1] += ["Ya", "Kabid Perizinan"]
    return (
        f"baris {step_line(sop, 7)} (langkah 7): penolakan ('Dapat Ditolak Oleh') hanya boleh sebelum penomoran "
        "izin (langkah 7, PARAF_KABID)"
    )


def _reject_after_the_numbering_step(sop, requirements):
    header = table_header(sop)
    sop[header] += ["Terbitkan Nomor Izin", "Dapat Ditolak Oleh"]
    sop[step_line(sop, 6) - 1] += [None, "Kasi Perizinan"]  # before numbering: allowed
    sop[step_line(sop, 7) - 1] += ["Ya", None]
    sop[step_line(sop, 8) - 1] += [None, "Kepala Dinas"]
    return (
        f"baris {step_line(sop, 8)} (langkah 8): penolakan ('Dapat Ditolak Oleh') hanya boleh sebelum penomoran "
        "izin (langkah 7, PARAF_KABID)"
    )


def _unknown_resume_role_in_the_header(sop, requirements):
    sop.insert(15, ["Penerima Berkas Kembali", ":", "Satpam"])
    return "lembar SOP: kolom 'Penerima Berkas Kembali': peran 'Satpam' tidak dikenal"


def _unknown_online_event(sop, requirements):
    header = table_header(sop)
    sop[header].append("Peristiwa Daring Pemohon")
    sop[step_line(sop, 2) - 1].append("email dibuka")
    return (f"baris {step_line(sop, 2)} (langkah 2): kolom 'Peristiwa Daring Pemohon': peristiwa daring "
            "'email dibuka' tidak dikenal")


def _missing_requirement_sheet(sop, requirements):
    requirements.clear()
    requirements.append(["Daftar berkas"])
    return "lembar Persyaratan: baris judul"


@pytest.mark.parametrize(
    "break_sheet",
    [
        _no_mark, _two_marks, _bad_time, _unknown_role, _unknown_due_stage, _duplicate_stage, _steps_out_of_order,
        _unknown_header_label, _two_permit_numbering_steps, _unknown_required_field, _bad_number_format,
        _unknown_reject_role, _reject_on_the_numbering_step, _reject_after_the_numbering_step,
        _unknown_resume_role_in_the_header, _unknown_online_event, _missing_requirement_sheet,
    ],
)
def test_a_broken_sheet_is_refused_with_a_clear_message_and_nothing_is_written(session, tmp_path, break_sheet):
    sop, requirements = office_sheet()
    expected = break_sheet(sop, requirements)
    path = save_sheet(tmp_path / "sop77.xlsx", sop, requirements)
    before = db_snapshot(session)

    with pytest.raises(SopFileError) as refused:
        load_sops(session, [read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)])

    assert str(refused.value).startswith(f"sop77.xlsx: {expected}"), str(refused.value)
    assert db_snapshot(session) == before


def test_an_unmarked_unknown_column_is_harmless_and_a_file_that_is_no_workbook_is_refused(tmp_path):
    sop, requirements = office_sheet()
    header = table_header(sop)
    for row in sop[header:]:
        row.insert(9, "Satpam" if row is sop[header] else None)
    d = read_sop_sheet(save_sheet(tmp_path / "ok.xlsx", sop, requirements), STAGE_ROLES, MINUTES_PER_DAY)
    assert len(d.steps) == 8

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    with pytest.raises(SopFileError, match="junk.xlsx: bukan lembar kerja Excel"):
        read_sop_sheet(junk, STAGE_ROLES, MINUTES_PER_DAY)


# ---------------------------------------------------------------------------------------------
# 4. Who may reject and who takes returned files back
# ---------------------------------------------------------------------------------------------


def test_a_sheet_without_reject_and_resume_columns_rejects_nowhere_and_resumes_at_the_first_steps_role(
    session, tmp_path
):
    d = read_sop_sheet(save_sheet(tmp_path / "sop77.xlsx", *office_sheet()), STAGE_ROLES, MINUTES_PER_DAY)

    assert [s.reject_role for s in d.steps] == [None] * 8
    assert {s.resume_role for s in d.steps} == {"Front Office"}  # step 1 is received at the Front Office
    load_sops(session, [d])
    permit = session.scalar(select(PermitType).where(PermitType.code == "IZIN_TRAYEK_ANGKUTAN_PEDESAAN"))
    assert {(s.reject_role, s.resume_role) for s in permit.stages} == {(None, "Front Office")}

    sop, requirements = office_sheet()
    sop[step_line(sop, 1) - 1][4] = "√"  # the applicant's file received at the Back Office instead
    d = read_sop_sheet(save_sheet(tmp_path / "bo.xlsx", sop, requirements), STAGE_ROLES, MINUTES_PER_DAY)
    assert {s.resume_role for s in d.steps} == {"Back Office"}


def _with_resume_roles(sop: list[list]) -> list[list]:
    """The office sheet naming Back Office in the header, step 4 overriding it, both typed in lower case."""
    sop.insert(15, ["Penerima Berkas Kembali", ":", "back office"])
    header = table_header(sop)
    sop[header] += ["Dapat Ditolak Oleh", "Penerima Berkas Kembali"]
    sop[step_line(sop, 4) - 1] += ["kasi perizinan", "KASI PERIZINAN"]
    return sop


def test_the_header_resume_role_applies_to_every_step_unless_a_step_names_its_own(tmp_path):
    sop, requirements = office_sheet()
    path = save_sheet(tmp_path / "sop77.xlsx", _with_resume_roles(sop), requirements)

    d = read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)

    assert [s.resume_role for s in d.steps] == ["Back Office"] * 3 + ["Kasi Perizinan"] + ["Back Office"] * 4
    assert [s.reject_role for s in d.steps] == [None] * 3 + ["Kasi Perizinan"] + [None] * 4


def test_the_written_sheet_names_the_common_resume_role_once_and_only_the_exceptions_per_step(session, tmp_path):
    sop, requirements = office_sheet()
    load_sops(session, [read_sop_sheet(
        save_sheet(tmp_path / "sop77.xlsx", _with_resume_roles(sop), requirements), STAGE_ROLES, MINUTES_PER_DAY,
    )])
    permit = session.scalar(select(PermitType).where(PermitType.code == "IZIN_TRAYEK_ANGKUTAN_PEDESAAN"))
    path = tmp_path / "export.xlsx"
    write_sop_sheet(path, permit)

    ws = openpyxl.load_workbook(path)["SOP"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "No")
    label = next(r for r in range(1, header) if ws.cell(r, 1).value == "Penerima Berkas Kembali")
    assert ws.cell(label, 3).value == "Back Office"
    names = [ws.cell(header + 1, c).value or ws.cell(header, c).value for c in range(1, ws.max_column + 1)]
    column = names.index("Penerima Berkas Kembali") + 1
    assert [ws.cell(header + 1 + no, column).value for no in range(1, 9)] == [None] * 3 + ["Kasi Perizinan"] + [None] * 4
    again = read_sop_sheet(path, STAGE_ROLES, MINUTES_PER_DAY)
    assert [(s.reject_role, s.resume_role) for s in again.steps] == [
        (s.reject_role, s.resume_role) for s in permit.stages
    ]

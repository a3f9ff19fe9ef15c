"""The SOP loader, driven with a bare SQLAlchemy session: no Flask app involved."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session

from app.models import Applicant, Company, Dossier, PermitType, RequirementType, Stage, create_all
from app.security.roles import STAGE_ROLES
from app.sop.loader import load_sops, parse_sop_dir
from app.sop.schema import SopFileError, parse_time

SEED_FILE = Path(__file__).resolve().parents[2] / "seed" / "sop" / "izin_pool_kendaraan.yaml"
MINUTES_PER_DAY = 510


@pytest.fixture()
def session():
    engine = create_engine("sqlite://")
    create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture()
def sop_dir(tmp_path: Path) -> Path:
    shutil.copy(SEED_FILE, tmp_path / SEED_FILE.name)
    return tmp_path


def load(session: Session, directory: Path):
    return load_sops(session, parse_sop_dir(directory, STAGE_ROLES, MINUTES_PER_DAY))


def snapshot(session: Session) -> list[tuple]:
    rows = []
    for model in (PermitType, Stage, RequirementType):
        for obj in session.scalars(select(model).order_by(model.id)):
            rows.append(tuple((c.key, getattr(obj, c.key)) for c in model.__table__.columns))
    return rows


def test_sop_76_is_loaded_as_the_document_states(session, sop_dir):
    load(session, sop_dir)
    permit = session.scalar(select(PermitType))
    assert (permit.sop_number, permit.name, permit.service_days) == ("76", "Izin Pool Kendaraan", 5)
    assert permit.fee == Decimal("0")
    assert permit.output_document == "Dokumen Izin Pool Kendaraan"
    assert permit.legal_bases[0].startswith("Undang-Undang Nomor 22 Tahun 2009")
    assert permit.legal_bases[3].startswith("Peraturan Bupati (PERBUP) Nomor 20 Tahun 2019")
    assert len(permit.executor_qualifications) == 6
    assert permit.recording == ["Sistem Cloud dan Server", "Register Manual"]

    stages = permit.stages
    assert [s.code for s in stages[:6]] == [
        "BERKAS", "REGISTRASI", "LOGIN", "PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", "ENTRY_DATA",
    ]
    assert [s.time_standard_minutes for s in stages[:6]] == [10, 5, 5, 10, 5, 30]
    assert stages[0].inputs == "Profil Perusahaan" and stages[0].output == "Legalitas Perusahaan"
    assert [s.is_applicant_step for s in stages[:4]] == [True, True, True, False]
    assert stages[5].inputs.endswith("Apabila Berkas Tidak Lengkap Petugas FO Mengembalikan Berkas Ke Pemohon")
    assert not any(s.is_office_continuation for s in stages[:6])
    # Steps 2-4 are done by the applicant's own events when the application is made online.
    assert [s.online_event for s in stages[:6]] == [None, "account_verified", "signed_in", "data_filled", None, None]
    assert not any(s.online_event for s in stages[6:])

    continuation = stages[6:]
    assert [s.seq for s in continuation] == list(range(7, 16))
    assert all(s.is_office_continuation for s in continuation)
    by_code = {s.code: s for s in stages}
    assert by_code["PEMERIKSAAN_LAPANGAN"].role_name == "Tim Teknis"
    assert by_code["PEMERIKSAAN_LAPANGAN"].time_standard_minutes == 2 * MINUTES_PER_DAY
    assert by_code["PENANDATANGANAN"].role_name == "Kepala Dinas"
    assert by_code["PENGARSIPAN"].role_name == "Arsiparis"

    requirements = permit.requirements
    assert len(requirements) == 11
    bap = requirements[-1]
    assert (bap.code, bap.is_mandatory, bap.due_stage.code) == ("BAP_PEMERIKSAAN_LAPANGAN", True, "PEMERIKSAAN_LAPANGAN")
    optional = [r.code for r in requirements if not r.is_mandatory]
    assert optional == ["REKOMENDASI_ANDALALIN"]


def test_loading_the_same_file_twice_writes_nothing(session, sop_dir):
    first = load(session, sop_dir)
    before = snapshot(session)
    writes: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: writes.append(a[2]))
    second = load(session, sop_dir)
    assert [r.changed for r in first] == [True]
    assert [r.changed for r in second] == [False]
    assert not [sql for sql in writes if not sql.lstrip().upper().startswith("SELECT")]
    assert snapshot(session) == before


def _edit(sop_dir: Path, change) -> None:  # noqa: ANN001
    path = sop_dir / SEED_FILE.name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


BROKEN = {
    "unknown role": (lambda d: d["steps"][2].update(role="Satpam"), "peran 'Satpam' tidak dikenal"),
    "duplicate stage code": (lambda d: d["office_continuation"][0].update(code="BERKAS"), "kode tahapan 'BERKAS' ganda"),
    "missing field": (lambda d: d["steps"][3].pop("time"), "kolom wajib 'time' tidak ada"),
    "missing top field": (lambda d: d.pop("service_days"), "kolom wajib 'service_days' tidak ada"),
    "unreadable time": (lambda d: d["steps"][0].update(time="sebentar"), "waktu 'sebentar' tidak dipahami"),
    "unknown due stage": (lambda d: d["requirements"][0].update(due_stage="NANTI"), "tahapan 'NANTI' tidak ada"),
    "steps out of order": (lambda d: d["steps"][1].update(step=5), "tidak urut"),
    "unknown required field": (lambda d: d["steps"][5].update(required_fields=["company.warna"]), "isian 'company.warna'"),
    # A numbered permit is revoked, never rejected: no rejection at or after the numbering step.
    "the numbering stage rejects": (
        lambda d: d["office_continuation"][6].update(reject_role="Back Office"),
        "langkah 13 (PENOMORAN_CETAK): penolakan ('reject_role') hanya boleh sebelum penomoran izin",
    ),
    "a stage after numbering rejects": (
        lambda d: d["office_continuation"][8].update(reject_role="Arsiparis"),
        "langkah 15 (PENGARSIPAN): penolakan ('reject_role') hanya boleh sebelum penomoran izin",
    ),
    "unknown rejecting role": (
        lambda d: d["office_continuation"][3].update(reject_role="Satpam"), "kolom 'reject_role': peran 'Satpam'",
    ),
    "unknown resuming role": (lambda d: d.update(resume_role="Satpam"), "kolom 'resume_role': peran 'Satpam'"),
    "unknown online event": (
        lambda d: d["steps"][1].update(online_event="email_opened"),
        "langkah 2 (REGISTRASI): kolom 'online_event': peristiwa daring 'email_opened' tidak dikenal",
    ),
    "an online event on two steps": (
        lambda d: d["steps"][4].update(online_event="signed_in"),
        "peristiwa daring 'signed_in' hanya boleh pada satu tahapan, bukan LOGIN, TANDA_TERIMA_BERKAS",
    ),
}


def test_who_rejects_and_who_resumes_come_from_the_sop_file(session, sop_dir):
    def edit(d: dict) -> None:
        d["resume_role"] = "Back Office"
        d["office_continuation"][0]["reject_role"] = "Back Office"  # VERIFIKASI
        d["office_continuation"][3].pop("reject_role")  # PEMERIKSAAN_KASI
        d["steps"][5]["resume_role"] = "Front Office"  # ENTRY_DATA keeps the counter

    _edit(sop_dir, edit)
    load(session, sop_dir)
    stages = {s.code: s for s in session.scalars(select(Stage))}
    assert stages["VERIFIKASI"].reject_role == "Back Office" and stages["PEMERIKSAAN_KASI"].reject_role is None
    assert stages["PARAF_KABID"].reject_role == "Kabid Perizinan"
    assert stages["BERKAS"].resume_role == "Back Office" and stages["ENTRY_DATA"].resume_role == "Front Office"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_sop_file_is_refused_and_changes_nothing(session, sop_dir, case):
    load(session, sop_dir)
    before = snapshot(session)
    change, expected = BROKEN[case]
    # A valid edit rides along with the broken one; neither may land.
    _edit(sop_dir, lambda d: (d.update(name="Izin Pool Kendaraan Baru"), change(d)))
    with pytest.raises(SopFileError) as refused:
        load(session, sop_dir)
    assert SEED_FILE.name in str(refused.value)
    assert expected in str(refused.value)
    assert snapshot(session) == before


def test_invalid_yaml_is_refused_with_the_file_name(session, sop_dir):
    (sop_dir / "rusak.yaml").write_text("code: [tidak ditutup\n")
    with pytest.raises(SopFileError, match=r"rusak\.yaml: YAML tidak valid"):
        load(session, sop_dir)
    assert snapshot(session) == []


def test_one_broken_file_keeps_the_good_ones_out_too(session, sop_dir):
    data = yaml.safe_load(SEED_FILE.read_text())
    data.update(code="IZIN_LAIN", receipt_prefix="ILN")
    data["steps"][0]["role"] = "Tukang Parkir"
    (sop_dir / "zz_izin_lain.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(SopFileError, match="zz_izin_lain.yaml"):
        load(session, sop_dir)
    assert snapshot(session) == []


def test_a_changed_file_updates_rows_in_place(session, sop_dir):
    load(session, sop_dir)
    ids = {s.code: s.id for s in session.scalars(select(Stage))}
    _edit(sop_dir, lambda d: d["office_continuation"][0].update(time="90 menit"))
    assert [r.changed for r in load(session, sop_dir)] == [True]
    stages = {s.code: s for s in session.scalars(select(Stage))}
    assert stages["VERIFIKASI"].time_standard_minutes == 90
    assert {code: s.id for code, s in stages.items()} == ids


def test_another_sop_is_another_file(session, sop_dir):
    data = yaml.safe_load(SEED_FILE.read_text())
    data.update(code="IZIN_TRAYEK", name="Izin Trayek", sop_number="77", receipt_prefix="ITR")
    (sop_dir / "izin_trayek.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    load(session, sop_dir)
    assert sorted(session.scalars(select(PermitType.code))) == ["IZIN_POOL_KENDARAAN", "IZIN_TRAYEK"]


def test_a_stage_in_use_cannot_be_dropped_from_the_file(session, sop_dir):
    load(session, sop_dir)
    permit = session.scalar(select(PermitType))
    last = permit.stages[-1]
    company = Company(name="PT Uji", legal_form="PT", nib="9120000000001")
    applicant = Applicant(full_name="Uji", nik="6108014508950001")
    session.add(Dossier(
        receipt_number="IPK-26-AAAAAA", permit_type=permit, company=company, applicant=applicant,
        stage=last, submitted_at=dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.timezone.utc),
    ))
    session.commit()
    before = snapshot(session)
    _edit(sop_dir, lambda d: d["office_continuation"].pop())
    with pytest.raises(SopFileError, match="PENGARSIPAN' masih dipakai"):
        load(session, sop_dir)
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("10 Menit", 10), ("5 menit", 5), ("1 jam", 60), ("2 hari kerja", 1020), ("1 Hari Kerja", 510)],
)
def test_time_standards_are_read_in_working_minutes(text, minutes):
    assert parse_time(text, MINUTES_PER_DAY) == minutes

"""The SOP engine driven with a bare SQLAlchemy session: no Flask app."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.models import Account, Applicant, Company, Document, Dossier, PermitType, StageEvent, create_all
from app.security.roles import (
    ADMIN,
    BACK_OFFICE,
    FRONT_OFFICE,
    KASI_PERIZINAN,
    STAGE_ROLES,
    TIM_TEKNIS,
)
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier
from app.sop.loader import load_sops, parse_sop_dir
from app.sop.machine import (
    Action,
    allowed_actions,
    apply,
    judge,
    load_situation,
    move,
    replay,
)
from tests.paper_samples import DESCRIBE_PERMIT

SEED = Path(__file__).resolve().parents[2] / "seed" / "sop"
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09.00 WIB


@pytest.fixture()
def dossier_id(session: Session) -> int:
    return _open(session)


def _open(session: Session) -> int:
    permit = session.scalar(select(PermitType))
    n = session.scalar(select(func.count()).select_from(Company)) + 1
    company = Company(
        name=f"PT Pool Ngabang {n}", legal_form="PT", nib=f"{9120000000000 + n}", npwp="012345678901000",
        deed_number="12", deed_date=dt.date(2020, 3, 4), address="Jl. Pangeran Cinata 1",
    )
    with session.no_autoflush:
        dossier = Dossier(
            company=company,
            applicant=Applicant(full_name="Uji", nik=f"61080145089{n:05d}", email="uji@contoh.id"),
            site_address="Jl. Raya Ngabang Km 3", vehicle_capacity=12,
        )
        open_dossier(dossier, permit, NOW, WorkingCalendar(), actor_id=None)
    session.add(dossier)
    session.commit()
    return dossier.id


def act(session: Session, dossier_id: int, action: Action, roles: set[str], note: str | None = None):  # noqa: ANN201
    outcome = move(session, dossier_id, action, actor_id=None, roles=roles, note=note, now=NOW,
                   describe_permit=DESCRIBE_PERMIT)
    session.commit()
    return outcome


def verify(session: Session, dossier_id: int, requirement_code: str) -> None:
    permit = session.scalar(select(PermitType))
    requirement = next(r for r in permit.requirements if r.code == requirement_code)
    session.add(Document(
        dossier_id=dossier_id, requirement_type_id=requirement.id, original_filename=f"{requirement_code}.pdf",
        storage_key="x" * 64, size_bytes=1, sha256="x" * 64, verified_at=NOW,
    ))
    session.commit()


def stage_code(session: Session, dossier_id: int) -> str:
    session.expire_all()
    return session.get(Dossier, dossier_id).stage.code


def test_the_whole_sop_76_path_with_the_right_role_at_each_step(session, dossier_id):
    permit = session.scalar(select(PermitType))
    for stage in permit.stages:
        assert stage_code(session, dossier_id) == stage.code
        due_here = [r for r in permit.requirements if r.is_mandatory and r.due_stage_id == stage.id]
        for requirement in due_here:
            refused = act(session, dossier_id, Action.ADVANCE, {stage.role_name})
            assert not refused.moved
            assert f"Dokumen belum ada atau belum diverifikasi: {requirement.name}" in refused.reasons
            verify(session, dossier_id, requirement.code)
        outcome = act(session, dossier_id, Action.ADVANCE, {stage.role_name})
        assert outcome.moved, (stage.code, outcome.reasons)
    dossier = session.get(Dossier, dossier_id)
    assert dossier.status == "archived"
    events = session.scalars(select(StageEvent).where(StageEvent.dossier_id == dossier_id).order_by(StageEvent.id)).all()
    assert len(events) == 1 + len(permit.stages)
    issuing = frozenset(s.id for s in permit.stages if s.issues_permit)
    assert replay(events[1:], permit.stages[0].id, issuing) == (dossier.stage_id, dossier.status)


def test_only_the_stages_own_role_moves_it_and_admin_does_not_bypass(session, dossier_id):
    for roles in ({BACK_OFFICE}, {TIM_TEKNIS}, {ADMIN}, set()):
        outcome = act(session, dossier_id, Action.ADVANCE, roles)
        assert not outcome.moved
        assert "Tahap Berkas dikerjakan oleh Front Office, bukan oleh peran Anda." in outcome.reasons
    assert stage_code(session, dossier_id) == "BERKAS"


def test_a_blocked_move_names_every_missing_item(session, dossier_id):
    session.get(Dossier, dossier_id).company.npwp = None
    session.commit()
    situation = load_situation(session, dossier_id)
    permit = session.scalar(select(PermitType))
    entry = next(s for s in permit.stages if s.code == "ENTRY_DATA")
    session.get(Dossier, dossier_id).stage_id = entry.id
    session.commit()
    situation = load_situation(session, dossier_id)
    verdict = judge(situation, Action.ADVANCE, {FRONT_OFFICE})
    assert not verdict.allowed
    assert "Isian belum diisi: NPWP perusahaan" in verdict.reasons
    documents = [r for r in verdict.reasons if r.startswith("Dokumen belum")]
    assert len(documents) == 9  # every mandatory requirement due by ENTRY_DATA


def test_return_needs_a_reason_records_what_is_missing_and_resume_continues_at_the_same_stage(session, dossier_id):
    assert not act(session, dossier_id, Action.RETURN, {FRONT_OFFICE}, note="  ").moved
    outcome = act(session, dossier_id, Action.RETURN, {FRONT_OFFICE}, note="Profil perusahaan belum dibawa")
    assert outcome.moved
    dossier = session.get(Dossier, dossier_id)
    assert dossier.status == "returned" and dossier.stage.code == "BERKAS"
    event = session.scalars(select(StageEvent).where(StageEvent.action == "return")).one()
    assert "Kekurangan: Dokumen belum ada atau belum diverifikasi: Profil perusahaan" in event.note
    # While returned nothing else moves, and only the Front Office takes the file back.
    assert "Berkas sedang dikembalikan" in act(session, dossier_id, Action.ADVANCE, {FRONT_OFFICE}).reasons[0]
    assert not act(session, dossier_id, Action.RESUME, {BACK_OFFICE}).moved
    assert act(session, dossier_id, Action.RESUME, {FRONT_OFFICE}).moved
    dossier = session.get(Dossier, dossier_id)
    assert (dossier.status, dossier.stage.code) == ("in_progress", "BERKAS")


def test_reject_is_final_needs_a_reason_and_belongs_to_kasi_kabid_kadis(session, dossier_id):
    permit = session.scalar(select(PermitType))
    kasi_stage = next(s for s in permit.stages if s.code == "PEMERIKSAAN_KASI")
    session.get(Dossier, dossier_id).stage_id = kasi_stage.id
    session.commit()
    assert "hanya Kasi Perizinan" in act(session, dossier_id, Action.REJECT, {BACK_OFFICE}, "x").reasons[0]
    assert act(session, dossier_id, Action.REJECT, {KASI_PERIZINAN}).reasons == ("Alasan wajib diisi.",)
    assert act(session, dossier_id, Action.REJECT, {KASI_PERIZINAN}, "Lokasi pool di kawasan lindung").moved
    situation = load_situation(session, dossier_id)
    assert not any(v.allowed for v in allowed_actions(situation, {KASI_PERIZINAN, FRONT_OFFICE}))
    assert "ditolak" in judge(situation, Action.RESUME, {FRONT_OFFICE}).reasons[0]


def test_a_stale_move_is_told_who_moved_it_and_when(tmp_path):
    """Two officers' sessions on one database: both judged version 1, one moved it first."""
    engine = create_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_all(engine)
    shutil.copytree(SEED, tmp_path / "sop")
    with Session(engine) as first, Session(engine) as second:
        load_sops(first, parse_sop_dir(tmp_path / "sop", STAGE_ROLES, 510))
        dossier_id = _open(first)
        verify(first, dossier_id, "PROFIL_PERUSAHAAN")
        officer = Account(first_name="Dewi", last_name="Lestari", username="dewi", email="d@uji.invalid", active=True)
        first.add(officer)
        first.commit()

        seen_by_second = load_situation(second, dossier_id)  # version 1, as the first officer saw it
        at_10_07_wib = dt.datetime(2026, 11, 30, 3, 7, tzinfo=dt.timezone.utc)
        assert move(first, dossier_id, Action.ADVANCE, actor_id=officer.id, roles={FRONT_OFFICE}, note=None,
                    now=at_10_07_wib).moved
        first.commit()

        late = apply(second, seen_by_second, Action.ADVANCE, actor_id=None, roles={FRONT_OFFICE}, note=None, now=NOW)
        second.commit()
        assert not late.moved
        assert late.reasons == ("Berkas sudah dipindahkan oleh Dewi Lestari pada 10:07.",)
        assert len(first.scalars(select(StageEvent).where(StageEvent.action == "advance")).all()) == 1
    engine.dispose()


def test_a_bulk_move_judges_each_row_and_reports_each(session):
    from app.sop.machine import apply_many

    ready, blocked, returned = _open(session), _open(session), _open(session)
    verify(session, ready, "PROFIL_PERUSAHAAN")
    verify(session, returned, "PROFIL_PERUSAHAAN")
    act(session, returned, Action.RETURN, {FRONT_OFFICE}, note="KTP kabur")
    outcomes = apply_many(
        session, [ready, blocked, returned, 999999, ready], Action.ADVANCE,
        actor_id=None, roles={FRONT_OFFICE}, note=None, now=NOW,
    )
    session.commit()
    by_id = {o.dossier_id: o for o in outcomes}
    assert len(outcomes) == 4  # the repeated id is moved once
    assert by_id[ready].moved and by_id[ready].to_stage == "Registrasi"
    assert not by_id[blocked].moved and "Profil perusahaan" in by_id[blocked].reasons[0]
    assert not by_id[returned].moved and "dikembalikan" in by_id[returned].reasons[0]
    assert by_id[999999].reasons == ("Berkas tidak ditemukan.",)
    advances = session.scalars(select(StageEvent).where(StageEvent.action == "advance")).all()
    assert [e.dossier_id for e in advances] == [ready]


def test_resume_pushes_the_promise_later_by_the_working_time_spent_returned(session, dossier_id):
    calendar = WorkingCalendar()
    wib = dt.timezone(dt.timedelta(hours=7))
    before = session.get(Dossier, dossier_id).due_at
    returned_at = dt.datetime(2026, 11, 30, 9, 0, tzinfo=wib)  # Monday 09.00
    resumed_at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=wib)  # Tuesday 09.00: one working day later
    assert move(session, dossier_id, Action.RETURN, actor_id=None, roles={FRONT_OFFICE}, note="KTP kabur",
                now=returned_at, calendar=calendar).moved
    session.commit()
    assert session.get(Dossier, dossier_id).due_at == before, "returning alone does not move the promise"
    assert move(session, dossier_id, Action.RESUME, actor_id=None, roles={FRONT_OFFICE}, note=None,
                now=resumed_at, calendar=calendar).moved
    session.commit()
    session.expire_all()
    after = session.get(Dossier, dossier_id).due_at.replace(tzinfo=dt.timezone.utc)
    # Submitted Monday 30 Nov 09.00 WIB: promised Monday 7 Dec 16.00; 510 working minutes
    # returned push it to Tuesday 8 Dec 16.00.
    assert after.astimezone(wib) == dt.datetime(2026, 12, 8, 16, 0, tzinfo=wib)


def test_a_second_role_does_not_lend_its_reject_right_to_another_stage(session, dossier_id):
    outcome = act(session, dossier_id, Action.REJECT, {FRONT_OFFICE, KASI_PERIZINAN}, note="alasan")
    assert not outcome.moved
    assert "tidak dapat ditolak" in outcome.reasons[0]


def _place(session: Session, dossier_id: int, code: str) -> None:
    dossier = session.get(Dossier, dossier_id)
    dossier.stage = next(s for s in dossier.permit_type.stages if s.code == code)
    session.commit()


def _verify_everything(session: Session, dossier_id: int) -> None:
    for requirement in session.scalar(select(PermitType)).requirements:
        verify(session, dossier_id, requirement.code)


def test_a_dossier_holding_a_permit_is_neither_rejected_nor_returned_whatever_a_stage_allows(session, dossier_id):
    from app.models import Permit, Stage
    from app.security.roles import KEPALA_DINAS

    _verify_everything(session, dossier_id)
    _place(session, dossier_id, "PENANDATANGANAN")
    assert act(session, dossier_id, Action.ADVANCE, {KEPALA_DINAS}).permit_number
    assert act(session, dossier_id, Action.ADVANCE, {BACK_OFFICE}).moved  # into PENYERAHAN
    # An SOP the loader refuses (a rejecting stage after numbering), written straight into the
    # database: the engine still refuses to reject a dossier whose permit is numbered.
    handover = session.scalar(select(Stage).where(Stage.code == "PENYERAHAN"))
    handover.reject_role = FRONT_OFFICE
    session.commit()
    number = session.scalar(select(Permit.number).where(Permit.dossier_id == dossier_id))
    for action in (Action.REJECT, Action.RETURN):
        outcome = act(session, dossier_id, action, {FRONT_OFFICE}, "izin salah cetak")
        assert not outcome.moved and f"Izin {number} sudah terbit" in outcome.reasons[0]
        assert "dicabut oleh Kepala Dinas" in outcome.reasons[0]
    assert session.get(Dossier, dossier_id).status == "issued"


def test_who_rejects_and_who_resumes_is_the_stage_data(session, dossier_id):
    from app.models import Stage

    _place(session, dossier_id, "VERIFIKASI")
    verification = session.scalar(select(Stage).where(Stage.code == "VERIFIKASI"))
    assert "tidak dapat ditolak" in act(session, dossier_id, Action.REJECT, {BACK_OFFICE}, "lokasi lindung").reasons[0]
    verification.reject_role, verification.resume_role = BACK_OFFICE, TIM_TEKNIS
    session.commit()
    assert act(session, dossier_id, Action.RETURN, {BACK_OFFICE}, "denah kurang jelas").moved
    assert "Hanya Tim Teknis" in act(session, dossier_id, Action.RESUME, {FRONT_OFFICE}).reasons[0]
    assert act(session, dossier_id, Action.RESUME, {TIM_TEKNIS}).moved
    assert act(session, dossier_id, Action.REJECT, {BACK_OFFICE}, "lokasi di kawasan lindung").moved


def test_only_an_advance_into_the_numbering_stage_takes_a_number(session, dossier_id):
    from app.models import NumberCounter, Permit, Stage
    from app.sop.machine import apply_many

    _verify_everything(session, dossier_id)
    _place(session, dossier_id, "PENOMORAN_CETAK")  # placed there without the advance
    assert act(session, dossier_id, Action.RETURN, {BACK_OFFICE}, "cetakan rusak").moved
    assert act(session, dossier_id, Action.RESUME, {FRONT_OFFICE}).moved
    # An SOP the loader refuses (the numbering stage's own role rejects), written straight into the
    # database: a bulk rejection there numbers nothing and fails nothing.
    session.scalar(select(Stage).where(Stage.code == "PENOMORAN_CETAK")).reject_role = BACK_OFFICE
    session.commit()
    other = _open(session)
    _place(session, other, "PENOMORAN_CETAK")
    outcomes = apply_many(session, [dossier_id, other], Action.REJECT, actor_id=None, roles={BACK_OFFICE},
                          note="lokasi di kawasan lindung", now=NOW, describe_permit=DESCRIBE_PERMIT)
    session.commit()
    assert [o.moved for o in outcomes] == [True, True]
    assert session.scalar(select(func.count()).select_from(Permit)) == 0
    assert session.scalar(select(func.count()).select_from(NumberCounter)) == 0

"""Lanjutkan carries a dossier through the following stages of the same role while their gates
hold; every stage still gets its own history row, and the gate is checked at each."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Applicant, Dossier, PermitType, StageEvent
from app.security.roles import BACK_OFFICE, FRONT_OFFICE
from app.sop.machine import Action, apply_many, move
from tests.paper_samples import DESCRIBE_PERMIT
from tests.unit.test_machine import NOW, _open, stage_code, verify

FRONT_OFFICE_PAPERS = ("SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "AKTA_PENDIRIAN", "NIB", "NPWP",
                       "KTP_PENANGGUNG_JAWAB", "BUKTI_PENGUASAAN_LAHAN", "DENAH_LOKASI", "DAFTAR_KENDARAAN")


def carry(session: Session, dossier_id: int, roles: set[str]):  # noqa: ANN201
    outcome = move(session, dossier_id, Action.ADVANCE, actor_id=None, roles=roles, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT, carry=True)
    session.commit()
    return outcome


def history(session: Session, dossier_id: int) -> list[tuple[str, str]]:
    permit = session.scalar(select(PermitType))
    code = {s.id: s.code for s in permit.stages}
    events = session.scalars(
        select(StageEvent).where(StageEvent.dossier_id == dossier_id, StageEvent.action == "advance")
        .order_by(StageEvent.id)
    )
    return [(code[e.from_stage_id], code[e.to_stage_id]) for e in events]


def test_carries_through_the_front_office_stages_until_a_gate_holds_it(session):
    dossier_id = _open(session)
    verify(session, dossier_id, "PROFIL_PERUSAHAAN")  # due at BERKAS; the deed, NIB, NPWP are not there yet
    outcome = carry(session, dossier_id, {FRONT_OFFICE})
    assert outcome.moved
    assert stage_code(session, dossier_id) == "PENGISIAN_DATA"
    assert (outcome.from_stage, outcome.through, outcome.to_stage) == (
        "Berkas", ("Registrasi", "Login"), "Pengisian Data")
    assert history(session, dossier_id) == [
        ("BERKAS", "REGISTRASI"), ("REGISTRASI", "LOGIN"), ("LOGIN", "PENGISIAN_DATA")]


def test_carries_into_the_next_roles_stage_and_stops_there_even_for_a_user_with_both_roles(session):
    dossier_id = _open(session)
    for code in FRONT_OFFICE_PAPERS:
        verify(session, dossier_id, code)
    outcome = carry(session, dossier_id, {FRONT_OFFICE, BACK_OFFICE})
    assert outcome.to_stage == "Verifikasi Berkas"
    assert stage_code(session, dossier_id) == "VERIFIKASI"
    assert [step[1] for step in history(session, dossier_id)] == [
        "REGISTRASI", "LOGIN", "PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", "ENTRY_DATA", "VERIFIKASI"]


def test_a_field_the_next_stage_demands_stops_the_carry_there(session):
    dossier_id = _open(session)
    verify(session, dossier_id, "PROFIL_PERUSAHAAN")
    applicant = session.get(Dossier, dossier_id).applicant
    session.get(Applicant, applicant.id).email = None  # REGISTRASI demands the applicant's e-mail
    session.commit()
    outcome = carry(session, dossier_id, {FRONT_OFFICE})
    assert (outcome.to_stage, outcome.through) == ("Registrasi", ())
    assert history(session, dossier_id) == [("BERKAS", "REGISTRASI")]


def test_without_carry_one_stage_only(session):
    dossier_id = _open(session)
    verify(session, dossier_id, "PROFIL_PERUSAHAAN")
    outcome = move(session, dossier_id, Action.ADVANCE, actor_id=None, roles={FRONT_OFFICE}, note=None, now=NOW)
    assert outcome.moved and outcome.to_stage == "Registrasi" and outcome.through == ()


def test_a_bulk_carry_takes_each_dossier_as_far_as_its_own_gates_allow(session):
    incomplete, complete, unready = _open(session), _open(session), _open(session)
    verify(session, incomplete, "PROFIL_PERUSAHAAN")
    for code in FRONT_OFFICE_PAPERS:
        verify(session, complete, code)
    outcomes = apply_many(session, [incomplete, complete, unready], Action.ADVANCE, actor_id=None,
                          roles={FRONT_OFFICE}, note=None, now=NOW, carry=True)
    session.commit()
    assert [(o.moved, o.to_stage) for o in outcomes] == [
        (True, "Pengisian Data"), (True, "Verifikasi Berkas"), (False, "")]
    assert "Dokumen belum ada atau belum diverifikasi" in outcomes[2].reasons[0]
    assert [stage_code(session, i) for i in (incomplete, complete, unready)] == [
        "PENGISIAN_DATA", "VERIFIKASI", "BERKAS"]
    assert len(history(session, complete)) == 6


def test_a_requirement_added_later_binds_only_dossiers_still_before_its_due_stage(session):
    """The signed BAP joined SOP 76 while dossiers were already past the field inspection: those
    are not stopped for it; one still at (or before) the inspection, or submitted since, is."""
    from app.models import RequirementType, Stage
    from app.sop.machine import judge, load_situation

    bap = session.scalar(select(RequirementType).where(RequirementType.code == "BAP_PEMERIKSAAN_LAPANGAN"))
    bap.required_since = NOW + dt.timedelta(days=1)
    kasi = session.scalar(select(Stage).where(Stage.code == "PEMERIKSAAN_KASI"))
    inspection = session.scalar(select(Stage).where(Stage.code == "PEMERIKSAAN_LAPANGAN"))
    older_past, older_at, newer_past = _open(session), _open(session), _open(session)
    for dossier_id, stage in ((older_past, kasi), (older_at, inspection), (newer_past, kasi)):
        session.get(Dossier, dossier_id).stage_id = stage.id
    session.get(Dossier, newer_past).submitted_at = NOW + dt.timedelta(days=2)
    session.commit()

    def asks_for_bap(dossier_id: int) -> bool:
        reasons = judge(load_situation(session, dossier_id), Action.ADVANCE, {"Kasi Perizinan", "Tim Teknis"}).reasons
        return any(bap.name in reason for reason in reasons)

    assert (asks_for_bap(older_past), asks_for_bap(older_at), asks_for_bap(newer_past)) == (False, True, True)

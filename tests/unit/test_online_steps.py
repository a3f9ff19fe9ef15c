"""A dossier applied for online: when the Front Office's Lanjutkan carries it through the SOP steps
the applicant's own events did (Stage.online_event), those steps are recorded as the applicant's
account's, dated by those events. A counter dossier moves as before. Bare session, no Flask."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from app.audit import Actor, set_actor, set_reason
from app.models import Applicant, AuditEntry, Dossier, DossierStatus, PermitType, StageEvent
from app.models.account import ACCOUNT_TABLE
from app.security.roles import FRONT_OFFICE
from app.sop.machine import Action, apply_many, move
from tests.unit.test_carry import FRONT_OFFICE_PAPERS
from tests.unit.test_machine import NOW, _open, stage_code, verify

CLERK_ID = 7
CLERK = Actor(CLERK_ID, "fo1 (Petugas Loket)", "10.0.0.5", "web")
VERIFIED_AT = dt.datetime(2026, 11, 28, 2, 12, tzinfo=dt.timezone.utc)  # Saturday 09.12 WIB
SIGNED_IN_AT = dt.datetime(2026, 11, 30, 1, 50, tzinfo=dt.timezone.utc)  # 08.50 WIB, before submitting
SUBMITTED_AT = NOW  # 09.00 WIB (tests.unit.test_machine._open)
LATER = NOW + dt.timedelta(days=1)


def server_clock(instant: dt.datetime) -> dt.datetime:
    """How FAB stamps an account: the server's naive local time (datetime.now())."""
    return instant.astimezone().replace(tzinfo=None)


@pytest.fixture()
def accounts(session: Session) -> Session:
    """The clerk's account, who moves the dossiers."""
    connection = session.connection()
    connection.execute(insert(ACCOUNT_TABLE), [
        {"id": CLERK_ID, "username": "fo1", "first_name": "Petugas", "last_name": "Loket", "email": "fo1@uji.invalid"},
    ])
    session.commit()
    set_actor(session, CLERK)
    return session


def add_account(session: Session, account_id: int, *, last_login: dt.datetime | None = SIGNED_IN_AT) -> int:
    session.execute(text(
        "INSERT INTO ab_user (id, username, first_name, last_name, email, active, created_on, last_login) "
        "VALUES (:id, :username, 'Siti', 'Aminah', :username, 1, :created_on, :last_login)"
    ), {"id": account_id, "username": f"siti{account_id}@contoh.id", "created_on": server_clock(VERIFIED_AT),
        "last_login": server_clock(last_login) if last_login else None})
    return account_id


def open_online(session: Session, account_id: int | None, *, last_login: dt.datetime | None = SIGNED_IN_AT) -> int:
    """A dossier submitted on the portal by an applicant whose account is account_id (None: no account)."""
    dossier_id = _open(session)
    dossier = session.get(Dossier, dossier_id)
    dossier.submitted_online = True
    if account_id is not None:
        dossier.applicant.account_id = add_account(session, account_id, last_login=last_login)
    session.commit()
    return dossier_id


def lanjutkan(session: Session, dossier_id: int, note: str | None = None):  # noqa: ANN201
    set_reason(session, None)  # the arranging's reason off: a move's trail row has the move's note
    try:
        outcome = move(session, dossier_id, Action.ADVANCE, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note=note,
                       now=LATER, carry=True)
        session.commit()
    finally:
        set_reason(session, "penyiapan data uji")
    return outcome


def advances(session: Session, dossier_id: int) -> list[tuple[str, str, int | None, str | None]]:
    """(from, to, actor id, note) of each Lanjutkan in the history, oldest first."""
    code = {s.id: s.code for s in session.scalar(select(PermitType)).stages}
    rows = session.scalars(select(StageEvent).where(StageEvent.dossier_id == dossier_id,
                                                    StageEvent.action == "advance").order_by(StageEvent.id))
    return [(code[e.from_stage_id], code[e.to_stage_id], e.actor_id, e.note) for e in rows]


def trail(session: Session, dossier_id: int) -> list[tuple]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.dossier_id == dossier_id,
                                                    AuditEntry.action == "move").order_by(AuditEntry.id))
    return [(r.changes["stage"][1], r.actor_id, r.actor_name, r.address, r.origin, r.reason) for r in rows]


VERIFIED_NOTE = "Dilakukan pemohon secara daring: akun terverifikasi 28-11-2026 09.12 WIB"
SIGNED_IN_NOTE = "Dilakukan pemohon secara daring: masuk ke aplikasi 30-11-2026 08.50 WIB"
FILLED_NOTE = "Dilakukan pemohon secara daring: data permohonan diisi 30-11-2026 09.00 WIB"


def test_lanjutkan_records_the_applicants_online_steps_as_the_applicants_with_their_times(accounts):
    session = accounts
    dossier_id = open_online(session, 501)
    for code in FRONT_OFFICE_PAPERS:
        verify(session, dossier_id, code)

    outcome = lanjutkan(session, dossier_id)

    assert outcome.moved and outcome.to_stage == "Verifikasi Berkas"
    assert advances(session, dossier_id) == [
        ("BERKAS", "REGISTRASI", CLERK_ID, None),  # the clerk checked the papers brought in
        ("REGISTRASI", "LOGIN", 501, VERIFIED_NOTE),
        ("LOGIN", "PENGISIAN_DATA", 501, SIGNED_IN_NOTE),
        ("PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", 501, FILLED_NOTE),
        ("TANDA_TERIMA_BERKAS", "ENTRY_DATA", CLERK_ID, None),
        ("ENTRY_DATA", "VERIFIKASI", CLERK_ID, None),
    ]
    applicant = "siti501@contoh.id (Siti Aminah)"
    assert trail(session, dossier_id) == [
        ("REGISTRASI", CLERK_ID, CLERK.name, CLERK.address, "web", None),
        ("LOGIN", 501, applicant, None, "web", VERIFIED_NOTE),
        ("PENGISIAN_DATA", 501, applicant, None, "web", SIGNED_IN_NOTE),
        ("TANDA_TERIMA_BERKAS", 501, applicant, None, "web", FILLED_NOTE),
        ("ENTRY_DATA", CLERK_ID, CLERK.name, CLERK.address, "web", None),
        ("VERIFIKASI", CLERK_ID, CLERK.name, CLERK.address, "web", None),
    ]


def test_a_sign_in_after_submitting_is_not_the_one_the_application_was_made_in(accounts):
    session = accounts
    dossier_id = open_online(session, 502, last_login=LATER - dt.timedelta(hours=1))  # checked the status since
    for code in FRONT_OFFICE_PAPERS:
        verify(session, dossier_id, code)
    lanjutkan(session, dossier_id)
    notes = {step[0]: step[3] for step in advances(session, dossier_id)}
    assert notes["LOGIN"] == "Dilakukan pemohon secara daring: masuk ke aplikasi 30-11-2026 09.00 WIB"


def test_a_counter_dossier_moves_as_before_even_when_its_applicant_has_an_account(accounts):
    session = accounts
    dossier_id = _open(session)
    session.get(Dossier, dossier_id).applicant.account_id = add_account(session, 503)
    session.commit()
    for code in FRONT_OFFICE_PAPERS:
        verify(session, dossier_id, code)
    lanjutkan(session, dossier_id, note="diterima di loket")
    rows = advances(session, dossier_id)
    assert [row[1] for row in rows] == ["REGISTRASI", "LOGIN", "PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", "ENTRY_DATA",
                                         "VERIFIKASI"]
    assert {(row[2], row[3]) for row in rows} == {(CLERK_ID, "diterima di loket")}
    assert {row[1:4] for row in trail(session, dossier_id)} == {(CLERK_ID, CLERK.name, CLERK.address)}


def test_an_online_dossier_whose_applicant_has_no_account_moves_as_a_counter_one(accounts):
    session = accounts
    dossier_id = open_online(session, None)
    for code in FRONT_OFFICE_PAPERS:
        verify(session, dossier_id, code)
    lanjutkan(session, dossier_id)
    assert {(row[2], row[3]) for row in advances(session, dossier_id)} == {(CLERK_ID, None)}


def test_a_gate_failing_midway_stops_the_carry_and_the_next_lanjutkan_is_still_the_applicants_step(accounts):
    session = accounts
    dossier_id = open_online(session, 504)
    verify(session, dossier_id, "PROFIL_PERUSAHAAN")  # the deed, NIB and NPWP (due at PENGISIAN_DATA) are not

    outcome = lanjutkan(session, dossier_id)

    assert (outcome.to_stage, outcome.through) == ("Pengisian Data", ("Registrasi", "Login"))
    assert stage_code(session, dossier_id) == "PENGISIAN_DATA"
    assert [row[1:3] for row in advances(session, dossier_id)] == [
        ("REGISTRASI", CLERK_ID), ("LOGIN", 504), ("PENGISIAN_DATA", 504)]

    for code in ("AKTA_PENDIRIAN", "NIB", "NPWP"):
        verify(session, dossier_id, code)
    again = move(session, dossier_id, Action.ADVANCE, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note="akta asli dilihat",
                 now=LATER)
    session.commit()
    assert again.moved
    assert advances(session, dossier_id)[-1] == (
        "PENGISIAN_DATA", "TANDA_TERIMA_BERKAS", 504, FILLED_NOTE + "\nakta asli dilihat")


def test_a_field_the_applicants_step_demands_still_holds_the_carry(accounts):
    session = accounts
    dossier_id = open_online(session, 505)
    verify(session, dossier_id, "PROFIL_PERUSAHAAN")
    session.get(Dossier, dossier_id).applicant.email = None  # REGISTRASI demands it
    session.commit()
    outcome = lanjutkan(session, dossier_id)
    assert (outcome.to_stage, outcome.through) == ("Registrasi", ())
    assert [row[1:3] for row in advances(session, dossier_id)] == [("REGISTRASI", CLERK_ID)]


def test_a_bulk_lanjutkan_looks_the_applicants_accounts_up_once_per_chunk(accounts):
    session = accounts
    ids = [open_online(session, 510 + n) for n in range(3)] + [_open(session)]
    for dossier_id in ids:
        for code in FRONT_OFFICE_PAPERS:
            verify(session, dossier_id, code)
    session.expire_all()
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        outcomes = apply_many(session, ids, Action.ADVANCE, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note=None,
                              now=LATER, carry=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    session.commit()
    assert [o.to_stage for o in outcomes] == ["Verifikasi Berkas"] * 4
    assert len([s for s in seen if "FROM applicant JOIN ab_user" in s]) == 1
    for n, dossier_id in enumerate(ids[:3]):
        assert [row[2] for row in advances(session, dossier_id)] == [CLERK_ID, 510 + n, 510 + n, 510 + n, CLERK_ID,
                                                                     CLERK_ID]
    assert {row[2] for row in advances(session, ids[3])} == {CLERK_ID}


def test_lanjutkan_kembali_clears_the_papers_sent_from_the_portal(accounts):
    session = accounts
    dossier_id = open_online(session, 520)
    returned = move(session, dossier_id, Action.RETURN, actor_id=CLERK_ID, roles={FRONT_OFFICE},
                    note="KTP tidak terbaca", now=NOW)
    session.commit()
    assert returned.moved
    sent = NOW + dt.timedelta(hours=3)
    session.get(Dossier, dossier_id).resubmitted_at = sent  # "Kirim kelengkapan" on the portal
    session.commit()

    resumed = move(session, dossier_id, Action.RESUME, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note=None, now=LATER)
    session.commit()

    assert resumed.moved
    dossier = session.get(Dossier, dossier_id)
    assert dossier.status == DossierStatus.IN_PROGRESS.value and dossier.resubmitted_at is None
    last = session.scalars(select(AuditEntry).where(AuditEntry.dossier_id == dossier_id, AuditEntry.action == "move")
                           .order_by(AuditEntry.id.desc())).first()
    assert last.changes["resubmitted_at"][1] is None and last.changes["resubmitted_at"][0].startswith("2026-11-30")
    assert last.actor_id == CLERK_ID  # the resume is the clerk's


def test_a_returned_dossier_without_papers_sent_resumes_as_before(accounts):
    session = accounts
    dossier_id = _open(session)
    move(session, dossier_id, Action.RETURN, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note="kurang", now=NOW)
    move(session, dossier_id, Action.RESUME, actor_id=CLERK_ID, roles={FRONT_OFFICE}, note=None, now=LATER)
    session.commit()
    last = session.scalars(select(AuditEntry).where(AuditEntry.dossier_id == dossier_id, AuditEntry.action == "move")
                           .order_by(AuditEntry.id.desc())).first()
    assert last.changes == {"status": ["returned", "in_progress"]}
    assert session.get(Applicant, session.get(Dossier, dossier_id).applicant_id).account_id is None

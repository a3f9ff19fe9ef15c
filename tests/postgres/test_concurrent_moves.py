"""PostgreSQL only: 20 officers press Lanjutkan on the same dossier at the same moment.

Each officer has a connection of their own (an engine of their own, no pool sharing). All of them
load the dossier as it is (version 1), wait at a barrier, then apply ADVANCE. The guarded UPDATE
lets exactly one through; the others are told who moved it and when.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import Document, Dossier, PermitType, StageEvent
from app.security.roles import FRONT_OFFICE
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier
from app.sop.machine import Action, Outcome, apply, load_situation
from tests.conftest import POSTGRES_URL, role_username
from tests.factories import make_applicant, make_company

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]

OFFICERS = 20
SUBMITTED = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09.00 WIB
PRESSED = dt.datetime(2026, 11, 30, 3, 7, tzinfo=dt.timezone.utc)  # 10.07 WIB
TOLD = re.compile(r"^Berkas sudah dipindahkan oleh .+ pada \d\d:\d\d\.$")


def _dossier_ready_to_advance() -> int:
    """A dossier at BERKAS with the requirement due there verified: ADVANCE by the FO is allowed."""
    permit = db.session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_KENDARAAN"))
    company = make_company()
    applicant = make_applicant(company)
    with db.session.no_autoflush:
        dossier = Dossier(company=company, applicant=applicant)
        open_dossier(dossier, permit, SUBMITTED, WorkingCalendar(), actor_id=None)
    db.session.add(dossier)
    db.session.flush()
    first = permit.stages[0]
    for requirement in permit.requirements:
        if requirement.is_mandatory and requirement.due_stage_id == first.id:
            db.session.add(Document(
                dossier_id=dossier.id, requirement_type_id=requirement.id, original_filename=f"{requirement.code}.pdf",
                storage_key="x" * 64, size_bytes=1, sha256="x" * 64, verified_at=SUBMITTED,
            ))
    db.session.commit()
    return dossier.id


def test_twenty_concurrent_advances_write_exactly_one_stage_event(app, clean_db):  # noqa: ARG001
    with app.app_context():
        dossier_id = _dossier_ready_to_advance()
        officer = app.appbuilder.sm.find_user(username=role_username(FRONT_OFFICE))
        officer_id, officer_name = officer.id, f"{officer.first_name} {officer.last_name}"
        url = db.engine.url

    barrier = threading.Barrier(OFFICERS, timeout=60)

    def officer_presses_advance(_: int) -> Outcome:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with Session(engine) as session:
                situation = load_situation(session, dossier_id)
                assert situation.dossier.version == 1
                barrier.wait()  # everyone has judged the same version; now all press at once
                outcome = apply(
                    session, situation, Action.ADVANCE,
                    actor_id=officer_id, roles={FRONT_OFFICE}, note=None, now=PRESSED,
                )
                session.commit()
                return outcome
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=OFFICERS) as pool:
        outcomes = list(pool.map(officer_presses_advance, range(OFFICERS)))

    moved = [o for o in outcomes if o.moved]
    refused = [o for o in outcomes if not o.moved]
    assert len(moved) == 1, [o.reasons for o in outcomes]
    assert len(refused) == OFFICERS - 1
    for outcome in refused:
        assert len(outcome.reasons) == 1 and TOLD.match(outcome.reasons[0]), outcome.reasons
    assert {o.reasons[0] for o in refused} == {f"Berkas sudah dipindahkan oleh {officer_name} pada 10:07."}

    with app.app_context():
        advances = db.session.scalar(
            select(func.count()).select_from(StageEvent).where(
                StageEvent.dossier_id == dossier_id, StageEvent.action == Action.ADVANCE.value
            )
        )
        assert advances == 1
        dossier = db.session.get(Dossier, dossier_id)
        assert (dossier.version, dossier.stage.code, dossier.status) == (2, "REGISTRASI", "in_progress")

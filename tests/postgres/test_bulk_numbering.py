"""PostgreSQL only: "every dossier the filter matches" moved into numbering while five officers
move some of those same dossiers into numbering one by one.

The bulk commits in short chunks and every numbering transaction locks the number counters
before its dossiers (app.sop.numbering.lock_counters), so nobody waits for anybody in a circle:
no deadlock, every dossier moved exactly once (by the bulk or by its officer, the other told it
moved already), the numbers contiguous. (A bulk in one transaction that numbered as it went,
locking dossier after dossier, deadlocked against the single moves in every run.)
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import app.sop.bulk as bulk_moves
from app.extensions import db
from app.models import Dossier, Permit, RegisterEntry
from app.security.roles import KEPALA_DINAS
from app.sop.bulk import move_in_chunks
from app.sop.machine import Action
from tests.conftest import POSTGRES_URL
from tests.paper_samples import DESCRIBE_PERMIT
from tests.postgres.test_concurrent_numbering import SIGNED, _dossiers_awaiting_signature, clean_db  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]

BULK, MOVERS, EACH = 240, 5, 6


def _move(url, ids: list[int]) -> list:  # noqa: ANN001
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return move_in_chunks(session, ids, Action.ADVANCE, clock=lambda: SIGNED, actor_id=None,
                                  roles={KEPALA_DINAS}, note=None, describe_permit=DESCRIBE_PERMIT)
    finally:
        engine.dispose()


def test_a_numbering_bulk_beside_five_single_movers_numbers_every_permit_once(app, clean_db, monkeypatch):  # noqa: ARG001, F811
    given_up: list[str] = []
    real = bulk_moves.given_up_by_the_database

    def counted(exc):  # noqa: ANN001, ANN202
        given_up.append(str(exc.orig))
        return real(exc)

    monkeypatch.setattr(bulk_moves, "given_up_by_the_database", counted)
    with app.app_context():
        bulk_ids = _dossiers_awaiting_signature(BULK)
        single_ids = _dossiers_awaiting_signature(MOVERS * EACH)
        url = db.engine.url

    def officer(k: int) -> list:
        # One dossier at a time, each its own move, as the dossier page does.
        return [outcome for i in single_ids[k * EACH:(k + 1) * EACH] for outcome in _move(url, [i])]

    with ThreadPoolExecutor(max_workers=MOVERS + 1) as pool:
        # The officers' dossiers match the bulk's filter too, spread over its chunks.
        everything = sorted([*bulk_ids, *single_ids])
        bulk = pool.submit(_move, url, everything)
        singles = [pool.submit(officer, k) for k in range(MOVERS)]
        outcomes = bulk.result(timeout=600) + [o for s in singles for o in s.result(timeout=600)]

    everyone = BULK + MOVERS * EACH
    assert given_up == [], "no transaction broken off: the locks are taken in one order (retrying is the backstop)"
    moved = [o.dossier_id for o in outcomes if o.moved]
    assert sorted(moved) == everything, "each dossier moved once, by the bulk or by its officer"
    # The one that came second found the dossier moved on: in between its reading and its writing,
    # or before its reading (numbering is the Back Office's stage, not the Kepala Dinas').
    late = [o.reasons[0] for o in outcomes if not o.moved]
    assert all("sudah dipindahkan" in r or "dikerjakan oleh Back Office" in r for r in late), late
    with app.app_context():
        db.session.rollback()
        seqs = db.session.scalars(select(Permit.seq).where(Permit.year == 2029).order_by(Permit.seq)).all()
        assert seqs == list(range(1, everyone + 1)), "contiguous, no repeat"
        lines = db.session.scalars(select(RegisterEntry.seq).where(RegisterEntry.year == 2029)
                                   .order_by(RegisterEntry.seq)).all()
        assert lines == list(range(1, everyone + 1))
        per_dossier = db.session.execute(select(Permit.dossier_id, func.count()).group_by(Permit.dossier_id)).all()
        assert {d for d, _ in per_dossier} == {*bulk_ids, *single_ids} and {n for _, n in per_dossier} == {1}
        states = db.session.execute(select(Dossier.status, func.count()).where(
            Dossier.id.in_([*bulk_ids, *single_ids])).group_by(Dossier.status)).all()
        assert states == [("issued", everyone)]

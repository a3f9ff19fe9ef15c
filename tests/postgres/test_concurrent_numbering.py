"""PostgreSQL only: 50 Kepala Dinas signatures land at the same moment; every permit gets its own number.

Fifty dossiers wait at PENANDATANGANAN. Each worker has a connection of its own (an engine of its
own, no pool sharing), loads its dossier, waits at a barrier, then advances it into PENOMORAN_CETAK:
the engine numbers the permit and the register line in the move's transaction. The counter rows'
locks queue the workers; each one holds its transaction open a little before committing, so they
really overlap. Numbers come out 1..50 with no gap and no repeat; a worker that fails after taking
its number gives it back.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import Dossier, NumberCounter, Permit, PermitType, RegisterEntry
from app.security.roles import KEPALA_DINAS
from app.sop.machine import Action, Outcome, apply, load_situation
from app.sop.numbering import REGISTER_SERIES
from tests.conftest import POSTGRES_URL, wipe_business_tables
from tests.factories import make_dossier
from tests.paper_samples import DESCRIBE_PERMIT

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]

WORKERS = 50
SERIES = "IZIN_POOL_KENDARAAN"
SUBMITTED = dt.datetime(2029, 11, 26, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09.00 WIB
# 2029: a year no other test issues in, so the counters start from nothing.
SIGNED = dt.datetime(2029, 11, 30, 3, 7, tzinfo=dt.timezone.utc)  # Friday 10.07 WIB
HOLD = 0.05  # seconds each worker keeps its transaction open after numbering


@pytest.fixture()
def clean_db(app):  # noqa: ANN001
    yield
    with app.app_context():
        wipe_business_tables()


class _Abandoned(Exception):
    """The request failed after the move had taken its numbers."""


def _dossiers_awaiting_signature(count: int) -> list[int]:
    """Dossiers at PENANDATANGANAN with every mandatory requirement verified: the Kepala Dinas may advance."""
    permit = db.session.scalar(select(PermitType).where(PermitType.code == SERIES))
    mandatory = tuple(r.code for r in permit.requirements if r.is_mandatory)
    return [
        make_dossier(submitted_at=SUBMITTED, stage_code="PENANDATANGANAN", verified=mandatory).id for _ in range(count)
    ]


def _sign_concurrently(url, dossier_ids: list[int], failing: int | None = None) -> list[Outcome | str]:  # noqa: ANN001
    """Every worker signs its dossier at once and commits; returns the outcomes in worker order.

    With `failing`, the race is staged so that worker takes a number in the middle: the workers
    before it sign and commit first, it takes the next number and holds it until every worker after
    it is queued on the counter row's lock, then it fails and rolls back. Its entry is the permit
    number it had taken.
    """
    barrier = threading.Barrier(len(dossier_ids), timeout=120)
    earlier_committed = threading.Semaphore(0)
    failing_took_its_number = threading.Event()
    later = 0 if failing is None else len(dossier_ids) - failing - 1

    def kepala_dinas_signs(index: int) -> Outcome | str:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with Session(engine) as session:
                situation = load_situation(session, dossier_ids[index])
                assert situation.stage.code == "PENANDATANGANAN"
                barrier.wait()  # every worker connected and loaded; now all sign at once
                if failing is not None and index == failing:
                    for _ in range(failing):
                        assert earlier_committed.acquire(timeout=120)
                elif failing is not None and index > failing:
                    assert failing_took_its_number.wait(timeout=120)
                outcome = apply(
                    session, situation, Action.ADVANCE,
                    actor_id=None, roles={KEPALA_DINAS}, note=None, now=SIGNED, describe_permit=DESCRIBE_PERMIT,
                )
                assert outcome.moved, outcome.reasons
                assert outcome.permit_number
                if index == failing:
                    failing_took_its_number.set()
                    _wait_until_queued_on_locks(engine, later)
                    try:
                        raise _Abandoned(outcome.permit_number)
                    except _Abandoned:
                        session.rollback()
                        return outcome.permit_number
                time.sleep(HOLD)  # keep the numbers (and the counter rows' locks) a while
                session.commit()
                if failing is not None and index < failing:
                    earlier_committed.release()
                return outcome
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=len(dossier_ids)) as pool:
        return list(pool.map(kepala_dinas_signs, range(len(dossier_ids))))


def _wait_until_queued_on_locks(engine, count: int) -> None:  # noqa: ANN001
    """Until `count` other sessions of this database wait for a lock (our counter rows)."""
    deadline = time.monotonic() + 60
    with engine.connect() as watcher:
        while True:
            waiting = watcher.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ))
            watcher.rollback()  # pg_stat_activity is a snapshot per transaction: take a fresh one
            if waiting >= count:
                return
            assert time.monotonic() < deadline, f"only {waiting} of {count} workers queued"
            time.sleep(0.02)


class _LockWatcher:
    """Polls, while the race runs, how many sessions of this database wait for a lock at once."""

    def __init__(self, url) -> None:  # noqa: ANN001
        self.engine = create_engine(url, poolclass=NullPool)
        self.most_waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                waiting = conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ))
                self.most_waiting = max(self.most_waiting, waiting)
                conn.rollback()  # a fresh pg_stat_activity snapshot next time
                time.sleep(0.01)

    def __enter__(self) -> _LockWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()


def _issued() -> tuple[list[Permit], list[RegisterEntry]]:
    db.session.rollback()
    permits = db.session.scalars(select(Permit).where(Permit.year == 2029).order_by(Permit.seq)).all()
    entries = db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.year == 2029).order_by(RegisterEntry.seq)
    ).all()
    return permits, entries


def _counter(series: str) -> int | None:
    return db.session.scalar(
        select(NumberCounter.last_seq).where(NumberCounter.series == series, NumberCounter.year == 2029)
    )


def test_fifty_concurrent_signatures_number_the_permits_one_to_fifty(app, clean_db):  # noqa: ARG001
    with app.app_context():
        dossier_ids = _dossiers_awaiting_signature(WORKERS)
        url = db.engine.url

    with _LockWatcher(url) as watcher:
        outcomes = _sign_concurrently(url, dossier_ids)
    # The transactions really overlapped: many workers were queued on the counter row at once.
    assert watcher.most_waiting >= WORKERS // 2, watcher.most_waiting

    assert sorted(o.permit_number for o in outcomes) == [f"503/{s:04d}/IPK/DPMPTSPTK/2029" for s in range(1, 51)]
    with app.app_context():
        permits, entries = _issued()
        assert [p.seq for p in permits] == list(range(1, WORKERS + 1))
        assert [e.seq for e in entries] == list(range(1, WORKERS + 1))
        assert len({p.number for p in permits}) == WORKERS
        assert len({p.token for p in permits}) == WORKERS
        assert len({e.register_number for e in entries}) == WORKERS
        assert sorted(p.dossier_id for p in permits) == sorted(dossier_ids)  # exactly one permit each
        assert {e.dossier_id: e.permit_number for e in entries} == {p.dossier_id: p.number for p in permits}
        assert {o.dossier_id: o.permit_number for o in outcomes} == {p.dossier_id: p.number for p in permits}
        assert (_counter(SERIES), _counter(REGISTER_SERIES)) == (WORKERS, WORKERS)
        states = db.session.execute(
            select(Dossier.status, func.count()).where(Dossier.id.in_(dossier_ids)).group_by(Dossier.status)
        ).all()
        assert states == [("issued", WORKERS)]


def test_a_signature_rolled_back_in_the_middle_of_fifty_leaves_no_gap(app, clean_db):  # noqa: ARG001
    with app.app_context():
        dossier_ids = _dossiers_awaiting_signature(WORKERS)
        url = db.engine.url

    failing = 24  # worker #25
    outcomes = _sign_concurrently(url, dossier_ids, failing=failing)

    # It had taken number 25 while 25 others queued behind it; one of them got 25 after the rollback.
    assert outcomes[failing] == "503/0025/IPK/DPMPTSPTK/2029"
    assert sorted(o.permit_number for i, o in enumerate(outcomes) if i != failing) == [
        f"503/{s:04d}/IPK/DPMPTSPTK/2029" for s in range(1, WORKERS)
    ]
    with app.app_context():
        permits, entries = _issued()
        assert [p.seq for p in permits] == list(range(1, WORKERS))
        assert [e.seq for e in entries] == list(range(1, WORKERS))
        assert sorted(p.dossier_id for p in permits) == sorted(d for i, d in enumerate(dossier_ids) if i != failing)
        assert (_counter(SERIES), _counter(REGISTER_SERIES)) == (WORKERS - 1, WORKERS - 1)
        abandoned = db.session.get(Dossier, dossier_ids[failing])
        assert (abandoned.stage.code, abandoned.status, abandoned.version) == ("PENANDATANGANAN", "in_progress", 1)

"""The numbering race for bench/bulk_move.py --numbering-race (see its --help).

N dossiers wait at PENANDATANGANAN, every requirement verified. The Kepala Dinas moves "every
dossier the filter matches" into numbering (app.sop.bulk.move_in_chunks, as the bulk-move job
does), while MOVERS officers, each in a process of its own as under gunicorn, move dossiers of
that same set into numbering one at a time, as the dossier page does. (Given up by the database
in an officer's process is not counted: the officers' transactions are single moves.) Measured: the bulk's wall time, each single move's wall time (its
wait behind the bulk included), and how many transactions the database gave up (deadlocks).
BASELINE: the same bulk alone on the same fresh data.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import statistics
import time

from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import app.sop.bulk as bulk_moves
from app.models import Applicant, Company, Document, Dossier, PermitType, Stage
from app.printing import Office, describe_permits
from app.security.roles import KEPALA_DINAS
from app.sop.machine import Action, load_situation
from reports.papers import Letterhead, Signatory

NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.timezone.utc)
OFFICE = Office(
    letterhead=Letterhead("PEMERINTAH KABUPATEN LANDAK", "DPMPTSPTK", "Ngabang", "-", None, "Ngabang"),
    signatory=Signatory("KEPALA DINAS", "Bench", "19700101 199001 1 001", "Pembina"),
    paper_size="F4", timezone="Asia/Jakarta", public_base_url="http://bench.invalid",
)
DESCRIBE = describe_permits(OFFICE)


def place_for_signing(url: str, dossiers: int) -> None:
    """On a database bench/bulk_move.build made: every dossier at PENANDATANGANAN, verified."""
    engine = create_engine(url)
    with Session(engine) as session:
        permit = session.scalar(select(PermitType))
        signing = session.scalar(select(Stage.id).where(Stage.code == "PENANDATANGANAN"))
        session.execute(Dossier.__table__.update().values(stage_id=signing))
        optional = [r for r in permit.requirements if not r.is_mandatory]
        session.execute(insert(Document), [
            dict(dossier_id=i, requirement_type_id=r.id, original_filename="x.pdf", storage_key="k", size_bytes=1,
                 sha256="s", verified_at=NOW)
            for i in range(1, dossiers + 1) for r in optional
        ])
        session.commit()
    engine.dispose()
    assert Company and Applicant  # built by bench/bulk_move.build


def _move(engine, ids: list[int]) -> list:  # noqa: ANN001
    with Session(engine) as session:
        return bulk_moves.move_in_chunks(
            session, ids, Action.ADVANCE, clock=lambda: NOW, actor_id=None, roles={KEPALA_DINAS}, note=None,
            describe_permit=DESCRIBE,
        )


def _officer(url: str, ids: list[int], start, results) -> None:  # noqa: ANN001
    """One officer's process, as a gunicorn worker is (its connection pool, warm): single
    moves, each timed from the click to the commit."""
    engine = create_engine(url, pool_size=1)
    with Session(engine) as session:  # a first, untimed read: imports, connection, statement caches
        load_situation(session, ids[0])
    start.wait()
    for dossier_id in ids:
        began = time.perf_counter()
        _move(engine, [dossier_id])
        results.put(time.perf_counter() - began)
    results.put(None)
    engine.dispose()


def race(url: str, dossiers: int, movers: int, per_mover: int) -> dict:
    """The bulk over every dossier in this process, and `movers` officers in processes of their
    own moving `per_mover` of the same dossiers each."""
    given_up: list[str] = []
    real = bulk_moves.given_up_by_the_database

    def counted(exc):  # noqa: ANN001, ANN202
        given_up.append(type(exc.orig).__name__)
        return real(exc)

    bulk_moves.given_up_by_the_database = counted
    picks = random.Random(76).sample(range(1, dossiers + 1), movers * per_mover)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    officers = [spawn.Process(target=_officer, args=(url, picks[k * per_mover:(k + 1) * per_mover], start, results))
                for k in range(movers)]
    for officer in officers:
        officer.start()
    began = time.perf_counter()
    start.set()
    engine = create_engine(url, poolclass=NullPool)
    outcomes = _move(engine, list(range(1, dossiers + 1)))
    bulk_seconds = time.perf_counter() - began
    engine.dispose()
    waits, finished = [], 0
    while finished < movers:
        got = results.get(timeout=600)
        finished += got is None
        if got is not None:
            waits.append(got)
    for officer in officers:
        officer.join()
    bulk_moves.given_up_by_the_database = real
    waits.sort()
    return {
        "bulk_seconds": bulk_seconds,
        "bulk_moved": sum(o.moved for o in outcomes),
        "single_moves": len(waits),
        "single_p50_ms": statistics.median(waits) * 1000 if waits else 0.0,
        "single_p95_ms": waits[int(0.95 * (len(waits) - 1))] * 1000 if waits else 0.0,
        "single_max_ms": waits[-1] * 1000 if waits else 0.0,
        "given_up": len(given_up),
    }


def alone(url: str, dossiers: int) -> float:
    engine = create_engine(url, poolclass=NullPool)
    began = time.perf_counter()
    outcomes = _move(engine, list(range(1, dossiers + 1)))
    seconds = time.perf_counter() - began
    engine.dispose()
    assert all(o.moved for o in outcomes), next(o.reasons for o in outcomes if not o.moved)
    return seconds

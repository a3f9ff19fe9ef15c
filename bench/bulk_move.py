"""Benchmark: one bulk move of N dossiers through the SOP engine, next to a fair bare loop.

What it measures
  OURS      app.sop.machine.apply_many(ADVANCE) by a Back Office officer on N dossiers waiting at
            VERIFIKASI with every requirement verified, in one transaction: per chunk of
            app.sop.machine.BULK_CHUNK (500) dossiers, the rows loaded with their SOP rows and
            verified documents, each row judged by the completeness gate and the role check, the
            allowed moves written by one guarded UPDATE per kind of move (each row still matched
            by its id, stage, status and version: (id, version) IN (...) ... RETURNING id), then
            the chunk's history rows in one INSERT and its audit rows (one per move,
            app.audit.write) in one INSERT.
  BASELINE  a bare loop over N other, identical dossiers writing the same rows the same way, with
            no loading and no judging: per chunk of the same BULK_CHUNK, the same guarded UPDATE
            per dossier (SET stage, status, due date, version + 1 WHERE id, stage, version,
            status, through Core on the session's connection), then ONE INSERT of the chunk's
            history rows and ONE INSERT of its audit rows (the same values ours writes).
Both run on copies of one freshly built SQLite file (or on PostgreSQL with --database-url,
rebuilding between runs), alternating, --rounds times each; medians are reported. After each run
the database is checked: every dossier moved, one history row and one audit row per dossier.

The LAST line printed is one JSON object:
  {"dossiers", "ours_per_s", "baseline_per_s", "ratio" (ours time / baseline time),
   "ours_sql_per_dossier", "baseline_sql_per_dossier", "chunk", "rounds", "database"}

Usage: python bench/bulk_move.py [--dossiers 100000] [--rounds 3] [--database-url postgresql://...]

With --numbering-race (bench/numbering_race.py): N dossiers at PENANDATANGANAN moved into
numbering by "every dossier the filter matches" (app.sop.bulk.move_in_chunks, short committed
chunks, as the bulk-move job runs it) while --movers officers each move --per-mover dossiers of
that same set one at a time. BASELINE: the same bulk alone on fresh data. Its LAST line:
  {"dossiers", "bulk_seconds", "alone_seconds", "ratio" (bulk beside the movers / alone),
   "bulk_moved", "single_moves", "single_p50_ms", "single_p95_ms", "single_max_ms" (each single
   move's wall time, its wait behind the bulk included), "given_up" (transactions the database
   broke off and the chunk retried), "rounds", "database"}
Usage: python bench/bulk_move.py --numbering-race --database-url postgresql://... [--dossiers 10000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, create_engine, event, insert, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.audit.context import actor_of  # noqa: E402
from app.models import (  # noqa: E402
    Applicant,
    AuditEntry,
    Company,
    Document,
    Dossier,
    PermitType,
    Stage,
    StageEvent,
    create_all,
    drop_all,
)
from app.security.roles import BACK_OFFICE, STAGE_ROLES  # noqa: E402
from app.sop.loader import load_sops, parse_sop_dir  # noqa: E402
from app.sop.machine import BULK_CHUNK, Action, apply_many  # noqa: E402

NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.timezone.utc)
WAITING_AT = "VERIFIKASI"


def build(url: str, dossiers: int) -> None:
    """N dossiers at VERIFIKASI, legality and pool site filled, every requirement verified."""
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        # A scratch database: whatever it held (the test suite's whole schema) goes.
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            # The grids' trigram indexes need it; dropping the schema dropped it.
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    else:
        drop_all(engine)
    create_all(engine)
    with Session(engine) as session:
        load_sops(session, parse_sop_dir(ROOT / "seed" / "sop", STAGE_ROLES, 510))
        permit = session.scalar(select(PermitType))
        stage = session.scalar(select(Stage).where(Stage.code == WAITING_AT))
        session.execute(insert(Company), [
            dict(id=i, name=f"PT Bench {i}", legal_form="PT", nib=f"{9120000000000 + i}", npwp="012345678901000",
                 deed_number="1", deed_date=dt.date(2020, 1, 1), address="Jl. Bench") for i in range(1, dossiers + 1)
        ])
        session.execute(insert(Applicant), [
            dict(id=i, full_name=f"Bench {i}", nik=f"6108014508{i:06d}", email="b@bench.example", company_id=i)
            for i in range(1, dossiers + 1)
        ])
        session.execute(insert(Dossier), [
            dict(id=i, receipt_number=f"IPK-26-{i:06d}", permit_type_id=permit.id, company_id=i, applicant_id=i,
                 stage_id=stage.id, status="in_progress", submitted_at=NOW, due_at=NOW, version=7,
                 site_address=f"Jl. Bench Km {i}, Hilir Kantor, Kec. Ngabang", site_area_m2=1200,
                 vehicle_capacity=20)
            for i in range(1, dossiers + 1)
        ])
        session.execute(insert(Document), [
            dict(dossier_id=i, requirement_type_id=r.id, original_filename="x.pdf", storage_key="k", size_bytes=1,
                 sha256="s", verified_at=NOW)
            for i in range(1, dossiers + 1) for r in permit.requirements if r.is_mandatory
        ])
        session.commit()
    engine.dispose()


class Counter:
    def __init__(self, engine) -> None:  # noqa: ANN001
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.hit)

    def hit(self, *args) -> None:  # noqa: ANN002
        self.count += 1


def run_ours(url: str, dossiers: int) -> tuple[float, int]:
    engine = create_engine(url)
    counter = Counter(engine)
    with Session(engine) as session:
        ids = list(range(1, dossiers + 1))
        counter.count = 0
        started = time.perf_counter()
        outcomes = apply_many(session, ids, Action.ADVANCE, actor_id=None, roles={BACK_OFFICE}, note=None, now=NOW)
        session.commit()
        seconds = time.perf_counter() - started
        statements = counter.count
    assert all(o.moved for o in outcomes), next(o.reasons for o in outcomes if not o.moved)
    check_moved(engine, dossiers)
    engine.dispose()
    return seconds, statements


# The baseline's UPDATE: the same SET and the same guard (WHERE id, stage, version, status) as
# app.sop.machine's, bound per dossier.
_DOSSIER = Dossier.__table__
_BARE_UPDATE = (
    update(_DOSSIER)
    .where(_DOSSIER.c.id == bindparam("dossier_id"), _DOSSIER.c.stage_id == bindparam("seen_stage"),
           _DOSSIER.c.version == bindparam("seen_version"), _DOSSIER.c.status == bindparam("seen_status"))
    .values(stage_id=bindparam("new_stage"), status=bindparam("new_status"), due_at=bindparam("new_due"),
            version=_DOSSIER.c.version + 1)
)


def run_baseline(url: str, dossiers: int) -> tuple[float, int]:
    engine = create_engine(url)
    counter = Counter(engine)
    with Session(engine) as session:
        permit = session.scalar(select(PermitType))
        stages = {s.seq: s for s in session.scalars(select(Stage).where(Stage.permit_type_id == permit.id))}
        here = next(s for s in stages.values() if s.code == WAITING_AT)
        after = stages[here.seq + 1]
        actor = actor_of(session)
        audit_base = dict(occurred_at=NOW, actor_id=actor.id, actor_name=actor.name, address=actor.address,
                          origin=actor.origin, reason=None, import_batch_id=None)
        moved_fields = {"stage": [here.code, after.code]}
        counter.count = 0
        started = time.perf_counter()
        connection = session.connection()
        for first in range(1, dossiers + 1, BULK_CHUNK):
            chunk = range(first, min(first + BULK_CHUNK, dossiers + 1))
            for dossier_id in chunk:
                moved = connection.execute(_BARE_UPDATE, {
                    "dossier_id": dossier_id, "seen_stage": here.id, "seen_version": 7, "seen_status": "in_progress",
                    "new_stage": after.id, "new_status": "in_progress", "new_due": NOW,
                })
                assert moved.rowcount == 1
            session.execute(insert(StageEvent), [
                dict(dossier_id=i, from_stage_id=here.id, to_stage_id=after.id, action="advance", actor_id=None,
                     occurred_at=NOW, note=None) for i in chunk
            ])
            connection.execute(insert(AuditEntry.__table__), [
                {**audit_base, "entity": "dossier", "record_id": i, "action": "move", "dossier_id": i,
                 "changes": moved_fields} for i in chunk
            ])
        session.commit()
        seconds = time.perf_counter() - started
        statements = counter.count
    check_moved(engine, dossiers)
    engine.dispose()
    return seconds, statements


def check_moved(engine, dossiers: int) -> None:  # noqa: ANN001
    """Both sides must leave the same rows: every dossier one stage on, one history and one audit row each."""
    with engine.connect() as connection:
        waiting = connection.execute(text(
            "SELECT count(*) FROM dossier JOIN stage ON stage.id = dossier.stage_id WHERE stage.code = :code"
        ), {"code": WAITING_AT}).scalar()
        history = connection.execute(text("SELECT count(*) FROM stage_event WHERE action = 'advance'")).scalar()
        trail = connection.execute(text(
            "SELECT count(*) FROM audit_log WHERE entity = 'dossier' AND action = 'move'"
        )).scalar()
        versions = connection.execute(text("SELECT count(*) FROM dossier WHERE version = 8")).scalar()
    assert (waiting, history, trail, versions) == (0, dossiers, dossiers, dossiers), (waiting, history, trail, versions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, help="dossiers moved per run; default 100000 (10000 with --numbering-race)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating; default 3")
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database (dropped and rebuilt!)")
    parser.add_argument("--numbering-race", action="store_true", help="the numbering bulk beside single movers")
    parser.add_argument("--movers", type=int, default=5, help="officers moving single dossiers; default 5")
    parser.add_argument("--per-mover", type=int, default=40, help="single moves per officer; default 40")
    args = parser.parse_args()
    if args.dossiers is None:
        args.dossiers = 10_000 if args.numbering_race else 100_000
    if args.numbering_race:
        run_race(args)
        return

    ours, base, ours_sql, base_sql = [], [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)

            def fresh() -> str:
                build(url, args.dossiers)
                return url
        else:
            template = Path(tmp) / "template.db"
            build(f"sqlite:///{template}", args.dossiers)

            def fresh() -> str:
                copy = Path(tmp) / "run.db"
                shutil.copy(template, copy)
                return f"sqlite:///{copy}"

        for _ in range(args.rounds):
            seconds, ours_sql = run_ours(fresh(), args.dossiers)
            ours.append(seconds)
            seconds, base_sql = run_baseline(fresh(), args.dossiers)
            base.append(seconds)

    ours_s, base_s = statistics.median(ours), statistics.median(base)
    print(f"ours     {args.dossiers / ours_s:9.0f} dossiers/s  {ours_sql / args.dossiers:.3f} SQL per dossier")
    print(f"baseline {args.dossiers / base_s:9.0f} dossiers/s  {base_sql / args.dossiers:.3f} SQL per dossier")
    print(json.dumps({
        "dossiers": args.dossiers,
        "ours_per_s": round(args.dossiers / ours_s),
        "baseline_per_s": round(args.dossiers / base_s),
        "ratio": round(ours_s / base_s, 3),
        "ours_sql_per_dossier": round(ours_sql / args.dossiers, 3),
        "baseline_sql_per_dossier": round(base_sql / args.dossiers, 3),
        "chunk": BULK_CHUNK,
        "rounds": args.rounds,
        "database": "postgresql" if args.database_url else "sqlite",
    }))


def run_race(args: argparse.Namespace) -> None:
    from numbering_race import alone, place_for_signing, race

    results, lone = [], []
    with tempfile.TemporaryDirectory() as tmp:
        url = (args.database_url.replace("postgresql://", "postgresql+psycopg://", 1) if args.database_url
               else f"sqlite:///{Path(tmp) / 'race.db'}")
        for _ in range(args.rounds):
            for measure in ("alone", "race"):
                build(url, args.dossiers)
                place_for_signing(url, args.dossiers)
                if measure == "alone":
                    lone.append(alone(url, args.dossiers))
                else:
                    results.append(race(url, args.dossiers, args.movers, args.per_mover))
                    print(f"race: {json.dumps(results[-1])}", flush=True)
    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    print(json.dumps({
        "dossiers": args.dossiers,
        "bulk_seconds": round(median("bulk_seconds"), 2),
        "alone_seconds": round(statistics.median(lone), 2),
        "ratio": round(median("bulk_seconds") / statistics.median(lone), 3),
        "bulk_moved": int(median("bulk_moved")),
        "single_moves": int(median("single_moves")),
        "single_p50_ms": round(median("single_p50_ms"), 1),
        "single_p95_ms": round(median("single_p95_ms"), 1),
        "single_max_ms": round(median("single_max_ms"), 1),
        "given_up": int(sum(r["given_up"] for r in results)),
        "rounds": args.rounds,
        "database": "postgresql" if args.database_url else "sqlite",
    }))


if __name__ == "__main__":
    main()

"""Benchmark: the SLA cells of the dossier grid (and of its Excel export) for returned dossiers.

What it measures
  app.views.grid._add_clock_cells() over the first --rows returned dossiers of a demo database,
  in batches of 1,000 (the export's keyset batch, app.views.paging.EXPORT_BATCH), inside a
  request context: the one query for the open returns and the working time left / overdue cell
  of every row. A returned dossier has its own return instant, so each row is its own clock.
  OURS      the clock from the working-day tables (app.sop.sla), built afresh for each run.
  BASELINE  the same cells with the day-by-day walk (sla._working_time_by_day/_advance_by_day):
            the clock as it was.
  Both sides must give the same cells (checked). "now" is the real clock, as in the grid.
The database is one made by `python bench/excel_register.py --month-job --keep DIR` (110,000 demo
dossiers received in May 2026, about 7,600 of them returned). Sides alternate, --rounds times each;
the best run of each side is reported.

The LAST line printed is one JSON object:
  {"returned_rows", "ours_seconds", "baseline_seconds", "ratio" (ours / baseline), "rounds"}

Usage: python bench/clock_cells.py --db-dir DIR [--rows 5000] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-dir", type=Path, required=True, help="folder of a --month-job --keep database")
    parser.add_argument("--rows", type=int, default=5000, help="returned dossiers to draw; default 5000")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side, alternating; default 2")
    args = parser.parse_args()
    if not (args.db_dir / "loket.db").exists():
        parser.error(f"no loket.db in {args.db_dir}: run bench/excel_register.py --month-job --keep {args.db_dir}")
    os.environ["LOKET_INSTANCE_PATH"] = str(args.db_dir)
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Dossier, DossierStatus
    from app.sop import sla
    from app.views import grid
    from app.views.paging import EXPORT_BATCH
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{args.db_dir / 'loket.db'}"
        SECRET_KEY = secrets.token_urlsafe(32)

    app = create_app(BenchConfig)
    with app.test_request_context("/"):
        connection = db.session.connection()
        found = connection.execute(
            select(Dossier.id, Dossier.status, Dossier.due_at)
            .where(Dossier.status == DossierStatus.RETURNED.value).order_by(Dossier.id).limit(args.rows)
        ).all()

        def run(side: str) -> tuple[float, list]:
            sla._calendar_tables.cache_clear()
            patch = mock.patch.multiple(sla, _working_time=sla._working_time_by_day, _advance=sla._advance_by_day)
            if side == "baseline":
                patch.start()
            try:
                started, cells = time.perf_counter(), []
                for start in range(0, len(found), EXPORT_BATCH):
                    rows = [grid.GridRow({"id": i, "status": s, "due_at": d}) for i, s, d in found[start:start + EXPORT_BATCH]]
                    grid._add_clock_cells(connection, rows)
                    cells += [(row.time_left, row.overdue) for row in rows]
                return time.perf_counter() - started, cells
            finally:
                if side == "baseline":
                    patch.stop()

        times: dict[str, list[float]] = {"ours": [], "baseline": []}
        answers = {}
        for round_no in range(args.rounds):
            for side in (("ours", "baseline") if round_no % 2 == 0 else ("baseline", "ours")):
                seconds, answers[side] = run(side)
                times[side].append(seconds)
                print(f"round {round_no + 1} {side:8s} {seconds:7.3f} s", flush=True)
        assert answers["ours"] == answers["baseline"], "the two paths disagree"
    ours, baseline = min(times["ours"]), min(times["baseline"])
    print(json.dumps({"returned_rows": len(found), "ours_seconds": round(ours, 3), "baseline_seconds": round(baseline, 3),
                      "ratio": round(ours / baseline, 3), "rounds": args.rounds}))


if __name__ == "__main__":
    main()

"""Benchmark: the Dossier grid's deep page, due-date sort, stage filter and name search, and a
keyset export pass, on an existing database (PostgreSQL: the figures of issue 13).

What it measures
  Against the database in --database-url (filled beforehand with `flask --app run.py loket init`
  and `flask --app run.py loket demo --dossiers N`), signed in as the Admin user --user, through
  Flask's test client (routing to rendered HTML, no HTTP server):
    first        /dossierview/list/                         (page 1, newest first)  -- the baseline
    deep         /dossierview/list/?page_DossierView=P      (page P+1, default --page 1999)
    due_sort     /dossierview/list/?_oc_DossierView=due_at&_od_DossierView=asc
    stage        /dossierview/list/?_flt_0_stage=<id of --stage>
    company      /dossierview/list/?_flt_0_company=<--company>   (company name contains)
  each: median wall-clock ms over --repeat requests after --warmup, and SQL statements per page
  (SQLAlchemy before_cursor_execute). Then, unless --no-export, the rows of the stage filter
  through app.views.export.grid_rows into reports.grid_export.write_grid (what the grid_export
  job does, to a temporary .xlsx), capped at --export-rows: rows per second, the process's
  resident memory before the export and its peak during it (steady memory: the two are close),
  and the statements it ran.

The LAST line printed is one JSON object:
  {"first_ms", "deep_ms", "due_sort_ms", "stage_ms", "company_ms", "<name>_sql", ...,
   "ratio_deep_to_first", "ratio_due_sort_to_first", "export_rows", "export_rows_per_s",
   "export_rss_before_mb", "export_rss_peak_mb"}

Usage: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/scratch LOKET_INSTANCE_PATH=/tmp/scratch \
       python bench/grid_paging.py [--page 1999] [--repeat 7] [--warmup 2] [--stage PENGARSIPAN]
       [--company Gemilang] [--export-rows 50000] [--no-export] [--user admin]
"""
from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--page", type=int, default=1999, help="zero-based page of the deep page (default 1999)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--stage", default="PENGARSIPAN")
    parser.add_argument("--company", default="Gemilang")
    parser.add_argument("--export-rows", type=int, default=50_000)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--user", default="admin")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event, select

    from app import create_app
    from app.extensions import db
    from app.models import Stage
    from config import Config

    class BenchConfig(Config):
        RATELIMIT_ENABLED = False
        RATELIMIT_STORAGE_URI = "memory://"

    app = create_app(BenchConfig)
    statements = [0]
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=args.user).id
        stage_id = db.session.scalar(select(Stage.id).where(Stage.code == args.stage))
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["locale"] = "id"

    pages = {
        "first": "/dossierview/list/",
        "deep": f"/dossierview/list/?page_DossierView={args.page}",
        "due_sort": "/dossierview/list/?_oc_DossierView=due_at&_od_DossierView=asc",
        "stage": f"/dossierview/list/?_flt_0_stage={stage_id}",
        "company": f"/dossierview/list/?_flt_0_company={args.company}",
    }
    with app.app_context():
        result: dict[str, object] = {"page": args.page, "dialect": db.engine.dialect.name}
    for name, url in pages.items():
        times = []
        for i in range(args.warmup + args.repeat):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if i >= args.warmup:
                times.append(ms)
        result[f"{name}_ms"] = round(statistics.median(times), 1)
        result[f"{name}_sql"] = statements[0]
        print(f"{name:9s} {result[f'{name}_ms']:8.1f} ms  {statements[0]} statements  {url}", flush=True)
    result["ratio_deep_to_first"] = round(result["deep_ms"] / result["first_ms"], 2)
    result["ratio_due_sort_to_first"] = round(result["due_sort_ms"] / result["first_ms"], 2)

    if not args.no_export:
        from app.views.export import grid_headers, grid_rows
        from reports.grid_export import write_grid

        view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "DossierView")
        with app.test_request_context(pages["stage"]):
            from flask_login import login_user

            login_user(app.appbuilder.sm.get_user_by_id(user_id))
            statements[0] = 0
            before = _resident_mb()
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as folder:
                done = write_grid(Path(folder) / "export.xlsx", "bench", grid_headers(view),
                                  itertools.islice(grid_rows(view), args.export_rows))
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            db.session.rollback()
        result.update(export_rows=done, export_seconds=round(seconds, 2), export_rows_per_s=round(done / seconds),
                      export_rss_before_mb=round(before, 1), export_rss_peak_mb=round(peak, 1),
                      export_sql=statements[0])
        print(f"export    {done} rows in {seconds:.2f} s, resident {before:.0f} MB before, peak {peak:.0f} MB, "
              f"{statements[0]} statements", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

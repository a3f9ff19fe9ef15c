"""Benchmark: the supervisors' dashboard (/dasbor/) against the Dossier grid's default page.

What it measures
  OURS      GET through Flask's test client (routing to rendered HTML or the file, no HTTP
            server), signed in as a Supervisor:
              month     /dasbor/                        this month (the default), all permit types
              year      /dasbor/?dari=..&sampai=..      the last 12 months
              excel     /dasbor/excel/mutu-baku         one panel's Excel (this month)
              home_kabid /  as a Kabid Perizinan: their queue with the dashboard under it
              bell       /notifikasi/                   the Supervisor's alerts and every dossier at risk now
              bell_count /notifikasi/jumlah             the bell's count (bell.js asks it after each page)
            Each dashboard page draws six panels: dossiers now per stage by SLA state (live, one
            GROUP BY over the work-queue index), the 12 months' flow and on-time share, time per
            stage against the mutu baku, returns by reason and workload per officer (from the
            daily tallies, app.dashboard.tallies).
            Also timed once per run, outside the pages: counting the tallies from nothing
            (`loket dashboard --rebuild`, only when the database has none yet or with --recount),
            and a periodic refresh with nothing new (the job's cost every five minutes); the SLA
            scan (app.alerts.scan) twice: the first stores the notifications, the second finds
            them all stored already (the job's cost every five minutes).
  BASELINE  the Dossier grid's default page (/dossierview/list/, 25 newest dossiers), in the same
            app, the same process and the same run, interleaved with the pages above in a
            rotating order, so both see the same machine noise.
  Per page: p50 and p95 wall-clock ms over --repeat requests after --warmup, SQL statements per
  request (SQLAlchemy before_cursor_execute on the engine), the response size, and the ratio of
  its p50 to the baseline's.

Data: Alembic upgrade (also on a reused database: the tallies' tables are new), role sync, SOP
load, then seed.demo.generate(--dossiers) when the database holds none; then the tallies. A
fresh SQLite file in a temp dir (or --keep DIR, reused on later runs); or PostgreSQL with
--database-url. --rebuild builds the data again (on PostgreSQL it DROPS the public schema first).

Target (issue 15): every dashboard page at p50 <= 300 ms; "misses" lists those that did not.

The LAST line printed is one JSON object:
  {"dossiers", "database", "repeat", "demo_seconds", "tally_rebuild_seconds", "tally_refresh_ms",
   "tally_rows", "scan_first_ms", "scan_again_ms", "notifications", "baseline": {"page", "p50_ms", "p95_ms", "sql"},
   "pages": {NAME: {"url", "p50_ms", "p95_ms", "sql", "bytes", "ratio"}},
   "worst_ratio", "max_p50_ms", "target_ms", "misses"}

Usage: python bench/dashboard.py [--dossiers 100000] [--repeat 30] [--warmup 3] [--seed 76] [--keep DIR] [--recount]
       python bench/dashboard.py --database-url postgresql://postgres@127.0.0.1/scratch --dossiers 1000000
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from demo_app import StatementCounter, demo_app, demo_parser, sign_in, user

TARGET_MS = 300.0
BASELINE = "/dossierview/list/"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prepare(args: argparse.Namespace, workdir: Path) -> tuple:
    """The app with data, tallies and alerts; (app, demo seconds, rebuild seconds, figures, pages)."""
    app, demo_seconds, _ = demo_app(args.database_url, workdir, args.dossiers, args.seed, args.rebuild)
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import alerts
    from app.dashboard import tallies
    from app.dashboard.panels import months_back
    from app.extensions import db
    from app.models import DashboardTally, Notification
    from app.office import office_calendar
    from app.security.roles import KABID_PERIZINAN, SUPERVISOR
    from app.security.sync import sync_roles

    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)
    supervisor, kabid = user(app, "sup_dash_bench", SUPERVISOR), user(app, "kabid_dash_bench", KABID_PERIZINAN)
    rebuild_seconds = None
    with app.test_request_context():
        calendar, now = office_calendar(), dt.datetime.now(dt.timezone.utc)
        if args.recount or tallies.state(db.session).through is None:
            started = time.perf_counter()
            report = tallies.refresh(db.session, calendar, now, rebuild=True)
            rebuild_seconds = time.perf_counter() - started
            print(f"tallies: {report.days} days counted in {rebuild_seconds:.1f} s", flush=True)
        refresh_ms = []
        for _ in range(3):
            started = time.perf_counter()
            tallies.refresh(db.session, calendar, dt.datetime.now(dt.timezone.utc))
            refresh_ms.append((time.perf_counter() - started) * 1000)
        rows = db.session.scalar(select(func.count()).select_from(DashboardTally))
        scans = []
        for _ in range(2):
            started = time.perf_counter()
            alerts.scan(db.session, calendar, now)
            db.session.commit()
            scans.append((time.perf_counter() - started) * 1000)
        notifications = db.session.scalar(select(func.count()).select_from(Notification))
        this_month = calendar.local_date(now).replace(day=1)
        first = months_back(this_month, 11)
        db.session.remove()
    year = {"dari": f"{first.year}-{first.month:02d}", "sampai": f"{this_month.year}-{this_month.month:02d}"}
    pages = {
        "baseline": (BASELINE, supervisor),
        "month": ("/dasbor/", supervisor),
        "year": ("/dasbor/?" + urlencode(year), supervisor),
        "excel": ("/dasbor/excel/mutu-baku", supervisor),
        "home_kabid": ("/", kabid),
        "bell": ("/notifikasi/", supervisor),
        "bell_count": ("/notifikasi/jumlah", supervisor),
    }
    figures = {"tally_refresh_ms": round(statistics.median(refresh_ms), 1), "tally_rows": rows,
               "scan_first_ms": round(scans[0], 1), "scan_again_ms": round(scans[1], 1),
               "notifications": notifications}
    return app, demo_seconds, rebuild_seconds, figures, pages


def measure(app, pages: dict, repeat: int, warmup: int) -> dict[str, list[dict]]:  # noqa: ANN001
    """Every page `warmup + repeat` times, in a rotating order; the measured samples per page."""
    from app.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
    clients = {}
    for _url, account in pages.values():
        if account not in clients:
            clients[account] = app.test_client()
            sign_in(clients[account], account)
    names = list(pages)
    samples: dict[str, list[dict]] = {name: [] for name in names}
    for i in range(warmup + repeat):
        shift = (i * 3) % len(names)
        for name in names[shift:] + names[:shift]:
            url, account = pages[name]
            counter.count = 0
            started = time.perf_counter()
            response = clients[account].get(url)
            ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            if i >= warmup:
                samples[name].append({"ms": ms, "sql": counter.count, "bytes": len(response.get_data())})
    return samples


def report(args: argparse.Namespace, pages: dict, samples: dict, figures: dict) -> dict:
    def stats(name: str) -> dict:
        ms = [s["ms"] for s in samples[name]]
        return {"url": pages[name][0], "p50_ms": round(statistics.median(ms), 2),
                "p95_ms": round(_percentile(ms, 0.95), 2),
                "sql": int(statistics.median(s["sql"] for s in samples[name])),
                "bytes": samples[name][0]["bytes"]}

    base = stats("baseline")
    print(f"{'baseline':11s} p50 {base['p50_ms']:8.2f} ms  p95 {base['p95_ms']:8.2f} ms {base['sql']:3d} SQL  "
          f"{BASELINE}")
    results, misses = {}, []
    for name in pages:
        if name == "baseline":
            continue
        row = stats(name)
        row["ratio"] = round(row["p50_ms"] / base["p50_ms"], 3)
        results[name] = row
        if row["p50_ms"] > TARGET_MS:
            misses.append(name)
        print(f"{name:11s} p50 {row['p50_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms {row['sql']:3d} SQL "
              f"{row['bytes'] / 1024:7.1f} KB | ratio {row['ratio']:6.3f}  {row['url']}")
    return {
        "dossiers": args.dossiers, "database": "postgresql" if args.database_url else "sqlite", "repeat": args.repeat,
        **figures, "baseline": {k: base[k] for k in ("url", "p50_ms", "p95_ms", "sql")}, "pages": results,
        "worst_ratio": max(r["ratio"] for r in results.values()),
        "max_p50_ms": max(r["p50_ms"] for r in results.values()), "target_ms": TARGET_MS, "misses": misses,
    }


def _parser() -> argparse.ArgumentParser:
    parser = demo_parser(__doc__)
    parser.add_argument("--recount", action="store_true", help="Count the tallies from nothing again (timed).")
    return parser


def main() -> None:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="loket-dashboard-bench-") as scratch:
        workdir = Path(args.keep or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        app, demo_seconds, rebuild_seconds, figures, pages = prepare(args, workdir)
        samples = measure(app, pages, args.repeat, args.warmup)
        figures = {
            "demo_seconds": None if demo_seconds is None else round(demo_seconds, 1),
            "tally_rebuild_seconds": None if rebuild_seconds is None else round(rebuild_seconds, 1), **figures,
        }
        result = report(args, pages, samples, figures)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

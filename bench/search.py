"""Benchmark: the top bar's search box (/cari/?q=...) against the Dossier grid's default page.

What it measures
  OURS      GET /cari/?q=<text> through Flask's test client (routing to rendered HTML or the
            redirect, no HTTP server), signed in as a Back Office officer (who lists dossiers,
            companies and applicants: every group is searched). One page per kind of text, each
            value taken from the data:
              receipt       the newest dossier's receipt number      (exact: redirect to the dossier)
              receipt_part  its first 9 characters, in lower case     (receipt numbers starting so)
              permit        the newest permit's number                (exact: redirect to the dossier)
              nik           an applicant's NIK                        (applicant, their dossiers)
              nib           a company's NIB                           (company, its dossiers)
              npwp          a company's NPWP                          (company, its dossiers)
              nik_part      the first 8 digits of that NIK            (NIKs starting so: many)
              company_name  6 letters from inside a company's name    (names containing them)
              person_name   the first 5 letters of an applicant's name
              two_words     two words of a company's name
              nothing       a word no name contains                   (every name looked at)
  BASELINE  the Dossier grid's default page (/dossierview/list/, 25 newest dossiers), in the same
            app, the same process and the same run, interleaved with the searches in a rotating
            order, so both see the same machine noise.
  Per page: median wall-clock ms over --repeat requests after --warmup, SQL statements per request
  (SQLAlchemy before_cursor_execute on the engine), the status, the rows listed, and the ratio of
  its median to the baseline's.

Data: Alembic upgrade, role sync, SOP load, then seed.demo.generate(--dossiers) (about one
company per three dossiers). A fresh SQLite file in a temp dir (or --keep DIR, reused on later
runs); or PostgreSQL with --database-url, built there only if it holds no dossiers. --rebuild
builds it again (on PostgreSQL it DROPS the public schema first). A reused database keeps the
schema it was built with: rebuild after a new migration.

Target: every search page at p50 <= 150 ms; "misses" lists those that did not meet it.

The LAST line printed is one JSON object:
  {"dossiers", "companies", "applicants", "database", "repeat", "demo_seconds",
   "baseline": {"page", "ms", "sql"},
   "searches": {NAME: {"q", "ms", "sql", "status", "rows", "ratio"}},
   "worst_ratio", "max_ms", "max_sql", "target_ms", "misses"}

Usage: python bench/search.py [--dossiers 100000] [--repeat 30] [--warmup 3] [--seed 76] [--keep DIR]
       python bench/search.py --database-url postgresql://postgres@127.0.0.1/scratch --dossiers 1000000 [--rebuild]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from demo_app import StatementCounter, demo_app, demo_parser, sign_in, user

TARGET_MS = 150.0
BASELINE = "/dossierview/list/"
ROW_LINK = re.compile(r'href="/(?:dossierview|companyview|applicantview)/show/\d+"')

# name -> (SQL giving a value from the data, how the search text is made of it, expected status)
SEARCHES: dict[str, tuple[str, object, int]] = {
    "receipt": ("SELECT receipt_number FROM dossier ORDER BY submitted_at DESC, id DESC LIMIT 1", str, 302),
    "receipt_part": ("SELECT receipt_number FROM dossier ORDER BY submitted_at DESC, id DESC LIMIT 1",
                     lambda v: v[:9].lower(), 200),
    "permit": ("SELECT number FROM permit ORDER BY id DESC LIMIT 1", str, 302),
    "nik": ("SELECT nik FROM applicant ORDER BY id LIMIT 1 OFFSET 7", str, 200),
    "nib": ("SELECT nib FROM company ORDER BY id LIMIT 1 OFFSET 7", str, 200),
    "npwp": ("SELECT npwp FROM company WHERE npwp IS NOT NULL ORDER BY id LIMIT 1 OFFSET 11", str, 200),
    "nik_part": ("SELECT nik FROM applicant ORDER BY id LIMIT 1 OFFSET 7", lambda v: v[:8], 200),
    "company_name": ("SELECT name FROM company ORDER BY id LIMIT 1 OFFSET 3", lambda v: v[4:10], 200),
    "person_name": ("SELECT full_name FROM applicant ORDER BY id LIMIT 1 OFFSET 3", lambda v: v[:5], 200),
    "two_words": ("SELECT name FROM company ORDER BY id LIMIT 1 OFFSET 5", lambda v: " ".join(v.split()[1:3]), 200),
    "nothing": ("SELECT 'Qzxwv'", str, 200),
}


def build_app(args: argparse.Namespace, workdir: Path):  # noqa: ANN201
    """The app on the bench database, the data built if there is none; (app, demo seconds, user id, plan, sizes)."""
    app, demo_seconds, _ = demo_app(args.database_url, workdir, args.dossiers, args.seed, args.rebuild)
    from sqlalchemy import text

    from app.extensions import db
    from app.security.roles import BACK_OFFICE

    user_id = user(app, "bo_search_bench", BACK_OFFICE)
    with app.app_context():
        plan = {}
        for name, (sql, make, status) in SEARCHES.items():
            value = db.session.execute(text(sql)).scalar()
            if value is None:
                raise SystemExit(f"{name}: the data holds no value for it ({sql})")
            plan[name] = (make(str(value)), status)
        sizes = {table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names
                 for table in ("dossier", "company", "applicant")}
    return app, demo_seconds, user_id, plan, sizes


def measure(app, user_id: int, plan: dict, repeat: int, warmup: int) -> dict[str, list[dict]]:  # noqa: ANN001
    """Every page `warmup + repeat` times, in a rotating order; the measured samples per page."""
    from app.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
    client = app.test_client()
    sign_in(client, user_id)
    pages = {"baseline": (BASELINE, 200), **{
        name: ("/cari/?" + urlencode({"q": q}), status) for name, (q, status) in plan.items()
    }}
    names = list(pages)
    samples: dict[str, list[dict]] = {name: [] for name in names}
    for i in range(warmup + repeat):
        shift = (i * 5) % len(names)
        for name in names[shift:] + names[:shift]:
            url, status = pages[name]
            counter.count = 0
            started = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - started) * 1000
            body = response.get_data(as_text=True)
            if response.status_code != status:
                raise SystemExit(f"{name}: {url} answered {response.status_code}, not {status}")
            if i >= warmup:
                samples[name].append({"ms": ms, "sql": counter.count, "status": response.status_code,
                                      "rows": len(ROW_LINK.findall(body))})
    return samples


def report(args: argparse.Namespace, plan: dict, samples: dict, demo_seconds: float | None, sizes: dict) -> dict:
    def median(name: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[name])

    base_ms = median("baseline", "ms")
    searches, misses = {}, []
    print(f"{'baseline':13s} {BASELINE:40s} {base_ms:8.2f} ms {int(median('baseline', 'sql')):3d} SQL")
    for name, (q, _) in plan.items():
        row = {"q": q, "ms": round(median(name, "ms"), 2), "sql": int(median(name, "sql")),
               "status": samples[name][0]["status"], "rows": samples[name][0]["rows"],
               "ratio": round(median(name, "ms") / base_ms, 3)}
        searches[name] = row
        if row["ms"] > TARGET_MS:
            misses.append(name)
        print(f"{name:13s} {q[:40]:40s} {row['ms']:8.2f} ms {row['sql']:3d} SQL | {row['status']} "
              f"{row['rows']:3d} rows | ratio {row['ratio']:6.3f}")
    return {
        "dossiers": sizes["dossier"], "companies": sizes["company"], "applicants": sizes["applicant"],
        "database": "postgresql" if args.database_url else "sqlite", "repeat": args.repeat,
        "demo_seconds": None if demo_seconds is None else round(demo_seconds, 1),
        "baseline": {"page": BASELINE, "ms": round(base_ms, 2), "sql": int(median("baseline", "sql"))},
        "searches": searches,
        "worst_ratio": max(r["ratio"] for r in searches.values()),
        "max_ms": max(r["ms"] for r in searches.values()),
        "max_sql": max(r["sql"] for r in searches.values()),
        "target_ms": TARGET_MS,
        "misses": misses,
    }


def _parser() -> argparse.ArgumentParser:
    parser = demo_parser(__doc__)
    return parser


def main() -> None:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="loket-search-bench-") as scratch:
        workdir = Path(args.keep or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        app, demo_seconds, user_id, plan, sizes = build_app(args, workdir)
        if demo_seconds is not None:
            print(f"demo data: {demo_seconds:.1f} s for {args.dossiers} dossiers", flush=True)
        samples = measure(app, user_id, plan, args.repeat, args.warmup)
        result = report(args, plan, samples, demo_seconds, sizes)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

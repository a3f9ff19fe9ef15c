"""Benchmark: `loket demo` building a large office on PostgreSQL, against a bare COPY of as many rows.

What it measures
  OURS      `flask --app run.py loket demo --dossiers N --seed S` in a subprocess, on a PostgreSQL
            database whose public schema this script DROPS and recreates first (so the command
            also runs `loket init` itself: migrate, roles, SOP, admin). Wall-clock seconds of the
            whole command, the seconds the demo reports for itself (generation, COPY, keys and
            indexes restored, ANALYZE), and the peak RSS of the process (getrusage of the
            waited-for child, the same figure /usr/bin/time -v reports as "Maximum resident set
            size").
  BASELINE  in the same run, after it: a bare COPY FROM STDIN through psycopg 3 of as many rows
            as the demo wrote (companies, applicants, dossiers, history, documents, permits,
            register lines, counters) into an unlogged one-column bigint table with no index:
            the floor any loader of that many rows pays for the protocol alone.
  ratio     ours seconds / baseline seconds.
  With --twice the demo is built twice (schema dropped in between) and a content fingerprint
  of each table (sum of per-row md5, ids included: sequences restart with the schema) must be
  equal: the same seed gives the same data.

The machine is shared: the 1-minute load average before and after is reported beside the times.
Targets (issue 13, item 5): 1,000,000 dossiers in <= 600 s and <= 1 GB peak RSS.

The LAST line printed is one JSON object:
  {"dossiers", "seed", "seconds", "demo_seconds", "max_rss_mb", "rows", "baseline_seconds",
   "ratio", "load_before", "load_after", "same_data" (with --twice, else null), "misses"}

Usage: python bench/demo_build.py --database-url postgresql://postgres@127.0.0.1:5432/scratch
                                  [--dossiers 100000] [--seed 76] [--twice]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "company": "id", "applicant": "id", "dossier": "id", "stage_event": "id", "document": "id",
    "permit": "id", "register_entry": "id", "number_counter": "series, year",
}


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _build(url: str, dossiers: int, seed: int) -> tuple[float, float, float, str]:
    """(wall seconds, demo's own seconds, peak RSS MB, summary line) of one `loket demo`."""
    env = {**os.environ, "DATABASE_URL": url, "LOKET_INSTANCE_PATH": tempfile.mkdtemp(prefix="demo-build-"),
           "LOKET_ADMIN_PASSWORD": "bench-demo-build-admin"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run.py", "loket", "demo", "--dossiers", str(dossiers),
         "--seed", str(seed)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"loket demo failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    summary = next(line for line in result.stdout.splitlines() if line.startswith("Data demo dibuat"))
    own = float(re.search(r"; ([\d,]+) detik\.$", summary).group(1).replace(",", "."))
    return seconds, own, rss_mb, summary


def _rows_and_fingerprint(url: str, fingerprint: bool) -> tuple[int, dict[str, str]]:
    rows, prints = 0, {}
    with psycopg.connect(url) as conn:
        for table, order in TABLES.items():
            rows += conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if fingerprint:
                prints[table] = str(conn.execute(
                    f"SELECT sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint) FROM {table} t"
                ).fetchone()[0])
    return rows, prints


def _bare_copy(url: str, rows: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE UNLOGGED TABLE bench_bare_copy (x bigint)")
        started = time.perf_counter()
        with conn.cursor().copy("COPY bench_bare_copy (x) FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((i,))
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare_copy")
        conn.commit()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL; its public schema is DROPPED.")
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=76)
    parser.add_argument("--twice", action="store_true", help="Build twice and compare content fingerprints.")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    _reset(args.database_url)
    seconds, own, rss_mb, summary = _build(args.database_url, args.dossiers, args.seed)
    print(summary)
    print(f"wall {seconds:.1f} s, demo {own:.1f} s, peak RSS {rss_mb:.0f} MB")
    rows, first = _rows_and_fingerprint(args.database_url, args.twice)
    same = None
    if args.twice:
        _reset(args.database_url)
        again = _build(args.database_url, args.dossiers, args.seed)
        print(f"again: wall {again[0]:.1f} s, demo {again[1]:.1f} s")
        same = _rows_and_fingerprint(args.database_url, True)[1] == first
    baseline = _bare_copy(args.database_url, rows)
    print(f"bare COPY of {rows} one-column rows: {baseline:.1f} s")
    load_after = os.getloadavg()[0]
    misses = []
    if args.dossiers >= 1_000_000 and seconds > 600:
        misses.append(f"{seconds:.0f} s > 600 s")
    if rss_mb > 1024:
        misses.append(f"peak RSS {rss_mb:.0f} MB > 1024 MB")
    if same is False:
        misses.append("the same seed gave different data")
    print(json.dumps({
        "dossiers": args.dossiers, "seed": args.seed, "seconds": round(seconds, 1), "demo_seconds": own,
        "max_rss_mb": round(rss_mb), "rows": rows, "baseline_seconds": round(baseline, 1),
        "ratio": round(seconds / baseline, 2), "load_before": load_before, "load_after": load_after,
        "same_data": same, "misses": misses,
    }))


if __name__ == "__main__":
    main()

"""Benchmark: importing 100,000 companies from .xlsx, as a dry run and applied, next to a bare read.

What it measures (each side in a fresh process, so peak RSS is its own; --rounds alternating):
  DRY RUN   app.spreadsheets.reading.read_sheet (container checks, calamine read, every cell
            typed and checked: NIB, NPWP, phone, kecamatan) + app.imports.planning.plan_import
            against the database (lookups by NIB in chunks): what "Periksa berkas" does.
  APPLY     the same, then apply_plan (bulk INSERT ... RETURNING, one audit-trail row per company
            written by INSERT ... SELECT, the ImportBatch record) and commit: what "Terapkan"
            does, into an empty SQLite database each round.
  BASELINE  python-calamine alone reading the same file into Python rows (to_python()).
Setup (the app, a migrated database, the file) is outside the timings. The file is made once
with openpyxl: the Companies grid's export columns with valid NIB/NPWP and Landak kecamatan.

The LAST line printed is one JSON object:
  {"rows", "baseline_seconds", "dry_run_seconds", "apply_seconds", "dry_run_ratio", "apply_ratio",
   "apply_cpu_ratio" (the same from each process's CPU time), "dry_run_ratio_best", "apply_ratio_best"
   (from each side's fastest round), "baseline_peak_rss_mib", "dry_run_peak_rss_mib", "apply_peak_rss_mib", "app_before_import_rss_mib",
   "rounds"}
  app_before_import_rss_mib is the apply process's peak RSS before it opens the file (the app,
  SQLAlchemy, openpyxl...): the import's own memory is apply_peak_rss_mib minus that.

Usage: python bench/import_companies.py [--rows 100000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_file(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from tests.factories import valid_nib, valid_npwp

    kecamatan = ["Ngabang", "Mempawah Hulu", "Sebangki", "Menjalin", "Mandor", "Air Besar", "Sengah Temila"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Perusahaan")
    sheet.append(["Nama perusahaan", "Bentuk badan usaha", "NIB", "NPWP", "Kecamatan", "Telepon"])
    for n in range(rows):
        sheet.append([f"PT Bench Landak {n}", "PT", valid_nib(n + 1), valid_npwp(n + 1), kecamatan[n % 7],
                      f"0812{n:08d}"])
    book.save(path)


def child(mode: str, file: Path, workdir: Path) -> dict:
    if mode == "baseline":
        from python_calamine import CalamineWorkbook

        started, cpu = time.perf_counter(), time.process_time()
        rows = CalamineWorkbook.from_path(str(file)).get_sheet_by_index(0).to_python()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {"seconds": seconds, "cpu": cpu, "rows": len(rows) - 1, "rss": peak_rss_mib()}

    import datetime as dt

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.imports.planning import apply_plan, plan_import
    from app.imports.specs import company_spec
    from app.models import ImportBatch, ImportStatus
    from config import TestConfig

    os.environ["LOKET_INSTANCE_PATH"] = str(workdir)

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'bench.db'}"

    app = create_app(BenchConfig)
    with app.app_context(), app.test_request_context():
        upgrade()
        spec = company_spec(app.config["OFFICE_REGENCY_CODE"])
        app_rss = peak_rss_mib()   # the app and its libraries, before the file is touched
        started, cpu = time.perf_counter(), time.process_time()
        sheet = spec.read(file)
        plan = plan_import(db.session, spec, sheet)
        if mode == "apply":
            batch = ImportBatch(entity="company", filename=file.name, sha256="0" * 64, user_id=None,
                                uploaded_at=dt.datetime.now(dt.UTC), status=ImportStatus.PREVIEWED.value,
                                **plan.counts())
            db.session.add(batch)
            db.session.commit()   # the preview request records the batch; Terapkan is the next request
            apply_plan(db.session, plan, batch, dt.datetime.now(dt.UTC))
            db.session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        errors = len(plan.errors)
    return {"seconds": seconds, "cpu": cpu, "rows": len(plan.rows), "errors": errors, "rss": peak_rss_mib(),
            "app_rss": app_rss}


def run_child(mode: str, file: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="loket-import-bench-") as workdir:
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--file", str(file), "--workdir", workdir],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["baseline", "dry_run", "apply"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.file, args.workdir)))
        return

    with tempfile.TemporaryDirectory(prefix="loket-import-file-") as folder:
        file = Path(folder) / "perusahaan.xlsx"
        make_file(file, args.rows)
        print(f"file: {args.rows} rows, {file.stat().st_size / 2**20:.1f} MiB", flush=True)
        results: dict[str, list[dict]] = {"baseline": [], "dry_run": [], "apply": []}
        for round_no in range(args.rounds):
            order = ["baseline", "dry_run", "apply"] if round_no % 2 == 0 else ["apply", "dry_run", "baseline"]
            for mode in order:
                result = run_child(mode, file)
                assert result["rows"] == args.rows and not result.get("errors"), result
                results[mode].append(result)
                print(f"round {round_no + 1} {mode}: {result['seconds']:.2f} s, peak RSS {result['rss']:.0f} MiB",
                      flush=True)

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    def best(mode: str) -> float:
        return min(r["seconds"] for r in results[mode])

    base = median("baseline", "seconds")
    print(json.dumps({
        "rows": args.rows,
        "baseline_seconds": round(base, 3),
        "dry_run_seconds": round(median("dry_run", "seconds"), 3),
        "apply_seconds": round(median("apply", "seconds"), 3),
        "dry_run_ratio": round(median("dry_run", "seconds") / base, 3),
        "apply_ratio": round(median("apply", "seconds") / base, 3),
        # CPU seconds of each process: less swayed than wall time by other work on a shared machine.
        "apply_cpu_ratio": round(median("apply", "cpu") / median("baseline", "cpu"), 3),
        # Fastest round of each side: the work itself, least disturbed by a noisy machine.
        "dry_run_ratio_best": round(best("dry_run") / best("baseline"), 3),
        "apply_ratio_best": round(best("apply") / best("baseline"), 3),
        "baseline_peak_rss_mib": round(median("baseline", "rss"), 1),
        "dry_run_peak_rss_mib": round(median("dry_run", "rss"), 1),
        "apply_peak_rss_mib": round(median("apply", "rss"), 1),
        "app_before_import_rss_mib": round(median("apply", "app_rss"), 1),
        "rounds": args.rounds,
    }))


if __name__ == "__main__":
    main()

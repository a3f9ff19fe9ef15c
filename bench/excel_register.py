"""Benchmark: the monthly Excel register of N rows, next to a bare openpyxl dump of the same values.

What it measures
  OURS      reports.excel_register.write_register() writing N RegisterRows to an .xlsx file: both
            sheets, every user string through safe_text(), dates as dd/mm/yyyy dates, NIK/NIB/NPWP
            as text, styled header, frozen pane, auto-filter, print setup.
  BASELINE  openpyxl write_only with nothing else: one sheet, ws.append(list_of_values) of the same
            15 values per row (No, the 13 fields, "Ya"/"Tidak"/None), no styling, no sanitising.
Both read their rows from the same lazy generator of deterministic fake data (Indonesian names,
companies, permit types), so generating the data costs the same on both sides and holds no list.
Each run is its own fresh Python process, so peak RSS (ru_maxrss, the whole process: interpreter,
openpyxl and all) is per side; the time is measured inside the child, from the first row asked of
the generator to the saved file (imports and interpreter start excluded). The sides alternate
(ours first in even rounds, baseline first in odd ones), --rounds times each; medians are reported.

The LAST line printed is one JSON object:
  {"rows", "ours_seconds", "baseline_seconds", "ratio" (ours time / baseline time),
   "ours_peak_rss_mib", "baseline_peak_rss_mib", "rounds"}
Targets: ratio <= 1.15, ours peak RSS <= 80 MiB at 100,000 rows.

Usage: python bench/excel_register.py [--rows 100000] [--rounds 3]

--month-job: the monthly register job itself, on SQLite
  A fresh database (migrations, roles, SOPs) gets --rows demo dossiers (seed.demo) all received in
  May 2026 WIB; then, in one process, each side reads that month's rows with
  app.jobs.register_data.register_rows (received_in(2026, 5), now = --now at 15.00 WIB) and
  writes them with write_register(), timed from the first query to the saved file. The default
  --now, 1 December 2026, is a register of a past month: the dossiers still running (about a third)
  have clocks of six months, which the day-by-day walk pays for day by day.
  OURS      the job as it is: working time from the cached working-day tables, histories read as
            Core rows (the tables are dropped before each run, so building them is timed).
  BASELINE  the same job with the day-by-day walk (sla._working_time_by_day/_advance_by_day) and
            the histories read as StageEvent ORM objects: the job as it was.
  Sides alternate, --rounds times each (1 is enough at 110,000 rows: the baseline takes minutes).
  The LAST line: {"mode": "month-job", "rows", "stage_events", "now", "ours_seconds", "baseline_seconds",
  "ratio" (ours / baseline), "ours_cpu_seconds", "baseline_cpu_seconds", "cpu_ratio", "rounds"}; the
  CPU times (time.process_time of the process) say more than the wall times on a shared machine.
  Target: ours <= 60 s at 110,000 rows.
  Usage: python bench/excel_register.py --month-job --rows 110000 --rounds 1 [--keep DIR] [--now DATE]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.excel_register import (
    RegisterMeta,
    RegisterRow,
    StageSummary,
    write_register,
)

FIRST_NAMES = ("Yohanes", "Agustinus", "Siti", "Muhammad", "Dewi", "Paulus", "Maria", "Antonius", "Nur",
               "Stefanus", "Fransiska", "Abdul", "Yustina", "Rudi", "Lusia", "Hendrikus", "Ahmad", "Margareta")
LAST_NAMES = ("Ajang", "Aminah", "Kurniawan", "Saputra", "Lestari", "Nyangun", "Hidayat", "Suryani", "Apui",
              "Rahmawati", "Setiawan", "Ngabut", "Wijaya", "Handayani", "Jamaludin", "Sinaga")
COMPANY_FORMS = ("CV", "PT", "Koperasi", "UD")
COMPANY_WORDS = ("Maju Jaya", "Sinar Landak", "Karya Mandiri", "Borneo Lestari", "Ngabang Sejahtera",
                 "Bumi Khatulistiwa", "Mempawah Abadi", "Sengah Temila", "Tunas Harapan", "Kapuas Raya")
PERMIT_TYPES = ("Izin Usaha Pengangkutan Kayu", "Persetujuan Bangunan Gedung", "Izin Usaha Perkebunan",
                "Izin Usaha Perikanan", "Sertifikat Laik Fungsi")
STAGES = ("Penerimaan Berkas", "Verifikasi Berkas", "Pemeriksaan Lapangan", "Rapat Tim Teknis",
          "Penyusunan Draf Izin", "Penandatanganan", "Penerbitan")
RUNNING, ISSUED = "Dalam Proses", "Terbit"

META = RegisterMeta(title="REGISTER BERKAS DITERIMA", period="November 2026", office="DPMPTSPTK Kabupaten Landak")
MONTH_START = dt.date(2026, 11, 1)


def fake_rows(count: int) -> Iterator[RegisterRow]:
    """Deterministic rows, made one at a time (index arithmetic, no random state)."""
    for i in range(1, count + 1):
        received = MONTH_START + dt.timedelta(days=i % 30)
        running = i % 4 == 0
        days = None if running else 1 + (i * 7 % 97) / 10
        permit_code = ("IPK", "PBG", "IUP", "IUPi", "SLF")[i % 5]
        yield RegisterRow(
            received_on=received,
            receipt_number=f"{permit_code}-26-{i:06d}",
            applicant_name=f"{FIRST_NAMES[i % 18]} {LAST_NAMES[i * 7 % 16]}",
            applicant_nik=f"6108{(i * 7919) % 10**12:012d}",
            company_name=f"{COMPANY_FORMS[i % 4]} {COMPANY_WORDS[i * 3 % 10]} {i % 211}",
            nib=f"{(i * 104729) % 10**13:013d}",
            npwp=None if i % 9 == 0 else f"0{(i * 15485863) % 10**14:014d}",
            permit_type=PERMIT_TYPES[i % 5],
            stage=STAGES[i % 7] if running else STAGES[-1],
            status=RUNNING if running else ISSUED,
            permit_number=None if running else f"503/{i:05d}/{permit_code}/DPMPTSPTK/XI/2026",
            issued_on=None if running else received + dt.timedelta(days=1 + i % 12),
            working_days=days,
            on_time=None if running else days <= 5,
        )


def fake_summary() -> Iterator[StageSummary]:
    for t, permit in enumerate(PERMIT_TYPES):
        for seq, stage in enumerate(STAGES, 1):
            standard = 510 * (1 + (seq + t) % 3)
            yield StageSummary(permit, seq, stage, 100 + seq * t, standard * 0.8 + seq * 31, standard,
                               f"{standard // 510} hari kerja", 60 + (seq * 13 + t) % 40)


def run_ours(rows: int, out: Path) -> int:
    return write_register(out, META, fake_rows(rows), fake_summary())


def run_baseline(rows: int, out: Path) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Register")
    labels = {True: "Ya", False: "Tidak", None: None}
    written = 0
    for r in fake_rows(rows):
        written += 1
        ws.append([written, r.received_on, r.receipt_number, r.applicant_name, r.applicant_nik, r.company_name,
                   r.nib, r.npwp, r.permit_type, r.stage, r.status, r.permit_number, r.issued_on,
                   r.working_days, labels[r.on_time]])
    wb.save(out)
    return written


def child(side: str, rows: int, out: Path) -> None:
    started = time.perf_counter()
    written = (run_ours if side == "ours" else run_baseline)(rows, out)
    seconds = time.perf_counter() - started
    assert written == rows, (written, rows)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024, "bytes": out.stat().st_size}))


def measure(side: str, rows: int, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", side, "--rows", str(rows), "--out", str(out)],
                          check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink()
    return result


# --------------------------------------------------------------------------- --month-job

JOB_MONTH = (2026, 5)  # the demo's dossiers are all received in May 2026 (WIB)


def month_job(rows: int, rounds: int, keep: Path | None, today: dt.date) -> None:
    """The register job's rows and workbook for one month of `rows` demo dossiers (see --help)."""
    import os
    import secrets
    from unittest import mock

    workdir = keep or Path(tempfile.mkdtemp(prefix="loket-register-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["LOKET_INSTANCE_PATH"] = str(workdir)
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    import seed.demo
    from app import create_app
    from app.bootstrap import load_sop_files
    from app.extensions import db
    from app.jobs import register_data
    from app.jobs.register_data import SummaryCollector, received_in, register_rows
    from app.models import Dossier, StageEvent
    from app.office import office_calendar
    from app.security.sync import sync_roles
    from app.sop import sla
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'loket.db'}"
        SECRET_KEY = secrets.token_urlsafe(32)
        RATELIMIT_ENABLED = False
        RATELIMIT_STORAGE_URI = "memory://"

    year, month = JOB_MONTH
    reference = dt.date(year + month // 12, month % 12 + 1, 1)
    reuse = (workdir / "loket.db").exists()
    app = create_app(BenchConfig)
    with app.app_context():
        if not reuse:
            upgrade()
            sync_roles(app.appbuilder)
            load_sop_files()
            started = time.perf_counter()
            with mock.patch.object(seed.demo, "WINDOW_DAYS", (reference - dt.date(year, month, 1)).days):
                seed.demo.generate(rows, reference_date=reference)
            print(f"demo data: {time.perf_counter() - started:.1f} s in {workdir}", flush=True)
        timezone = app.config["OFFICE_TIMEZONE"]
        now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.timezone.utc)  # 15.00 WIB
        population = received_in(year, month, timezone)
        in_month = db.session.scalar(select(func.count()).select_from(population.subquery()))
        events = db.session.scalar(select(func.count()).select_from(StageEvent).join(Dossier).where(
            Dossier.id.in_(population)))

        def orm_histories(session, ids):  # noqa: ANN001, ANN202 - the job before: StageEvent objects
            found: dict[int, list[StageEvent]] = {}
            for event in session.scalars(select(StageEvent).where(StageEvent.dossier_id.in_(ids))
                                         .order_by(StageEvent.occurred_at, StageEvent.id)):
                found.setdefault(event.dossier_id, []).append(event)
            return found

        def run(side: str) -> tuple[float, float]:
            db.session.expunge_all()
            calendar = office_calendar()
            sla._calendar_tables.cache_clear()  # ours pays for building its tables inside the timing
            patches = (
                mock.patch.multiple(sla, _working_time=sla._working_time_by_day, _advance=sla._advance_by_day),
                mock.patch.object(register_data, "histories", orm_histories),
            ) if side == "baseline" else ()
            out = workdir / f"{side}.xlsx"
            for patch in patches:
                patch.start()
            try:
                started, cpu = time.perf_counter(), time.process_time()
                summary = SummaryCollector()
                total, register = register_rows(db.session, population, calendar, timezone, now, summary,
                                                lambda done, total: None)
                written = write_register(out, RegisterMeta(title="REGISTER BERKAS DITERIMA", period="Mei 2026",
                                                           office="bench", working_day_minutes=calendar.day_minutes),
                                         register, summary.rows())
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            finally:
                for patch in patches:
                    patch.stop()
            assert written == total == in_month, (written, total, in_month)
            out.unlink()
            return seconds, cpu

        runs: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": []}
        for round_no in range(rounds):
            for side in (("ours", "baseline") if round_no % 2 == 0 else ("baseline", "ours")):
                runs[side].append(run(side))
                print(f"round {round_no + 1} {side:8s} {runs[side][-1][0]:7.2f} s  (CPU {runs[side][-1][1]:7.2f} s)",
                      flush=True)
    ours_s, base_s = (statistics.median(wall for wall, _ in runs[side]) for side in ("ours", "baseline"))
    ours_cpu, base_cpu = (statistics.median(cpu for _, cpu in runs[side]) for side in ("ours", "baseline"))
    print(json.dumps({
        "mode": "month-job", "rows": in_month, "stage_events": events, "now": now.isoformat(),
        "ours_seconds": round(ours_s, 3), "baseline_seconds": round(base_s, 3), "ratio": round(ours_s / base_s, 3),
        "ours_cpu_seconds": round(ours_cpu, 3), "baseline_cpu_seconds": round(base_cpu, 3),
        "cpu_ratio": round(ours_cpu / base_cpu, 3), "rounds": rounds,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="register rows per run; default 100000")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating; default 3")
    parser.add_argument("--month-job", action="store_true",
                        help="measure the register job on a demo database instead (see above)")
    parser.add_argument("--keep", type=Path, help="--month-job: keep the demo database in this folder and "
                        "reuse it on later runs")
    parser.add_argument("--now", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1),
                        help="--month-job: the day the job runs on (15.00 WIB); default 2026-12-01")
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child(args.child, args.rows, args.out)
        return
    if args.month_job:
        month_job(args.rows, args.rounds, args.keep, args.now)
        return

    runs: dict[str, list[dict]] = {"ours": [], "baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            order = ("ours", "baseline") if round_no % 2 == 0 else ("baseline", "ours")
            for side in order:
                result = measure(side, args.rows, Path(tmp) / f"{side}.xlsx")
                runs[side].append(result)
                print(f"round {round_no + 1} {side:8s} {result['seconds']:7.2f} s  "
                      f"peak RSS {result['peak_rss_mib']:6.1f} MiB  {result['bytes'] / 2**20:6.1f} MiB file")

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    ours_s, base_s = median("ours", "seconds"), median("baseline", "seconds")
    print(f"ours     {ours_s:7.2f} s  {args.rows / ours_s:8.0f} rows/s  peak RSS {median('ours', 'peak_rss_mib'):.1f} MiB")
    print(f"baseline {base_s:7.2f} s  {args.rows / base_s:8.0f} rows/s  "
          f"peak RSS {median('baseline', 'peak_rss_mib'):.1f} MiB")
    print(json.dumps({
        "rows": args.rows,
        "ours_seconds": round(ours_s, 3),
        "baseline_seconds": round(base_s, 3),
        "ratio": round(ours_s / base_s, 3),
        "ours_peak_rss_mib": round(median("ours", "peak_rss_mib"), 1),
        "baseline_peak_rss_mib": round(median("baseline", "peak_rss_mib"), 1),
        "rounds": args.rounds,
    }))


if __name__ == "__main__":
    main()

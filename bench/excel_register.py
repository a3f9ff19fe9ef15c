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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="register rows per run; default 100000")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating; default 3")
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child(args.child, args.rows, args.out)
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

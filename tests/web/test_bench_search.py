"""bench/search.py runs against the search box as it is: every kind of text answers as the bench
expects (an exact receipt or permit number redirects, the rest list rows or say nothing matched),
and its last line is the JSON report with each page's ratio to the dossier grid measured beside it.
(Its timings are the bench's business, not a test's.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_search_bench_measures_every_kind_of_text_against_the_dossier_grid(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--dossiers", "150", "--repeat", "1", "--warmup", "0",
         "--keep", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["dossiers"] == 150 and report["database"] == "sqlite"
    assert report["baseline"]["page"] == "/dossierview/list/" and report["baseline"]["sql"] > 0
    searches = report["searches"]
    assert {"receipt", "permit", "nik", "nib", "npwp", "company_name", "person_name", "nothing"} <= set(searches)
    for name, page in searches.items():
        assert page["sql"] > 0, name
        assert page["ratio"] == pytest.approx(page["ms"] / report["baseline"]["ms"], abs=0.005)
    assert searches["receipt"]["status"] == searches["permit"]["status"] == 302
    for name in ("nik", "nib", "npwp", "company_name", "person_name", "receipt_part"):
        assert searches[name]["status"] == 200 and searches[name]["rows"] > 0, name
    assert searches["nothing"]["rows"] == 0
    assert report["worst_ratio"] == max(page["ratio"] for page in searches.values())

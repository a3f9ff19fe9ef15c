"""bench/dossier_grid.py runs against the grids as they are: every big grid's four pages and the
dossier page answer in both apps, filtered, sorted and paged as asked, and the bare FAB grid of the
same shape (the faster of its joined and its lazily loading variant) shows as many rows as ours.
(Its timings are the bench's business, not a test's.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRIDS = {"dossier", "company", "applicant", "document", "history", "register"}
PAGES = {"default", "filtered", "sorted", "page2000"}


def test_grid_bench_measures_every_big_grid_against_a_bare_grid_of_the_same_shape(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dossier_grid.py"), "--dossiers", "300", "--repeat", "1",
         "--warmup", "0", "--keep", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert set(report["grids"]) == GRIDS
    for grid, pages in report["grids"].items():
        assert set(pages) == PAGES, grid
        for kind, page in pages.items():
            assert page["ours_rows"] == page["bare_rows"] > 0, (grid, kind, page)
            assert page["ours_sql"] > 0 and page["bare_sql"] > 0, (grid, kind)
            assert page["ratio"] == pytest.approx(page["ours_ms"] / page["bare_ms"], abs=0.005)
            # By default both bare apps run and the faster one is the baseline.
            assert page["bare_ms"] == min(page["bare_joined_ms"], page["bare_lazy_ms"])
            assert page["bare_ms"] == page[f"bare_{page['bare_loading']}_ms"]
        assert "_flt_" in pages["filtered"]["args"], grid
        assert "_oc_" in pages["sorted"]["args"], grid
        assert "page_" in pages["page2000"]["args"], grid
    assert report["dossier_page"]["ours_sql"] > 0
    assert report["dossiers"] == 300

"""Batch printing in worker processes: one merged PDF, documents in job order, pages counted,
progress reported, an atomic output file and no temporary files left, also when a document fails.
"""
from __future__ import annotations

import gc
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from reports.papers import render_permit
from reports.parallel import MAX_CHUNK, BatchRenderError, _chunks, remove_stale_batch_dirs, render_batch
from reports.pdf import page_size_css, render_pdf
from reports.register_book import book_jobs, page_count
from tests.paper_samples import LETTERHEAD, PERMIT
from tests.private_modes import PERMISSIVE_UMASKS, modes, process_umask
from tests.processes import command_line, descendants, has_proc, still_running, wait_until
from tests.unit.test_register_book import LINES, YEAR

ROOT = Path(__file__).resolve().parents[2]

PERMITS = [replace(PERMIT, permit_number=f"503/{n:04d}/DPMPTSPTK-IPK/XII/2026") for n in range(1, 13)]


def failing_render(message: str) -> bytes:
    """A render function that fails (module level, so a worker process can import it)."""
    raise RuntimeError(message)


def slow_render(marker_dir: str, seconds: float) -> bytes:
    """A document that takes long: marks which worker process started it, then works."""
    Path(marker_dir, str(os.getpid())).touch()
    time.sleep(seconds)
    return render_permit(PERMIT, LETTERHEAD)


def preload_probe() -> bytes:
    """A page saying whether this worker was forked from a forkserver that preloaded, warmed up and
    froze its heap (reports.forkserver_preload)."""
    state = "warm" if gc.get_freeze_count() > 0 else "cold"
    return render_pdf(f"<html><head><style>@page {{ size: {page_size_css('A4')}; }}</style></head>"
                      f"<body><p>worker {state}</p></body></html>", "A4")


# A printing process started outside the project folder, with the project on its sys.path only.
OUTSIDE_PRINTER = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from reports.parallel import render_batch
from tests.unit.test_parallel_print import preload_probe
render_batch([(preload_probe, ())] * 4, Path(sys.argv[2]), workers=2, chunk_size=1)
"""


def flat(text: str) -> str:
    return " ".join(text.split())


def batch_temp_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("loket-batch-*"))


@pytest.fixture(scope="module")
def single_pages() -> list[int]:
    return [len(pypdf.PdfReader(io.BytesIO(render_permit(paper, LETTERHEAD, "F4"))).pages) for paper in PERMITS]


@pytest.mark.parametrize(("count", "workers"), [(1, 2), (12, 2), (500, 2), (500, 8), (37, 1)])
def test_default_chunks_cover_the_jobs_in_order_and_shrink_towards_the_end(count: int, workers: int) -> None:
    chunks = _chunks(count, workers, None)
    assert [index for chunk in chunks for index in chunk] == list(range(count))
    sizes = [len(chunk) for chunk in chunks]
    assert sizes == sorted(sizes, reverse=True)
    assert max(sizes) <= MAX_CHUNK and min(sizes) >= 1
    assert len(chunks) >= min(count, workers * 4)  # every worker gets a few chunks


def test_fixed_chunk_size() -> None:
    assert _chunks(5, 2, 2) == [range(2), range(2, 4), range(4, 5)]


def test_permits_are_merged_in_order(tmp_path: Path, single_pages: list[int]) -> None:
    out = tmp_path / "permits.pdf"
    done: list[int] = []
    before = batch_temp_dirs()
    jobs = [(render_permit, (paper, LETTERHEAD, "F4")) for paper in PERMITS]

    pages = render_batch(jobs, out, workers=2, chunk_size=2, progress=done.append)

    reader = pypdf.PdfReader(out)
    assert pages == len(reader.pages) == sum(single_pages)
    text = flat(" ".join(page.extract_text() for page in reader.pages))
    positions = [text.index(paper.permit_number) for paper in PERMITS]
    assert positions == sorted(positions)
    # Each permit's pages are together: permit k starts on the page after permit k-1 ends.
    first_pages = [sum(single_pages[:k]) for k in range(len(PERMITS))]
    for paper, first in zip(PERMITS, first_pages, strict=True):
        assert paper.permit_number in reader.pages[first].extract_text()
    # Progress: cumulative documents done, one call per chunk of 2, ending at all 12.
    assert done == sorted(done) and done[-1] == len(PERMITS) and len(done) == 6
    assert sorted(path.name for path in tmp_path.iterdir()) == ["permits.pdf"]
    assert not batch_temp_dirs() - before, "no chunk folder left behind"


def test_default_workers_and_chunks(tmp_path: Path, single_pages: list[int]) -> None:
    out = tmp_path / "permits.pdf"
    jobs = [(render_permit, (paper, LETTERHEAD)) for paper in PERMITS[:5]]
    assert render_batch(jobs, out) == sum(single_pages[:5])


def test_a_failing_document_leaves_no_output(tmp_path: Path) -> None:
    out = tmp_path / "permits.pdf"
    before = batch_temp_dirs()
    jobs = [(render_permit, (paper, LETTERHEAD, "F4")) for paper in PERMITS[:6]]
    jobs.insert(3, (failing_render, ("kertas habis",)))

    with pytest.raises(BatchRenderError, match=r"document 4 \(.*failing_render\) failed: RuntimeError: kertas habis"):
        render_batch(jobs, out, workers=2, chunk_size=2)

    assert list(tmp_path.iterdir()) == []  # no out_path, no .part
    assert not batch_temp_dirs() - before, "no chunk folder left behind"


def test_a_failing_document_keeps_an_earlier_print(tmp_path: Path) -> None:
    """The output is replaced atomically: a failed reprint leaves the earlier file as it was."""
    out = tmp_path / "permits.pdf"
    out.write_bytes(b"earlier print")
    with pytest.raises(BatchRenderError):
        render_batch([(failing_render, ("rusak",))], out, workers=1)
    assert out.read_bytes() == b"earlier print"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["permits.pdf"]


def test_a_paper_error_names_the_document(tmp_path: Path) -> None:
    jobs = [(render_permit, (PERMITS[0], LETTERHEAD, "F4")), (render_permit, (PERMITS[1], LETTERHEAD, "Letter"))]
    with pytest.raises(BatchRenderError, match=r"document 2 .*render_permit.*ValueError.*Letter"):
        render_batch(jobs, tmp_path / "out.pdf", workers=2)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_batch([], tmp_path / "out.pdf")
    with pytest.raises(TypeError):
        render_batch([render_permit], tmp_path / "out.pdf")  # type: ignore[list-item]
    with pytest.raises(ValueError):
        render_batch([(render_permit, (PERMIT, LETTERHEAD))], tmp_path / "out.pdf", workers=0)
    assert list(tmp_path.iterdir()) == []


def test_register_book_printed_in_chunks_numbers_pages_through(tmp_path: Path) -> None:
    out = tmp_path / "book.pdf"
    jobs = book_jobs(LINES, YEAR, LETTERHEAD, pages_per_job=1)
    assert len(jobs) == 3

    assert render_batch(jobs, out, workers=2, chunk_size=1) == page_count(len(LINES)) == 3

    texts = [flat(page.extract_text()) for page in pypdf.PdfReader(out).pages]
    for number, text in enumerate(texts, start=1):
        assert f"Halaman {number} dari 3" in text
        assert LINES[(number - 1) * 25].register_number in text


@pytest.mark.parametrize("umask", PERMISSIVE_UMASKS)
def test_the_printed_file_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "permits.pdf"
    out.write_bytes(b"an earlier print, readable by all")
    out.chmod(0o644)
    with process_umask(umask):
        render_batch([(render_permit, (PERMITS[0], LETTERHEAD))], out, workers=1)
    assert modes(out) == {str(out): "0o600"}


PRINTER = """
import sys
from pathlib import Path
from reports.parallel import render_batch
from tests.unit.test_parallel_print import slow_render
render_batch([(slow_render, (sys.argv[1], 120.0))] * 4, Path(sys.argv[2]), workers=2, chunk_size=1)
"""


@pytest.mark.skipif(not has_proc(), reason="reads the process table from /proc")
def test_print_workers_exit_when_the_printing_process_is_killed(tmp_path: Path) -> None:
    """Killed mid-batch with SIGKILL, the printing process leaves no worker and no forkserver."""
    markers = tmp_path / "started"
    markers.mkdir()
    printer = subprocess.Popen([sys.executable, "-c", PRINTER, str(markers), str(tmp_path / "out.pdf")], cwd=ROOT)
    below: dict[int, int] = {}
    try:
        assert wait_until(lambda: len(list(markers.iterdir())) >= 2, timeout=60), "both workers are printing"
        below = descendants(printer.pid)
        forkserver_family = [pid for pid in below if "multiprocessing.forkserver" in command_line(pid)]
        assert len(forkserver_family) >= 3, f"the forkserver and two workers: {below}"
        printer.send_signal(signal.SIGKILL)
        printer.wait(timeout=10)
        left = wait_until(lambda: not still_running(below), timeout=30)
        assert left, f"left behind: {still_running(below)}"
    finally:
        if printer.poll() is None:
            printer.kill()
            printer.wait()
        for pid in still_running(below):  # only after a failure: end what the test started
            os.kill(pid, signal.SIGKILL)


def test_stale_batch_folders_of_a_killed_print_are_removed() -> None:
    stale = Path(tempfile.mkdtemp(prefix="loket-batch-"))
    fresh = Path(tempfile.mkdtemp(prefix="loket-batch-"))
    (stale / "chunk-000000.pdf").write_bytes(b"%PDF- half a permit")
    long_ago = time.time() - 7200
    os.utime(stale, (long_ago, long_ago))
    try:
        assert remove_stale_batch_dirs(3600) >= 1
        assert not stale.exists(), "a folder no batch has written in for two hours goes"
        assert fresh.is_dir(), "a live batch's folder stays"
    finally:
        fresh.rmdir()


def test_workers_start_warm_when_the_printing_process_runs_outside_the_project(tmp_path: Path) -> None:
    """Python 3.11's forkserver does not inherit sys.path: started from another folder it could
    not preload the reports modules, and each worker imported and warmed up everything itself."""
    out = tmp_path / "out.pdf"
    subprocess.run([sys.executable, "-c", OUTSIDE_PRINTER, str(ROOT), str(out)], cwd=tmp_path, check=True, timeout=120)
    pages = [flat(page.extract_text()) for page in pypdf.PdfReader(out).pages]
    assert pages == ["worker warm"] * 4


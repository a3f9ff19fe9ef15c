"""Batch printing in worker processes: one merged PDF, documents in job order, pages counted,
progress reported, an atomic output file and no temporary files left, also when a document fails.
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from reports.papers import render_permit
from reports.parallel import MAX_CHUNK, BatchRenderError, _chunks, render_batch
from reports.register_book import book_jobs, page_count
from tests.paper_samples import LETTERHEAD, PERMIT
from tests.unit.test_register_book import LINES, YEAR

PERMITS = [replace(PERMIT, permit_number=f"503/{n:04d}/DPMPTSPTK-IPK/XII/2026") for n in range(1, 13)]


def failing_render(message: str) -> bytes:
    """A render function that fails (module level, so a worker process can import it)."""
    raise RuntimeError(message)


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
    assert batch_temp_dirs() == before


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
    assert batch_temp_dirs() == before


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

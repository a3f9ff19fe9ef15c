"""The register book (Buku Register): where each entry lands, one PDF page per book page, book
page numbers that hold when the book is printed in chunks, landscape paper, and escaping.

No Flask app: reports/ is pure, data in and bytes out.
"""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pypdf
import pytest

from reports.register_book import (
    LINES_PER_PAGE,
    BookLine,
    book_jobs,
    page_count,
    place,
    render_book_pages,
)
from tests.paper_samples import LETTERHEAD

YEAR = 2026


def line(seq: int) -> BookLine:
    return BookLine(
        seq=seq,
        register_number=f"REG/{seq:04d}/{YEAR}",
        entry_date="28 November 2026",
        permit_number=f"503/{seq:04d}/IPK/DPMPTSPTK/{YEAR}",
        company_name=f"PT Usaha Landak {seq:03d}",
        applicant_name="Yulius Antonius",
        permit_type="Izin Pool Kendaraan",
        issue_date="15 Desember 2026",
        archive_box=f"B-{seq // 10:02d}" if seq % 7 else "",
        archive_shelf="R-2",
    )


LINES = [line(seq) for seq in range(1, 61)]


def flat(text: str) -> str:
    return " ".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def book() -> bytes:
    """The whole 60-line book on F4: pages 1-3 of 3."""
    return render_book_pages(LINES, YEAR, page_count(len(LINES)), LETTERHEAD)


# --- Where a line lands


def test_place_of_a_sequence() -> None:
    assert LINES_PER_PAGE == 25
    assert place(1) == (1, 1)
    assert place(25) == (1, 25)
    assert place(26) == (2, 1)
    assert place(50) == (2, 25)
    assert place(51) == (3, 1)
    assert place(7, lines_per_page=5) == (2, 2)


def test_page_count() -> None:
    assert [page_count(n) for n in (0, 1, 25, 26, 50, 51, 60)] == [0, 1, 1, 2, 2, 3, 3]
    assert page_count(11, lines_per_page=5) == 3


def test_arithmetic_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        place(0)
    with pytest.raises(ValueError):
        place(1, lines_per_page=0)
    with pytest.raises(ValueError):
        page_count(-1)


# --- The printed book


def test_one_pdf_page_per_book_page_numbered_in_the_book(book: bytes) -> None:
    texts = page_texts(book)
    assert len(texts) == 3
    for number, text in enumerate(texts, start=1):
        assert f"Halaman {number} dari 3" in text
        assert f"BUKU REGISTER IZIN — TAHUN {YEAR}" in text
        assert "PEMERINTAH KABUPATEN LANDAK" in text
        for heading in ("No", "Tanggal", "Nomor Register", "Nomor Izin", "Nama Perusahaan", "Penanggung Jawab",
                        "Jenis Izin", "Tanggal Terbit", "Boks Arsip", "Rak", "Paraf"):
            assert heading in text


def test_each_line_is_on_its_page_in_order(book: bytes) -> None:
    texts = page_texts(book)
    for entry in LINES:
        page, _line_on_page = place(entry.seq)
        text = texts[page - 1]
        assert f"{entry.register_number}" in text
        assert entry.company_name in text
        assert entry.permit_number in text
        for other_page, other in enumerate(texts, start=1):
            if other_page != page:
                assert entry.register_number not in other
    # Within a page, the lines come in sequence order: line k above line k+1.
    for page, text in enumerate(texts, start=1):
        on_page = [entry for entry in LINES if place(entry.seq)[0] == page]
        positions = [text.index(entry.register_number) for entry in on_page]
        assert positions == sorted(positions)
        assert [place(entry.seq)[1] for entry in on_page] == list(range(1, len(on_page) + 1))


def test_a_row_holds_the_whole_entry(book: bytes) -> None:
    entry = LINES[30]  # seq 31: page 2, line 6
    text = page_texts(book)[1]
    row = text[text.index(f" {entry.seq} {entry.entry_date}"):text.index(f" {entry.seq + 1} {entry.entry_date}")]
    for value in (entry.register_number, entry.permit_number, entry.company_name, entry.applicant_name,
                  entry.permit_type, entry.issue_date, entry.archive_shelf):
        assert value in row
    if entry.archive_box:
        assert entry.archive_box in row


def test_a_chunk_of_the_book_keeps_the_book_page_numbers(book: bytes) -> None:
    second = render_book_pages(LINES[25:50], YEAR, 3, LETTERHEAD)
    (text,) = page_texts(second)
    assert "Halaman 2 dari 3" in text
    assert "Halaman 1 dari 3" not in text
    assert LINES[25].register_number in text and LINES[49].register_number in text
    # Page placement is a pure function of seq: the chunk is page 2 of the whole book.
    assert text == page_texts(book)[1]


def test_last_page_is_filled_with_empty_ruled_lines(book: bytes) -> None:
    last = pypdf.PdfReader(io.BytesIO(book)).pages[2]
    text = flat(last.extract_text())
    assert LINES[-1].register_number in text
    assert "Halaman 3 dari 3" in text
    # 10 entries and 15 blank lines: as many ruled segments as on a full page (at least a
    # bottom border per cell of the 25 lines), drawn at the same places: the same ruling.
    def rules(page: pypdf.PageObject) -> list[bytes]:
        return re.findall(rb"[-\d.]+ [-\d.]+ m [-\d.]+ [-\d.]+ l", page.get_contents().get_data())

    full = pypdf.PdfReader(io.BytesIO(book)).pages[0]
    assert len(rules(last)) == len(rules(full)) >= LINES_PER_PAGE * 11
    assert sorted(rules(last)) == sorted(rules(full))


@pytest.mark.parametrize(("size", "width_mm", "height_mm"), [("F4", 330, 215), ("A4", 297, 210)])
def test_pages_are_landscape(size: str, width_mm: int, height_mm: int) -> None:
    pdf = render_book_pages(LINES, YEAR, 3, LETTERHEAD, size)
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 3
    for page in pages:
        assert float(page.mediabox.width) == pytest.approx(width_mm * 72 / 25.4, abs=1)
        assert float(page.mediabox.height) == pytest.approx(height_mm * 72 / 25.4, abs=1)


def test_f4_landscape_is_the_default(book: bytes) -> None:
    page = pypdf.PdfReader(io.BytesIO(book)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((935.4, 609.4), abs=1)


@pytest.mark.parametrize("size", ["F4", "A4"])
def test_long_entries_still_make_one_sheet_per_page(size: str) -> None:
    long_company = "PT Perkebunan Kelapa Sawit dan Industri Pengolahan Hasil Hutan Kalimantan Barat Sejahtera Abadi"
    lines = [replace(line(seq), company_name=long_company, applicant_name="Drs. " + "Antonius " * 6,
                     permit_number="503/" + "X" * 60) for seq in range(1, 26)]
    pdf = render_book_pages(lines, YEAR, 1, LETTERHEAD, size)
    (text,) = page_texts(pdf)
    assert "Halaman 1 dari 1" in text


def test_same_lines_print_the_same_bytes() -> None:
    chunk = LINES[:25]
    assert render_book_pages(chunk, YEAR, 3, LETTERHEAD) == render_book_pages(chunk, YEAR, 3, LETTERHEAD)


def test_hostile_company_name_is_printed_as_text() -> None:
    hostile = '<img src="/etc/passwd"> <b>Tebal</b> & Anak'
    lines = [replace(line(1), company_name=hostile), *LINES[1:25]]
    pdf = render_book_pages(lines, YEAR, 1, LETTERHEAD)
    (text,) = page_texts(pdf)
    assert flat(hostile) in text
    assert [len(page.images) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages] == [0]


# --- Lines that are not whole pages are refused


def test_lines_must_start_at_a_page_boundary() -> None:
    with pytest.raises(ValueError, match="page boundary"):
        render_book_pages(LINES[1:25], YEAR, 3, LETTERHEAD)


def test_lines_must_be_consecutive() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        render_book_pages([LINES[0], LINES[2]], YEAR, 3, LETTERHEAD)


def test_lines_must_fit_in_total_pages() -> None:
    with pytest.raises(ValueError, match="total_pages"):
        render_book_pages(LINES, YEAR, 2, LETTERHEAD)


def test_no_lines_is_refused() -> None:
    with pytest.raises(ValueError):
        render_book_pages([], YEAR, 1, LETTERHEAD)


# --- Jobs for batch printing


def test_book_jobs_cut_the_book_into_whole_pages() -> None:
    jobs = book_jobs(LINES, YEAR, LETTERHEAD, pages_per_job=2)
    assert [function for function, _args in jobs] == [render_book_pages, render_book_pages]
    assert [[entry.seq for entry in args[0]] for _f, args in jobs] == [list(range(1, 51)), list(range(51, 61))]
    assert all(args[2] == 3 for _f, args in jobs)  # total pages of the whole book

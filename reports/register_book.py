"""The manual register book (Buku Register Izin) as PDF: the year's register entries on
numbered, ruled, landscape pages, like the paper book the archivists keep.

Where an entry lands is a pure function of its register sequence (`place`): line `seq` is always
on the same page at the same line, so a book printed in chunks, or one page reprinted next year,
matches the pages already in the binder. Each page carries its BOOK page number ("Halaman 2
dari 3"), written into the page rather than taken from the PDF, for the same reason.

Pure like the rest of reports/: data in, PDF bytes out. The template is rendered by the Jinja
environment of reports.papers (autoescape on, StrictUndefined), so a company called
`<img src="/etc/passwd">` is printed as those characters.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pypdf

from reports.papers import TEMPLATES, Letterhead
from reports.pdf import PaperRenderError, page_size_css, render_pdf

LINES_PER_PAGE = 25  # the office's book: 25 lines a page

# Space above and below the text of a line: a one-line entry (7.5 pt type) makes a line about
# 6 mm high, room for a paraf. 25 of them, the header and the column titles fit on landscape A4
# (the shorter paper: 210 mm high) with room for several entries wrapping to two lines.
ROW_PADDING = "4pt"

TEMPLATE = "register_book.html"


@dataclass(frozen=True)
class BookLine:
    """One line of the book: one register entry. Dates arrive already written in Indonesian."""

    seq: int                # register sequence in the year, 1..n, gapless
    register_number: str
    entry_date: str         # formatted Indonesian, e.g. "28 November 2026"
    permit_number: str
    company_name: str
    applicant_name: str
    permit_type: str
    issue_date: str
    archive_box: str        # "" if not yet archived
    archive_shelf: str


def _check_lines_per_page(lines_per_page: int) -> None:
    if lines_per_page < 1:
        raise ValueError(f"lines_per_page must be at least 1, not {lines_per_page}")


def place(seq: int, lines_per_page: int = LINES_PER_PAGE) -> tuple[int, int]:
    """(book page, line on that page), both 1-based, of register sequence `seq`."""
    _check_lines_per_page(lines_per_page)
    if seq < 1:
        raise ValueError(f"register sequence starts at 1, not {seq}")
    page, line = divmod(seq - 1, lines_per_page)
    return page + 1, line + 1


def page_count(lines: int, lines_per_page: int = LINES_PER_PAGE) -> int:
    """Pages a book of `lines` entries fills (0 for none)."""
    _check_lines_per_page(lines_per_page)
    if lines < 0:
        raise ValueError(f"a book cannot hold {lines} lines")
    return -(-lines // lines_per_page)


@dataclass(frozen=True)
class _Page:
    number: int
    lines: tuple[BookLine | None, ...]  # always lines_per_page of them; None is an empty ruled line


def _pages(lines: Sequence[BookLine], total_pages: int, lines_per_page: int) -> list[_Page]:
    """The book pages holding `lines`, checked to be whole pages of consecutive sequences."""
    if not lines:
        raise ValueError("no lines to print")
    first_page, first_line = place(lines[0].seq, lines_per_page)
    if first_line != 1:
        raise ValueError(
            f"lines must start at a page boundary: seq {lines[0].seq} is line {first_line} of page {first_page}"
        )
    for offset, line in enumerate(lines):
        if line.seq != lines[0].seq + offset:
            raise ValueError(
                f"lines must be consecutive: seq {line.seq} follows seq {lines[offset - 1].seq}"
            )
    last_page, _ = place(lines[-1].seq, lines_per_page)
    if last_page > total_pages:
        raise ValueError(f"seq {lines[-1].seq} is on page {last_page}, past total_pages={total_pages}")

    pages = []
    for index in range(last_page - first_page + 1):
        chunk: list[BookLine | None] = list(lines[index * lines_per_page:(index + 1) * lines_per_page])
        chunk += [None] * (lines_per_page - len(chunk))
        pages.append(_Page(first_page + index, tuple(chunk)))
    return pages


def book_html(lines: Sequence[BookLine], year: int, total_pages: int, letterhead: Letterhead,
              size: str = "F4", lines_per_page: int = LINES_PER_PAGE) -> str:
    """The HTML render_book_pages renders."""
    pages = _pages(lines, total_pages, lines_per_page)
    return TEMPLATES.get_template(TEMPLATE).render(
        page_size=page_size_css(size, landscape=True),
        row_padding=ROW_PADDING,
        pages=pages,
        year=year,
        total_pages=total_pages,
        letterhead=letterhead,
    )


def render_book_pages(lines: Sequence[BookLine], year: int, total_pages: int, letterhead: Letterhead,
                      size: str = "F4", lines_per_page: int = LINES_PER_PAGE) -> bytes:
    """The book pages holding `lines`, one PDF page per book page, landscape `size`.

    `lines` must be consecutive sequences starting at a page boundary (seq 1, 26, 51, ... for 25
    lines a page); the last page may be partial and is filled up with empty ruled lines.
    `total_pages` is the whole book's page count (`page_count(lines in the year)`), printed as
    "Halaman p dari total_pages". Raises ValueError for lines that do not make whole pages, and
    PaperRenderError if a book page did not come out as exactly one sheet.
    """
    html = book_html(lines, year, total_pages, letterhead, size, lines_per_page)
    pdf = render_pdf(html, size, landscape=True)
    expected = page_count(len(lines), lines_per_page)
    sheets = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    if sheets != expected:
        raise PaperRenderError(f"{expected} book page(s) came out on {sheets} PDF pages")
    return pdf


def book_jobs(lines: Sequence[BookLine], year: int, letterhead: Letterhead, size: str = "F4", *,
              total_pages: int | None = None, pages_per_job: int = 4,
              lines_per_page: int = LINES_PER_PAGE) -> list[tuple[Callable[..., bytes], tuple]]:
    """`lines` cut into render_book_pages jobs of `pages_per_job` pages, for reports.parallel.render_batch.

    `total_pages` defaults to the page of the last line (printing the book up to its end).
    """
    if not lines:
        return []
    if pages_per_job < 1:
        raise ValueError(f"pages_per_job must be at least 1, not {pages_per_job}")
    if total_pages is None:
        total_pages = place(lines[-1].seq, lines_per_page)[0]
    _pages(lines, total_pages, lines_per_page)  # the same checks, before any worker starts
    step = pages_per_job * lines_per_page
    return [
        (render_book_pages, (tuple(lines[start:start + step]), year, total_pages, letterhead, size, lines_per_page))
        for start in range(0, len(lines), step)
    ]

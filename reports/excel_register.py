"""The monthly Excel register (dossiers received, permits issued): data in, .xlsx bytes out.

Pure: no Flask, no database. Rows are streamed through openpyxl's write_only mode, so memory
stays flat whatever the month holds (100,000 rows run well under 80 MiB peak RSS; see
bench/excel_register.py).

Sheet "Register" has the column header in row 1 (frozen, auto-filtered, repeated on every printed
page); the title, period and office go into the print header, so no title block sits above the
table. Sheet "Ringkasan" has one row per permit type and stage.

Every string that comes from user data goes through safe_text(): it can never start a formula
(OWASP CSV/formula injection) and never carries a character XML cannot hold. The register rows
are also written with an explicit string cell type, so a string can never become a formula or
an error cell ("#N/A") whatever it holds.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

__all__ = [
    "PAPER_SIZES",
    "REGISTER_HEADERS",
    "SUMMARY_HEADERS",
    "RegisterMeta",
    "RegisterRow",
    "StageSummary",
    "safe_text",
    "write_register",
]


@dataclass(frozen=True)
class RegisterRow:
    received_on: dt.date            # tanggal (date the dossier was received, WIB)
    receipt_number: str             # nomor pendaftaran
    applicant_name: str
    applicant_nik: str
    company_name: str
    nib: str
    npwp: str | None
    permit_type: str                # jenis izin
    stage: str                      # tahapan
    status: str                     # Indonesian status label
    permit_number: str | None       # nomor izin
    issued_on: dt.date | None       # tanggal terbit
    working_days: float | None      # lama proses (hari kerja), e.g. 3.4
    on_time: bool | None            # tepat waktu? (None = still running)
    past_sla: bool = False          # melewati SLA at the report's time: no decision, past the promise


@dataclass(frozen=True)
class StageSummary:                 # one row of the second sheet
    permit_type: str
    stage_seq: int
    stage: str
    count: int                      # stage visits finished in the month
    median_minutes: float | None    # median working minutes spent
    standard_minutes: int           # the time standard (mutu baku) in working minutes
    standard_text: str              # as the SOP writes it, e.g. "2 hari kerja"
    on_time_pct: float | None       # % of visits within the standard, 0..100


@dataclass(frozen=True)
class RegisterMeta:
    title: str          # e.g. "REGISTER BERKAS DITERIMA" or "REGISTER IZIN TERBIT"
    period: str         # e.g. "November 2026"
    office: str         # e.g. "DPMPTSPTK Kabupaten Landak"
    paper: str = "F4"   # "A4" or "F4" (215x330 mm)
    working_day_minutes: int = 510   # to show time standards/medians in working days on sheet 2


# Excel paper size codes. Excel has no F4 code: 14 is "Folio 8.5 x 13 in" (216 x 330 mm), the
# closest to F4 (215 x 330 mm) and what Indonesian offices pick for F4 in Excel.
PAPER_SIZES: dict[str, int] = {"A4": 9, "F4": 14}

DATE_FORMAT = "dd/mm/yyyy"
TEXT_FORMAT = "@"
DAYS_FORMAT = "0.0"
# "% Tepat Waktu" is stored as a fraction (0.875) shown as a percentage (87.5%): Excel's own way,
# so averaging or charting the column needs no rescaling.
PERCENT_FORMAT = "0.0%"

# (header, width in characters, number format or None, cell type) per column.
_S, _N, _D = "s", "n", "d"
_REGISTER_COLUMNS: tuple[tuple[str, float, str | None, str], ...] = (
    ("No", 7, None, _N),
    ("Tanggal Diterima", 12, DATE_FORMAT, _D),
    ("Nomor Pendaftaran", 18, None, _S),
    ("Nama Pemohon", 28, None, _S),
    ("NIK Pemohon", 19, TEXT_FORMAT, _S),
    ("Perusahaan", 30, None, _S),
    ("NIB", 16, TEXT_FORMAT, _S),
    ("NPWP", 20, TEXT_FORMAT, _S),
    ("Jenis Izin", 30, None, _S),
    ("Tahapan", 22, None, _S),
    ("Status", 18, None, _S),
    ("Nomor Izin", 26, None, _S),
    ("Tanggal Terbit", 12, DATE_FORMAT, _D),
    ("Lama Proses (hari kerja)", 11, DAYS_FORMAT, _N),
    ("Tepat Waktu?", 9, None, _S),
    ("Melewati SLA", 9, None, _S),
)
_SUMMARY_COLUMNS: tuple[tuple[str, float, str | None, str], ...] = (
    ("Jenis Izin", 30, None, _S),
    ("No Tahap", 7, None, _N),
    ("Tahapan", 26, None, _S),
    ("Jumlah", 9, None, _N),
    ("Median Waktu (menit kerja)", 12, "0", _N),
    ("Median Waktu (hari kerja)", 11, "0.00", _N),
    ("Mutu Baku (menit kerja)", 12, "0", _N),
    ("Mutu Baku (SOP)", 18, None, _S),
    ("Median vs Mutu Baku", 12, None, _S),
    ("% Tepat Waktu", 10, PERCENT_FORMAT, _N),
)
REGISTER_HEADERS: tuple[str, ...] = tuple(c[0] for c in _REGISTER_COLUMNS)
SUMMARY_HEADERS: tuple[str, ...] = tuple(c[0] for c in _SUMMARY_COLUMNS)

ON_TIME_LABELS = {True: "Ya", False: "Tidak", None: None}
WITHIN_STANDARD, OVER_STANDARD = "sesuai", "melebihi"

# A string starting with one of these may be taken for a formula by a spreadsheet (OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF): openpyxl would
# refuse the control characters and lxml the rest, failing the whole export for one bad name.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_CELL_TEXT = 32767   # Excel's limit on the characters in one cell
_MAX_HEADER_TEXT = 110   # before escaping "&": at most 220 + the font codes, under Excel's 255

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_HEADER_ROW_HEIGHT = 45   # points: room for a header wrapped on three lines


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as typed: never a formula, never an unwritable character.

    A value starting with "=", "+", "-", "@", tab or carriage return gets a leading "'" (the
    original follows unchanged); characters XML cannot hold are dropped; the result is cut to
    Excel's 32,767 characters. Not-a-string values are turned into their str() first.
    """
    if value.__class__ is not str:
        value = str(value)
    if _NOT_XML.search(value) is not None:
        value = _NOT_XML.sub("", value)
    if value.startswith(_FORMULA_PREFIXES):
        value = "'" + value
    if len(value) > _MAX_CELL_TEXT:
        value = value[:_MAX_CELL_TEXT]
    return value


def _optional_text(value: str | None) -> str | None:
    return None if value is None or value == "" else safe_text(value)


def _finite(value: float | None) -> float | None:
    # NaN or infinity would be written as "nan"/"inf", which Excel refuses to open.
    return value if value is not None and math.isfinite(value) else None


def _print_header(meta: RegisterMeta) -> str:
    """The page header: title - period - office on one line (openpyxl would store a line break
    there as "_x000a_"; one line leaves nothing to decode). Excel allows 255 characters, codes
    included, and "&" starts a code: "&&" prints one "&"."""
    text = _NOT_XML.sub("", f"{meta.title} - {meta.period} - {meta.office}")
    text = " ".join(text.split())   # line breaks and tabs to single spaces
    return text[:_MAX_HEADER_TEXT].replace("&", "&&")


class _RowWriter:
    """Streams rows into a write_only sheet with one reusable, pre-styled cell per column.

    openpyxl's own WriteOnlyWorksheet.append() guesses each value's type (a string starting with
    "=" becomes a formula, "#N/A" an error) and, for a styled cell, takes it through an exception
    and allocates a new cell: for this register that cost ~20% on top of a bare dump. Here each
    column has a fixed type and style decided once, so a row costs little more than writing its
    XML. This replaces WriteOnlyWorksheet._values_to_row (openpyxl 3.1, pinned in
    requirements.txt); tests/unit/test_excel_register.py reads every cell back, so a change in
    openpyxl shows there.

    The values given must already be of the column's type: str (through safe_text) for "s",
    date for "d", int/float for "n"; None leaves the cell empty. A ready-made Cell (the header)
    is written as it is.
    """

    def __init__(self, ws: Any, columns: Sequence[tuple[str, float, str | None, str]]) -> None:
        self._cells = []
        for index, (_header, width, number_format, data_type) in enumerate(columns, 1):
            cell = Cell(ws, row=1, column=index)
            if number_format is not None:
                cell.number_format = number_format
            cell.data_type = data_type
            self._cells.append(cell)
            ws.column_dimensions[get_column_letter(index)].width = width
        ws._values_to_row = self._values_to_row

    def _values_to_row(self, values: Sequence[Any], row_idx: int) -> Iterator[Cell]:
        for cell, value in zip(self._cells, values):
            if value is None:
                continue
            if value.__class__ is Cell:
                value.row = row_idx
                yield value
                continue
            cell._value = value
            cell.row = row_idx
            yield cell


def _header_cells(ws: Any, columns: Sequence[tuple[str, float, str | None, str]]) -> list[Cell]:
    cells = []
    for index, (header, *_rest) in enumerate(columns, 1):
        cell = WriteOnlyCell(ws, value=header)
        cell.column = index
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGNMENT
        cells.append(cell)
    return cells


def _prepare_sheet(wb: Workbook, title: str, meta: RegisterMeta,
                   columns: Sequence[tuple[str, float, str | None, str]]) -> Any:
    """A sheet with its layout and print setup; all of it must be set before the first row."""
    ws = wb.create_sheet(title)
    _RowWriter(ws, columns)   # stays with the sheet as its row hook
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = _HEADER_ROW_HEIGHT

    ws.page_setup.paperSize = PAPER_SIZES[meta.paper]
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0          # as many pages down as needed
    ws.print_title_rows = "1:1"            # the column header on every printed page
    ws.print_options.gridLines = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.9, bottom=0.7, header=0.3, footer=0.3)

    ws.oddHeader.center.text = _print_header(meta)
    ws.oddHeader.center.font = "Calibri,Bold"
    ws.oddHeader.center.size = 12
    ws.oddFooter.center.text = "Halaman &P dari &N"
    ws.oddFooter.center.size = 9
    ws.append(_header_cells(ws, columns))
    return ws


def _register_values(row: RegisterRow, number: int) -> list[Any]:
    return [
        number,
        row.received_on,
        safe_text(row.receipt_number),
        safe_text(row.applicant_name),
        safe_text(row.applicant_nik),
        safe_text(row.company_name),
        safe_text(row.nib),
        _optional_text(row.npwp),
        safe_text(row.permit_type),
        safe_text(row.stage),
        safe_text(row.status),
        _optional_text(row.permit_number),
        row.issued_on,
        _finite(row.working_days),
        ON_TIME_LABELS[row.on_time],
        "Ya" if row.past_sla else None,
    ]


def _summary_values(item: StageSummary, working_day_minutes: int) -> list[Any]:
    median = _finite(item.median_minutes)
    pct = _finite(item.on_time_pct)
    if median is None:
        versus = None
    else:
        versus = WITHIN_STANDARD if median <= item.standard_minutes else OVER_STANDARD
    return [
        safe_text(item.permit_type),
        int(item.stage_seq),
        safe_text(item.stage),
        int(item.count),
        median,
        None if median is None else median / working_day_minutes,
        int(item.standard_minutes),
        _optional_text(item.standard_text),
        versus,
        None if pct is None else pct / 100,
    ]


def _summary_order(summary: Iterable[StageSummary]) -> list[StageSummary]:
    """Permit types in the order first given, each one's stages by stage_seq."""
    first_seen: dict[str, int] = {}
    items = list(summary)
    for item in items:
        first_seen.setdefault(item.permit_type, len(first_seen))
    return sorted(items, key=lambda s: (first_seen[s.permit_type], s.stage_seq))


def _discard(wb: Workbook) -> None:
    """After a failure: close the sheets' streams and remove their temporary files."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            writer.cleanup()


def write_register(out: BinaryIO | str | Path, meta: RegisterMeta, rows: Iterable[RegisterRow],
                   summary: Iterable[StageSummary], progress: Callable[[int], None] | None = None,
                   progress_every: int = 1000) -> int:
    """Write the register workbook to `out` (a path or a binary file object).

    `rows` is consumed once, as it comes (it may be a generator over a database cursor);
    `summary` is small and is read whole. `progress(n)` is called with the number of rows
    written every `progress_every` rows, and its last call carries the final count.
    Returns the number of data rows written.
    """
    if meta.paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {sorted(PAPER_SIZES)}, not {meta.paper!r}")
    if meta.working_day_minutes <= 0:
        raise ValueError("working_day_minutes must be positive")
    if progress_every <= 0:
        raise ValueError("progress_every must be positive")

    wb = Workbook(write_only=True)
    wb.properties.title = safe_text(f"{meta.title} {meta.period}")
    wb.properties.creator = "Loket"
    try:
        register = _prepare_sheet(wb, "Register", meta, _REGISTER_COLUMNS)
        ringkasan = _prepare_sheet(wb, "Ringkasan", meta, _SUMMARY_COLUMNS)

        append = register.append
        written = 0
        countdown = progress_every
        for row in rows:
            written += 1
            append(_register_values(row, written))
            countdown -= 1
            if countdown == 0:
                countdown = progress_every
                if progress is not None:
                    progress(written)
        last = get_column_letter(len(_REGISTER_COLUMNS))
        register.auto_filter.ref = f"A1:{last}{written + 1}"

        stages = 0
        for item in _summary_order(summary):
            stages += 1
            ringkasan.append(_summary_values(item, meta.working_day_minutes))
        ringkasan.auto_filter.ref = f"A1:{get_column_letter(len(_SUMMARY_COLUMNS))}{stages + 1}"

        wb.save(str(out) if isinstance(out, (str, Path)) else out)
    except BaseException:
        _discard(wb)
        raise
    if progress is not None and (written == 0 or written % progress_every != 0):
        progress(written)
    return written

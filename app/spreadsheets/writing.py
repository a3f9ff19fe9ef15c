"""The workbooks the import feature hands out: the template to fill in, and the error workbook.

Pure: no Flask, no database; openpyxl write_only, so memory stays flat however many rows.

Text columns (NIK, NIB, NPWP: every Column of kind "text") are formatted as text ("@") for the
whole column, so a number typed there keeps its leading zeros and all 16 digits. In write_only
mode openpyxl does write a column's style: `ws.column_dimensions["A"].number_format = "@"`,
set before the first row, comes out as `<col min="1" max="1" style="N">` with an xf of numFmtId
49 ("@"), and Excel and LibreOffice give that style to every cell typed into the column. (What
write_only ignores are styles on cells that are never written, e.g. `ws["A5"].number_format`,
and any column dimension set after the first append.) The cells actually written (the
example row, and every text cell of the error workbook) carry "@" themselves as well, since a
cell's own style wins over its column's.

Every string that comes from a user's file goes through reports.excel_register.safe_text in the
error workbook: it can never start a formula and never carries a character XML cannot hold.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.spreadsheets.reading import Column, RowError
from reports.excel_register import safe_text

__all__ = ["ERROR_HEADER", "write_error_workbook", "write_template"]

ERROR_HEADER = "Kesalahan"
TEXT_FORMAT = "@"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
INT_FORMAT = "0"
_COLUMN_FORMATS = {"text": TEXT_FORMAT, "date": DATE_FORMAT, "int": INT_FORMAT, "decimal": None}

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_REQUIRED_FILL = PatternFill(fill_type="solid", start_color="FFFCE4D6", end_color="FFFCE4D6")
_ERROR_FILL = PatternFill(fill_type="solid", start_color="FFF8CBAD", end_color="FFF8CBAD")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, default: str) -> str:
    name = _SHEET_NAME_BAD.sub(" ", title).strip().strip("'")[:31].strip()
    return name or default


def _header_cell(ws: Any, text: str, fill: PatternFill = _HEADER_FILL) -> Cell:
    cell = WriteOnlyCell(ws, value=safe_text(text))
    cell.font = _HEADER_FONT
    cell.fill = fill
    cell.alignment = _HEADER_ALIGNMENT
    return cell


def _column_width(column: Column) -> float:
    width = max(len(column.header) + 4, 14)
    if column.kind == "text" and column.max_length:
        width = max(width, min(column.max_length, 40) + 2)
    return min(width, 60)


def _save(wb: Workbook, out: BinaryIO | Path | str) -> None:
    try:
        wb.save(str(out) if isinstance(out, (str, Path)) else out)
    except BaseException:
        for ws in wb.worksheets:     # close the sheets' streams and drop their temporary files
            writer = getattr(ws, "_writer", None)
            if writer is not None:
                with contextlib.suppress(Exception):
                    if not ws.closed:
                        ws.close()
                with contextlib.suppress(Exception):
                    writer.cleanup()
        raise


class _Cells:
    """Pre-styled cells, one per column and style, reused row after row.

    write_only serialises each row as it is appended, so a cell object can carry the next
    row's value once append() returns; this saves creating and styling a cell per value.
    """

    def __init__(self, ws: Any, width: int) -> None:
        self._ws = ws
        self._pools: dict[str | None, list[Cell | None]] = {}
        self._width = width

    def get(self, index: int, number_format: str | None, value: Any) -> Any:
        if number_format is None:
            return value
        pool = self._pools.setdefault(number_format, [None] * self._width)
        cell = pool[index]
        if cell is None:
            cell = pool[index] = WriteOnlyCell(self._ws)
            cell.number_format = number_format
        cell.value = value
        return cell


def _typed(cells: _Cells, index: int, value: Any) -> Any:
    """A value from a user's file, ready to append: text safe and "@", dates dd/mm/yyyy."""
    if value is None or value == "":
        return None
    cls = value.__class__
    if cls is str:
        return cells.get(index, TEXT_FORMAT, safe_text(value))
    if cls is bool or cls is int:
        return value
    if cls is float:
        return value if math.isfinite(value) else safe_text(str(value))
    if cls is Decimal:
        return value if value.is_finite() else safe_text(str(value))
    if cls is dt.datetime:
        return cells.get(index, DATETIME_FORMAT, value.replace(tzinfo=None))
    if cls is dt.date:
        return cells.get(index, DATE_FORMAT, value)
    if cls in (dt.time, dt.timedelta):
        return value
    return cells.get(index, TEXT_FORMAT, safe_text(str(value)))


def write_template(out: BinaryIO | Path, columns: Sequence[Column], example: Sequence[Any] | None = None,
                   title: str = "") -> None:
    """The import template: one header row (bold, frozen), column formats, an optional example row.

    `title` names the sheet (cut to Excel's 31 characters) and the document; it is not written
    as a row, since read_sheet takes the first non-empty row for the header. Required columns
    have a warmer header fill.
    """
    if example is not None and len(example) != len(columns):
        raise ValueError("example must have one value per column")
    wb = Workbook(write_only=True)
    wb.properties.creator = "Loket"
    if title:
        wb.properties.title = safe_text(title)
    ws = wb.create_sheet(_sheet_name(title, "Data"))
    for index, column in enumerate(columns, 1):
        dimension = ws.column_dimensions[get_column_letter(index)]
        dimension.width = _column_width(column)
        number_format = _COLUMN_FORMATS[column.kind]
        if number_format is not None:
            dimension.number_format = number_format   # the column's style: typed cells get it
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30
    ws.append([_header_cell(ws, c.header, _REQUIRED_FILL if c.required else _HEADER_FILL)
               for c in columns])
    if example is not None:
        row = []
        for column, value in zip(columns, example):
            if value is None:
                row.append(None)
                continue
            cell = WriteOnlyCell(ws)
            if column.kind == "text":
                cell.value = safe_text(value)
            else:
                cell.value = value
            number_format = _COLUMN_FORMATS[column.kind]
            if number_format is not None:
                cell.number_format = number_format
            row.append(cell)
        ws.append(row)
    _save(wb, out)


def _error_text(errors: Sequence[RowError]) -> str:
    return "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors)


def write_error_workbook(out: BinaryIO | Path, headers: Sequence[str],
                         rows: Iterable[tuple[Sequence[Any], Sequence[RowError]]]) -> None:
    """The rows as read, with a last column "Kesalahan" ("Kolom: pesan; Kolom: pesan").

    `rows` is consumed once (a generator is fine): each item is (raw cells in the file's
    column order, that row's errors). Strings go through safe_text and are written as text
    ("@"), so staff can correct the rows and upload this very file again: read_sheet ignores
    a column headed "Kesalahan".
    """
    width = len(headers)
    wb = Workbook(write_only=True)
    wb.properties.creator = "Loket"
    wb.properties.title = "Kesalahan impor"
    ws = wb.create_sheet("Kesalahan")
    for index in range(1, width + 1):
        ws.column_dimensions[get_column_letter(index)].width = 18
    ws.column_dimensions[get_column_letter(width + 1)].width = 70
    ws.freeze_panes = "A2"
    ws.append([_header_cell(ws, str(h)) for h in headers]
              + [_header_cell(ws, ERROR_HEADER, _ERROR_FILL)])
    cells = _Cells(ws, width)
    error_cell = WriteOnlyCell(ws)
    error_cell.number_format = TEXT_FORMAT
    error_cell.alignment = _WRAP
    written = 0
    for raw, errors in rows:
        values = [_typed(cells, i, raw[i]) if i < len(raw) else None for i in range(width)]
        error_cell.value = safe_text(_error_text(errors)) if errors else None
        values.append(error_cell if errors else None)
        ws.append(values)
        written += 1
    if written:
        ws.auto_filter.ref = f"A1:{get_column_letter(width + 1)}{written + 1}"
    _save(wb, out)

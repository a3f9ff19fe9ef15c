"""Any grid as an Excel sheet: the grid's columns and Indonesian headers, typed cells, write_only.

Dates and numbers stay dates and numbers; text stays text (NIK, NIB and NPWP keep their leading
zeros) and goes through safe_text, so no cell from user data becomes a formula.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reports.excel_register import safe_text

_BOLD = Font(bold=True)
_MAX_WIDTH = 60


def write_grid(out: BinaryIO | str | Path, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
               progress: Callable[[int], None] | None = None, progress_every: int = 1000) -> int:
    """Writes the header row and `rows` (values already plain: str, int, float, Decimal, date,
    datetime without zone, bool or None). Returns the number of data rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(safe_text(title)[:31] or "Data")
    ws.freeze_panes = "A2"
    widths = [min(_MAX_WIDTH, max(10, len(h) + 2)) for h in headers]
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=safe_text(str(header)))
        cell.font = _BOLD
        header_cells.append(cell)
    ws.append(header_cells)
    written = 0
    for row in rows:
        ws.append([_cell(ws, value) for value in row])
        written += 1
        if progress is not None and written % progress_every == 0:
            progress(written)
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(headers)))}{written + 1}"
    wb.save(str(out) if isinstance(out, (str, Path)) else out)
    return written


def _cell(ws: Any, value: Any) -> Any:  # noqa: ANN401
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "dd/mm/yyyy hh:mm"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "dd/mm/yyyy"
        return cell
    cell = WriteOnlyCell(ws, value=safe_text(str(value)))
    cell.data_type = "s"  # never guessed: "=..." or "#N/A" stay text
    cell.number_format = "@"
    return cell

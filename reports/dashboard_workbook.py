"""One dashboard panel's numbers as an .xlsx: data in, bytes out.

Pure: no Flask, no database. Row 1 is the panel's title (bold), row 2 the subtitle (the permit
type and period the supervisor chose), row 4 the column headers (bold, frozen, auto-filtered),
the data below. Cells are typed as reports.grid_export types them: numbers and dates stay numbers
and dates, text goes through safe_text (never a formula). A panel holds tens of rows, so they are
read whole to size the columns to their contents.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reports.excel_register import safe_text
from reports.grid_export import _cell as typed_cell

__all__ = ["panel_workbook"]

_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_HEADER_ROW = 4
_MIN_WIDTH, _MAX_WIDTH = 10, 60
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")   # Excel refuses these in a sheet's name


def panel_workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, subtitle: str = "") -> bytes:
    """The workbook's bytes. `rows` hold plain values (str, int, float, Decimal, date, naive
    datetime, bool or None), one per header; NaN and infinity are written as empty cells."""
    data = [list(row) for row in rows]
    for number, row in enumerate(data, 1):
        if len(row) != len(headers):
            raise ValueError(f"row {number} has {len(row)} values for {len(headers)} headers")
    wb = Workbook(write_only=True)
    wb.properties.title = safe_text(title)
    wb.properties.creator = "Loket"
    ws = wb.create_sheet(_sheet_name(title))
    for index, width in enumerate(_widths(headers, data), 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"

    ws.append([_styled(ws, title, _TITLE_FONT)])
    ws.append([_styled(ws, subtitle, None)] if subtitle else [])
    ws.append([])
    ws.append([_styled(ws, header, _BOLD) for header in headers])
    for row in data:
        ws.append([typed_cell(ws, _finite(value)) for value in row])
    if headers:
        ws.auto_filter.ref = f"A{_HEADER_ROW}:{get_column_letter(len(headers))}{_HEADER_ROW + len(data)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _styled(ws: Any, text: str, font: Font | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=safe_text(text))
    cell.data_type = "s"   # a title or header is text whatever it starts with
    if font is not None:
        cell.font = font
    return cell


def _finite(value: Any) -> Any:  # noqa: ANN401
    # NaN or infinity would be written as "nan"/"inf", which Excel refuses to open.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its longest header or value (in characters), within 10..60."""
    widths = []
    for index, header in enumerate(headers):
        longest = max([len(str(header)), *(len(_shown(row[index])) for row in rows)])
        widths.append(min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2)))
    return widths


def _shown(value: Any) -> str:  # noqa: ANN401
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return "dd/mm/yyyy hh:mm"
    if isinstance(value, dt.date):
        return "dd/mm/yyyy"
    return str(value)


def _sheet_name(title: str) -> str:
    name = " ".join(_NOT_IN_SHEET_NAME.sub(" ", safe_text(title)).split()).strip("'")
    return name[:31].rstrip() or "Data"

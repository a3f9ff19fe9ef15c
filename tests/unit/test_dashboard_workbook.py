"""A dashboard panel's data as .xlsx (reports/dashboard_workbook.py): title, subtitle, headers,
typed values, column widths, and no formula from user data. Read back with openpyxl."""
from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports.dashboard_workbook import panel_workbook

HEADERS = ["Tahapan", "Tepat waktu", "Jatuh tempo", "Terlambat", "Median (menit kerja)", "Per tanggal"]
ROWS = [
    ["Penerimaan Berkas", 12, 2, 0, 10.5, dt.date(2026, 11, 30)],
    ["Verifikasi Persyaratan Teknis oleh Tim Dinas Lingkungan Hidup Kabupaten", 3, 0, 7, None,
     dt.datetime(2026, 11, 30, 7, 15)],
    ["=HYPERLINK(\"http://x\",\"klik\")", 0, 0, 1, Decimal("2.25"), None],
]


def read(data: bytes):
    return load_workbook(io.BytesIO(data), read_only=True)


def cells(data: bytes, width: int | None = None) -> list[list[object]]:
    """Every row's values, padded with None to `width` columns (read-only mode stops at a row's last value)."""
    wb = read(data)
    try:
        return [list(row) for row in wb.worksheets[0].iter_rows(max_col=width, values_only=True)]
    finally:
        wb.close()


def test_the_panel_has_its_title_subtitle_headers_and_rows_in_order() -> None:
    data = panel_workbook("Berkas per tahapan", HEADERS, iter(ROWS), subtitle="Semua jenis izin, November 2026")
    assert data[:2] == b"PK" and zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    values = cells(data)
    assert values[0][0] == "Berkas per tahapan"
    assert values[1][0] == "Semua jenis izin, November 2026"
    assert all(v is None for v in values[2])
    assert values[3] == HEADERS
    assert [row[0] for row in values[4:]] == [ROWS[0][0], ROWS[1][0], "'" + ROWS[2][0]]
    assert len(values) == 4 + len(ROWS)


def test_numbers_and_dates_stay_numbers_and_dates() -> None:
    values = cells(panel_workbook("Panel", HEADERS, ROWS), width=len(HEADERS))
    first, second, third = values[4:]
    assert first[1:5] == [12, 2, 0, 10.5] and all(isinstance(v, (int, float)) for v in first[1:5])
    assert not isinstance(first[1], bool)
    assert first[5] == dt.datetime(2026, 11, 30)   # a date reads back as midnight
    assert second[4] is None and second[5] == dt.datetime(2026, 11, 30, 7, 15)
    assert third[4] == pytest.approx(2.25) and isinstance(third[4], float)


def test_title_and_headers_are_bold_and_dates_formatted() -> None:
    wb = load_workbook(io.BytesIO(panel_workbook("Panel", HEADERS, ROWS, subtitle="Sub")))
    ws = wb.worksheets[0]
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert all(ws.cell(row=4, column=c).font.b for c in range(1, len(HEADERS) + 1))
    assert not ws["A5"].font.b and not ws["A2"].font.b
    assert ws["F5"].number_format == "dd/mm/yyyy" and ws["F6"].number_format == "dd/mm/yyyy hh:mm"
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == "A4:F7"


def test_column_widths_follow_the_longest_value_within_limits() -> None:
    wb = load_workbook(io.BytesIO(panel_workbook("Panel", HEADERS, ROWS)))
    widths = {letter: dim.width for letter, dim in wb.worksheets[0].column_dimensions.items()}
    assert widths["A"] == 60                      # the long stage name, capped
    assert widths["B"] == len("Tepat waktu") + 2  # the header is the longest
    assert widths["E"] == len("Median (menit kerja)") + 2
    assert widths["F"] == len("dd/mm/yyyy hh:mm") + 2


def test_user_text_never_becomes_a_formula_and_nan_becomes_empty() -> None:
    data = panel_workbook('=cmd|" /C calc"!A0', ["@Tahap", "Nilai"], [["+62812", math.nan], ["-1", math.inf]])
    values = cells(data, width=2)
    assert values[0][0] == "'=cmd|\" /C calc\"!A0"
    assert values[3] == ["'@Tahap", "Nilai"]
    assert values[4] == ["'+62812", None] and values[5] == ["'-1", None]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_the_sheet_is_named_after_the_title_without_characters_excel_refuses() -> None:
    wb = read(panel_workbook("Waktu per tahap [median/P90]: mutu baku?*", ["a"], []))
    assert wb.sheetnames == ["Waktu per tahap median P90 mutu"]
    wb.close()
    wb = read(panel_workbook("", ["a"], [], subtitle=""))
    assert wb.sheetnames == ["Data"]
    wb.close()


def test_an_empty_panel_still_has_its_title_and_headers() -> None:
    values = cells(panel_workbook("Kosong", ["Bulan", "Jumlah"], []))
    assert values[0][0] == "Kosong" and values[3] == ["Bulan", "Jumlah"] and len(values) == 4


def test_a_row_with_the_wrong_number_of_values_is_refused() -> None:
    with pytest.raises(ValueError, match="row 2 has 1 values for 2 headers"):
        panel_workbook("Panel", ["a", "b"], [[1, 2], [3]])

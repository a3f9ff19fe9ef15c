"""The monthly Excel register: what each sheet holds, how it is typed, formatted and printed,
and that no user data can turn into a formula.

No Flask app: reports/ is pure, data in and bytes out. Files are read back with openpyxl.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from reports.excel_register import (
    REGISTER_HEADERS,
    SUMMARY_HEADERS,
    RegisterMeta,
    RegisterRow,
    StageSummary,
    safe_text,
    write_register,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
META = RegisterMeta(title="REGISTER IZIN TERBIT", period="November 2026", office="DPMPTSPTK Kabupaten Landak")

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://x","klik")',
    "plus": "+62812",
    "minus": "-1+1",
    "at": "@SUM(A1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def _row(**changes: object) -> RegisterRow:
    values: dict[str, object] = {
        "received_on": dt.date(2026, 11, 2),
        "receipt_number": "IPK-26-000001",
        "applicant_name": "Siti Aminah",
        "applicant_nik": "6108014508950001",
        "company_name": "CV Maju Jaya Landak",
        "nib": "9120000000001",
        "npwp": "012345678901000",
        "permit_type": "Izin Pengangkutan Kayu",
        "stage": "Penerbitan",
        "status": "Terbit",
        "permit_number": "503/001/IPK/DPMPTSPTK/2026",
        "issued_on": dt.date(2026, 11, 5),
        "working_days": 3.4,
        "on_time": True,
    }
    values.update(changes)
    return RegisterRow(**values)  # type: ignore[arg-type]


ROWS = [
    _row(),                                                                   # 1 on time
    _row(receipt_number="IPK-26-000002", applicant_name="Yohanes Ajang", working_days=12.5,
         on_time=False, permit_number="503/002/IPK/DPMPTSPTK/2026", issued_on=dt.date(2026, 11, 20)),  # 2 late
    _row(receipt_number="IPK-26-000003", stage="Verifikasi Berkas", status="Dalam Proses",
         permit_number=None, issued_on=None, working_days=None, on_time=None, npwp=None),  # 3 running
    _row(receipt_number="IPK-26-000004", nib="0120000000001", npwp="001234567890000",
         applicant_nik="0108014508950001", working_days=2),                # 4 leading zeros, int days
    _row(receipt_number="IPK-26-000005", applicant_name=HOSTILE["hyperlink"], company_name=HOSTILE["plus"]),
    _row(receipt_number="IPK-26-000006", applicant_name=HOSTILE["minus"], company_name=HOSTILE["at"],
         permit_number="#N/A"),
    _row(receipt_number="IPK-26-000007", applicant_name=HOSTILE["tab"], company_name=HOSTILE["cr"],
         stage="Bel\x07l", status="Terbit\x00"),
]

SUMMARY = [  # deliberately out of order: the sheet sorts stages within each permit type
    StageSummary("Izin Pengangkutan Kayu", 2, "Verifikasi Berkas", 6, 255.0, 1020, "2 hari kerja", 83.33),
    StageSummary("Izin Pengangkutan Kayu", 1, "Penerimaan Berkas", 7, 40.0, 60, "1 jam kerja", 100.0),
    StageSummary("Izin Usaha Perikanan", 1, "Penerimaan Berkas", 0, None, 60, "1 jam kerja", None),
    StageSummary("Izin Pengangkutan Kayu", 3, "=Penerbitan", 5, 1530.0, 1020, "2 hari kerja", 40.0),
]


def _build(paper: str = "F4", rows: list[RegisterRow] = ROWS) -> bytes:
    out = io.BytesIO()
    assert write_register(out, RegisterMeta(META.title, META.period, META.office, paper=paper), rows, SUMMARY) \
        == len(rows)
    return out.getvalue()


@pytest.fixture(scope="module")
def book():
    return load_workbook(io.BytesIO(_build()))


@pytest.fixture(scope="module")
def register(book):
    return book["Register"]


@pytest.fixture(scope="module")
def ringkasan(book):
    return book["Ringkasan"]


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    return [row[headers.index(header)] for row in ws.iter_rows(min_row=2)]


# --- safe_text ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [*HOSTILE.values(), "=", "-", "@"])
def test_safe_text_quotes_what_could_start_a_formula(text: str) -> None:
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Siti Aminah", "0120000000001", "PT A & B", "'quoted", " =1", "", "Rp 1.000-"])
def test_safe_text_leaves_ordinary_text(text: str) -> None:
    assert safe_text(text) == text


def test_safe_text_drops_what_xml_cannot_hold_then_checks_the_start() -> None:
    assert safe_text("Bel\x07l\x00") == "Bell"
    assert safe_text("\x01=1+1") == "'=1+1"
    assert safe_text("a\ud800b\uffff") == "ab"
    assert safe_text("line\nbreak") == "line\nbreak"
    assert len(safe_text("x" * 40_000)) == 32_767


# --- sheet 1 ------------------------------------------------------------------------------------

def test_sheets_and_headers(book, register, ringkasan) -> None:
    assert book.sheetnames == ["Register", "Ringkasan"]
    assert tuple(c.value for c in register[1]) == REGISTER_HEADERS == (
        "No", "Tanggal Diterima", "Nomor Pendaftaran", "Nama Pemohon", "NIK Pemohon", "Perusahaan", "NIB",
        "NPWP", "Jenis Izin", "Tahapan", "Status", "Nomor Izin", "Tanggal Terbit", "Lama Proses (hari kerja)",
        "Tepat Waktu?", "Melewati SLA",
    )
    assert all(c.font.bold for c in register[1])
    assert tuple(c.value for c in ringkasan[1]) == SUMMARY_HEADERS
    assert all(c.font.bold for c in ringkasan[1])


def test_rows_numbered_in_order(register) -> None:
    assert register.max_row == 1 + len(ROWS)
    assert [c.value for c in _column(register, "No")] == list(range(1, len(ROWS) + 1))
    assert [c.value for c in _column(register, "Nomor Pendaftaran")] == [r.receipt_number for r in ROWS]


def test_dates_are_real_dates(register) -> None:
    for header, attr in (("Tanggal Diterima", "received_on"), ("Tanggal Terbit", "issued_on")):
        for cell, row in zip(_column(register, header), ROWS):
            expected = getattr(row, attr)
            if expected is None:
                assert cell.value is None
                continue
            assert isinstance(cell.value, dt.datetime) and cell.value.date() == expected
            assert cell.is_date and cell.number_format == "dd/mm/yyyy"


def test_identity_numbers_are_text_with_leading_zeros(register) -> None:
    for header, attr in (("NIK Pemohon", "applicant_nik"), ("NIB", "nib"), ("NPWP", "npwp")):
        for cell, row in zip(_column(register, header), ROWS):
            if getattr(row, attr) is None:
                assert cell.value is None
                continue
            assert cell.value == getattr(row, attr)
            assert cell.data_type == "s" and isinstance(cell.value, str)
            assert cell.number_format == "@"
    assert _column(register, "NIB")[3].value == "0120000000001"
    assert _column(register, "NPWP")[3].value == "001234567890000"


def test_working_days_and_on_time(register) -> None:
    days = _column(register, "Lama Proses (hari kerja)")
    assert [c.value for c in days] == [3.4, 12.5, None, 2, 3.4, 3.4, 3.4]
    for cell in days:
        if cell.value is not None:
            assert isinstance(cell.value, (int, float)) and cell.data_type == "n"
            assert cell.number_format == "0.0"
    assert [c.value for c in _column(register, "Tepat Waktu?")] == ["Ya", "Tidak", None, "Ya", "Ya", "Ya", "Ya"]
    running = [c.value for c in register[4]]
    assert running[REGISTER_HEADERS.index("Status")] == "Dalam Proses"
    assert running[REGISTER_HEADERS.index("Nomor Izin")] is None


def test_layout(register, ringkasan) -> None:
    assert register.freeze_panes == "A2"
    assert register.auto_filter.ref == f"A1:P{1 + len(ROWS)}"
    assert ringkasan.freeze_panes == "A2"
    assert ringkasan.auto_filter.ref == f"A1:J{1 + len(SUMMARY)}"
    for ws, count in ((register, len(REGISTER_HEADERS)), (ringkasan, len(SUMMARY_HEADERS))):
        widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(count)]
        assert all(w and w >= 6 for w in widths), widths
    assert register.column_dimensions["D"].width == 28  # Nama Pemohon


@pytest.mark.parametrize(("paper", "code"), [("A4", 9), ("F4", 14)])
def test_print_setup(paper: str, code: int) -> None:
    book = load_workbook(io.BytesIO(_build(paper)))
    for ws in book.worksheets:
        assert ws.page_setup.paperSize == code
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1"
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert ws.oddFooter.center.text == "Halaman &P dari &N"
        assert ws.oddHeader.center.text == "REGISTER IZIN TERBIT - November 2026 - DPMPTSPTK Kabupaten Landak"


def test_ampersand_in_print_header_is_escaped() -> None:
    out = io.BytesIO()
    write_register(out, RegisterMeta("REGISTER A & B", "November 2026", "Kantor &P"), [], [])
    header = load_workbook(out).worksheets[0].oddHeader.center.text
    assert header == "REGISTER A && B - November 2026 - Kantor &&P"


def test_print_header_is_one_line_within_excel_limit() -> None:
    out = io.BytesIO()
    write_register(out, RegisterMeta("REGISTER\nBERKAS " + "&" * 300, "November 2026", "Kantor"), [], [])
    header = load_workbook(out).worksheets[0].oddHeader.center.text
    assert header.startswith("REGISTER BERKAS &&") and "\n" not in header
    assert len(header) <= 220


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="paper"):
        write_register(io.BytesIO(), RegisterMeta("T", "P", "O", paper="Letter"), [], [])


# --- formula injection --------------------------------------------------------------------------

def test_hostile_text_is_stored_quoted_as_strings(register) -> None:
    names = [c for c in _column(register, "Nama Pemohon")]
    companies = [c for c in _column(register, "Perusahaan")]
    by_text = {cell.value: cell for cell in names + companies}
    for text in HOSTILE.values():
        cell = by_text["'" + text]
        assert cell.data_type == "s"
    permit = _column(register, "Nomor Izin")[5]
    assert permit.value == "#N/A" and permit.data_type == "s"  # an error-looking string stays a string
    assert register.cell(row=8, column=REGISTER_HEADERS.index("Tahapan") + 1).value == "Bell"
    assert register.cell(row=8, column=REGISTER_HEADERS.index("Status") + 1).value == "Terbit"


def test_no_formula_anywhere(book) -> None:
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.coordinate
    with zipfile.ZipFile(io.BytesIO(_build())) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


# --- sheet 2 ------------------------------------------------------------------------------------

def test_summary_figures(ringkasan) -> None:
    rows = [[c.value for c in row] for row in ringkasan.iter_rows(min_row=2)]
    assert [(r[0], r[1]) for r in rows] == [
        ("Izin Pengangkutan Kayu", 1), ("Izin Pengangkutan Kayu", 2), ("Izin Pengangkutan Kayu", 3),
        ("Izin Usaha Perikanan", 1),
    ]
    first, second, third, empty = rows
    assert first == ["Izin Pengangkutan Kayu", 1, "Penerimaan Berkas", 7, 40, pytest.approx(40 / 510), 60,
                     "1 jam kerja", "sesuai", 1.0]
    assert second[3:] == [6, 255, 0.5, 1020, "2 hari kerja", "sesuai", pytest.approx(0.8333)]
    assert third[2] == "'=Penerbitan"
    assert third[4:] == [1530, 3.0, 1020, "2 hari kerja", "melebihi", pytest.approx(0.4)]
    assert empty[3:] == [0, None, None, 60, "1 jam kerja", None, None]
    formats = {h: ringkasan.cell(row=2, column=i + 1).number_format for i, h in enumerate(SUMMARY_HEADERS)}
    assert formats["% Tepat Waktu"] == "0.0%"
    assert formats["Median Waktu (hari kerja)"] == "0.00"


# --- output, progress, failure ------------------------------------------------------------------

def test_writes_to_a_path_and_reports_progress(tmp_path: Path) -> None:
    calls: list[int] = []
    target = tmp_path / "register.xlsx"
    rows = [_row(receipt_number=f"IPK-26-{i:06d}") for i in range(1, 8)]
    assert write_register(target, META, rows, SUMMARY, progress=calls.append, progress_every=3) == 7
    assert calls == [3, 6, 7]
    assert load_workbook(target)["Register"].max_row == 8

    calls.clear()
    write_register(str(tmp_path / "six.xlsx"), META, rows[:6], [], progress=calls.append, progress_every=3)
    assert calls == [3, 6]
    calls.clear()
    write_register(io.BytesIO(), META, [], [], progress=calls.append)
    assert calls == [0]


def test_empty_month_still_has_headers() -> None:
    out = io.BytesIO()
    assert write_register(out, META, iter(()), iter(())) == 0
    book = load_workbook(out)
    assert book["Register"].max_row == 1
    assert book["Register"].auto_filter.ref == "A1:P1"


def test_failure_leaves_no_file_behind(tmp_path: Path) -> None:
    def rows() -> Iterator[RegisterRow]:
        yield from ROWS[:3]
        raise RuntimeError("cursor lost")

    before = set(ALL_TEMP_FILES)
    target = tmp_path / "broken.xlsx"
    with pytest.raises(RuntimeError, match="cursor lost"):
        write_register(target, META, rows(), SUMMARY)
    assert not target.exists()
    assert not [p for p in set(ALL_TEMP_FILES) - before if os.path.exists(p)]


def test_twenty_thousand_rows_read_back() -> None:
    start = dt.date(2026, 11, 1)

    def rows() -> Iterator[RegisterRow]:
        for i in range(20_000):
            yield _row(received_on=start + dt.timedelta(days=i % 30), receipt_number=f"IPK-26-{i:06d}",
                       nib=f"{i:013d}", working_days=(i % 50) / 10, on_time=(None, True, False)[i % 3])

    out = io.BytesIO()
    assert write_register(out, META, rows(), SUMMARY) == 20_000
    # openpyxl reads the small fixtures above cell by cell; here the sheet XML is only walked
    # (openpyxl's own read of 20,000 rows takes seconds): header + 20,000 rows, the last one whole.
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        rows_seen, last = 0, {}
        for _event, element in ElementTree.iterparse(archive.open("xl/worksheets/sheet1.xml")):
            if element.tag == f"{{{MAIN}}}row":
                rows_seen += 1
                last = {"r": element.get("r")} | {c.get("r"): (c.get("t"), "".join(c.itertext())) for c in element}
                element.clear()
    assert rows_seen == 20_001
    assert last["r"] == "20001"
    assert last["A20001"] == ("n", "20000")
    assert last["G20001"] == ("inlineStr", f"{19_999:013d}")
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)  # opens lazily: cheap
    assert book.sheetnames == ["Register", "Ringkasan"]
    assert next(book["Register"].iter_rows(min_row=2, max_row=2, values_only=True))[6] == f"{0:013d}"
    book.close()

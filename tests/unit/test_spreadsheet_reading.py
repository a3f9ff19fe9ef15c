"""app.spreadsheets: hostile uploads refused before any parsing, rows checked, workbooks written."""
from __future__ import annotations

import datetime as dt
import io
import re
import struct
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from app.spreadsheets import reading
from app.spreadsheets.reading import (
    Column,
    RowError,
    SpreadsheetRefused,
    check_container,
    column_letter,
    read_sheet,
)
from app.spreadsheets.writing import ERROR_HEADER, write_error_workbook, write_template

SHEET = "xl/worksheets/sheet1.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _check_nik(value: str) -> str:
    if not re.fullmatch(r"[0-9]{16}", value):
        raise ValueError("NIK tidak valid")
    return value


def _check_nib(value: str) -> str:
    if not re.fullmatch(r"[0-9]{13}", value):
        raise ValueError("NIB harus 13 angka.")
    return value


COLUMNS = [
    Column("nib", "NIB", required=True, max_length=13, check=_check_nib),
    Column("nama", "Nama Perusahaan", required=True, max_length=200),
    Column("nik", "NIK Pemohon", check=_check_nik, aliases=("NIK",)),
    Column("terbit", "Tanggal Terbit", kind="date", aliases=("Tgl Terbit",)),
    Column("karyawan", "Jumlah Karyawan", kind="int"),
    Column("modal", "Modal", kind="decimal"),
    Column("keterangan", "Keterangan"),
]
HEADERS = [c.header for c in COLUMNS]


def _xlsx(path: Path, rows: list[list], title: str = "Data") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _good_row(nib: str = "9120000000001", **overrides) -> list:
    row = {"NIB": nib, "Nama Perusahaan": "PT Maju Jaya", "NIK Pemohon": "6108014508950001",
           "Tanggal Terbit": dt.date(2024, 3, 5), "Jumlah Karyawan": 12, "Modal": 2500000,
           "Keterangan": None}
    row.update(overrides)
    return [row[h] for h in HEADERS]


def _rezip(src: Path, dst: Path, replace: dict[str, bytes] | None = None,
           add: dict[str, bytes] | None = None) -> Path:
    """Copy a workbook's zip, swapping or adding members."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def _with_sheet_xml(tmp_path: Path, sheet_data: str, head: str = "") -> Path:
    base = _xlsx(tmp_path / "base.xlsx", [["a"]])
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{NS}">{head}<sheetData>{sheet_data}</sheetData></worksheet>'
    return _rezip(base, tmp_path / "crafted.xlsx", replace={SHEET: xml.encode()})


def _refused(path: Path, fragment: str, **kwargs) -> str:
    with pytest.raises(SpreadsheetRefused) as caught:
        check_container(path, **kwargs)
    message = str(caught.value)
    assert fragment in message, message
    return message


# ---- whole-file refusals -----------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "kosong.xlsx"
    path.write_bytes(b"")
    _refused(path, "Berkas kosong (0 byte)")


def test_csv_renamed_to_xlsx_is_refused_as_not_a_zip(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("NIB,Nama Perusahaan\n9120000000001,PT Maju\n", encoding="utf-8")
    message = _refused(path, "bukan Excel Workbook (.xlsx)")
    assert "Simpan Sebagai" in message


def test_password_protected_workbook_is_named_as_such(tmp_path):
    path = tmp_path / "rahasia.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 64)
    message = _refused(path, "dilindungi kata sandi")
    assert "bukan Excel Workbook" not in message


def test_encrypted_package_and_old_xls_are_told_apart(tmp_path):
    cfb = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    encrypted = tmp_path / "enc.xlsx"
    encrypted.write_bytes(cfb + "EncryptedPackage".encode("utf-16-le") + b"\0" * 512)
    _refused(encrypted, "dilindungi kata sandi")
    old = tmp_path / "lama.xlsx"
    old.write_bytes(cfb + "Workbook".encode("utf-16-le") + b"\0" * 512)
    _refused(old, "format Excel lama (.xls)")


def test_zip_bomb_is_refused_from_the_directory_without_inflating(tmp_path, monkeypatch):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS])
    bomb = _rezip(base, tmp_path / "bomb.xlsx", add={"xl/media/image1.bin": bytes(50 * 2**20)})
    assert bomb.stat().st_size < 200_000          # 50 MB of zeros deflate to ~50 KB

    def no_inflating(*_args, **_kwargs):
        raise AssertionError("inflated a member of a zip bomb")

    monkeypatch.setattr(reading, "_inflate", no_inflating)
    _refused(bomb, "zip bomb")                                          # ratio ~1000:1
    _refused(bomb, "terlalu besar setelah dibuka", max_uncompressed_bytes=10 * 2**20)


def test_member_holding_more_than_it_declares_is_refused(tmp_path):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS, _good_row()])
    data = bytearray(base.read_bytes())
    central = data.index(b"PK\x01\x02")
    # Rewrite the central directory's "uncompressed size" of the sheet to 100 bytes.
    while True:
        name_length = struct.unpack("<H", data[central + 28:central + 30])[0]
        name = bytes(data[central + 46:central + 46 + name_length]).decode()
        if name == SHEET:
            data[central + 24:central + 28] = struct.pack("<I", 100)
            break
        extra, comment = struct.unpack("<HH", data[central + 30:central + 34])
        central += 46 + name_length + extra + comment
    lying = tmp_path / "lying.xlsx"
    lying.write_bytes(bytes(data))
    _refused(lying, "lebih besar dari yang tercatat")


def test_too_many_members_is_refused(tmp_path):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS])
    many = _rezip(base, tmp_path / "many.xlsx", add={f"xl/media/x{i}.bin": b"" for i in range(1001)})
    _refused(many, "terlalu banyak bagian")


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
                            for i in range(1, 10))
                  + f']>\n<workbook xmlns="{NS}"><sheets><sheet name="&lol9;" sheetId="1"/></sheets></workbook>')


def test_xml_entity_bomb_in_workbook_xml_is_refused(tmp_path):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS])
    bomb = _rezip(base, tmp_path / "lol.xlsx", replace={"xl/workbook.xml": BILLION_LAUGHS.encode()})
    _refused(bomb, "DTD/entitas XML (xl/workbook.xml)")


def test_doctype_in_a_sheet_is_refused(tmp_path):
    path = _with_sheet_xml(tmp_path, "", head="")
    data = zipfile.ZipFile(path).read(SHEET).replace(
        b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1)
    crafted = _rezip(path, tmp_path / "dtd.xlsx", replace={SHEET: data})
    _refused(crafted, "DTD/entitas XML")


def test_macro_workbook_is_refused(tmp_path):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS])
    with zipfile.ZipFile(base) as zf:
        types = zf.read("[Content_Types].xml").replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert b"macroEnabled" in types
    xlsm = _rezip(base, tmp_path / "makro.xlsx", replace={"[Content_Types].xml": types},
                  add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 100})
    _refused(xlsm, "berisi makro")
    only_type = _rezip(base, tmp_path / "makro2.xlsx", replace={"[Content_Types].xml": types})
    _refused(only_type, "berisi makro")


def test_sheet_whose_dimension_claims_a_million_rows_is_refused(tmp_path):
    path = _with_sheet_xml(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>NIB</t></is></c></row>',
                           head='<dimension ref="A1:C1048576"/>')
    message = _refused(path, "1.048.576 baris")
    assert "A1:C1048576" in message and "200.000" in message


def test_far_away_cell_is_refused_before_calamine_sees_it(tmp_path):
    # Without this check python-calamine allocates a dense A1:XFD1048576 grid and aborts.
    path = _with_sheet_xml(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>NIB</t></is></c></row>'
                                     '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    _refused(path, "sampai kolom XFD")
    with pytest.raises(SpreadsheetRefused, match="sampai kolom XFD"):
        read_sheet(path, COLUMNS)
    far_down = _with_sheet_xml(tmp_path, '<row r="1"><c r="A1"><v>1</v></c></row>'
                                         '<row r="300000"><c r="A300000"><v>1</v></c></row>')
    _refused(far_down, "sampai baris 300.000")


@pytest.mark.parametrize("sheet_data", [
    # cells without r: positions run on, as calamine counts them
    '<row r="1"><c><v>1</v></c></row><row r="900000"><c><v>1</v></c></row>',
    # a prefixed element is a cell too for calamine
    '<row r="1"><x:c xmlns:x="urn:x" r="A1"><x:v>1</x:v></x:c><x:c xmlns:x="urn:x" r="ZZZ9"><x:v>2</x:v></x:c></row>',
    # a ">" inside an attribute value, and the reference second
    '<row r="1"><c t="n" s=">" r="A900000"><v>1</v></c></row>',
])
def test_unusual_cell_markup_goes_through_the_exact_scan(tmp_path, sheet_data):
    _refused(_with_sheet_xml(tmp_path, sheet_data), "melebihi batas")


def test_formatted_empty_cells_far_away_are_allowed(tmp_path):
    path = _with_sheet_xml(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>NIB</t></is></c>'
                                     '<c r="XFD1" s="1"/></row><row r="1048576"><c r="A1048576" s="1"/></row>')
    check_container(path)
    sheet = read_sheet(path, [Column("nib", "NIB")])
    assert sheet.headers == ("NIB",) and sheet.rows == []


def test_ordinary_workbooks_take_the_fast_scan(tmp_path, monkeypatch):
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    def no_exact_scan(*_args, **_kwargs):
        raise AssertionError("an ordinary workbook went through the slow exact scan")

    monkeypatch.setattr(reading, "_exact_extent", no_exact_scan)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for i in range(300):
        ws.append(_good_row(nib=f"{9120000000000 + i}"))
    ws.conditional_formatting.add("E2:E301", CellIsRule(operator="greaterThan", formula=["100"],
                                                        fill=PatternFill(bgColor="FFC7CE")))
    ws.merge_cells("H1:I1")
    ws["Z400"].number_format = "@"          # a formatted empty cell beyond the table
    ws.column_dimensions["A"].width = 20
    wb.save(tmp_path / "biasa.xlsx")
    check_container(tmp_path / "biasa.xlsx")
    assert len(read_sheet(tmp_path / "biasa.xlsx", COLUMNS).rows) == 300
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(HEADERS)
    ws.append(_good_row())
    wb.save(tmp_path / "stream.xlsx")
    check_container(tmp_path / "stream.xlsx")


def test_empty_zip_is_not_a_workbook(tmp_path):
    path = tmp_path / "kosong.xlsx"
    zipfile.ZipFile(path, "w").close()
    _refused(path, "bukan buku kerja Excel")


@pytest.mark.parametrize("limit", [1, 2, 25, 26, 27, 50, 52, 100, 701, 702, 703])
def test_column_limit_regex_matches_exactly_the_columns_up_to_the_limit(limit):
    pattern = re.compile(reading._le_letters(limit))
    for index in range(1, 800):
        assert bool(pattern.fullmatch(column_letter(index).encode())) == (index <= limit), index


@pytest.mark.parametrize("limit", [1, 9, 10, 11, 99, 100, 101, 200_001, 1_048_576])
def test_row_limit_regex_matches_exactly_the_rows_up_to_the_limit(limit):
    pattern = re.compile(reading._le_digits(limit))
    samples = set(range(1, 1200)) | {limit - 1, limit, limit + 1, limit * 10, 199_999, 200_002}
    for n in samples:
        if n > 0:
            assert bool(pattern.fullmatch(str(n).encode())) == (n <= limit), n
    assert not pattern.fullmatch(b"0") and not pattern.fullmatch(b"01")


def test_wrong_headers_are_refused(tmp_path):
    path = _xlsx(tmp_path / "salah.xlsx", [HEADERS + ["Nomor Rekening", "Foo"], _good_row() + ["1", "2"]])
    with pytest.raises(SpreadsheetRefused, match=r"Kolom tidak dikenal: Nomor Rekening, Foo\."):
        read_sheet(path, COLUMNS)


def test_an_extract_reads_past_its_title_and_unknown_columns(tmp_path):
    """Another system's export: a title and a blank row above the table, columns Loket does
    not use (whose cells, even filled, are no error), and the table's own header."""
    rows = [["LAPORAN PERMOHONAN", None, None, None], [None] * 4,
            ["No", "NIB", "Nama Perusahaan", "Petugas"],
            [1, "9120000000001", "PT A", "Rina"],
            [2, "9120000000002", "PT B", "Rina"]]
    path = _xlsx(tmp_path / "ekstrak.xlsx", rows)
    sheet = read_sheet(path, COLUMNS, key="nib", extract=True)
    assert sheet.ignored == ("No", "Petugas") and sheet.keys == ("nib", "nama")
    assert [(r.row, r.values, r.errors) for r in sheet.rows] == [
        (4, {"nib": "9120000000001", "nama": "PT A"}, ()), (5, {"nib": "9120000000002", "nama": "PT B"}, ())]
    with pytest.raises(SpreadsheetRefused, match=r"Kolom wajib tidak ada: NIB, Nama Perusahaan\."):
        read_sheet(path, COLUMNS, key="nib")      # not an extract: the title is the header


def test_an_extract_without_its_columns_in_the_first_ten_rows_is_refused(tmp_path):
    rows = [[f"catatan {n}"] for n in range(10)] + [HEADERS, _good_row()]
    with pytest.raises(SpreadsheetRefused, match=r"Kolom wajib tidak ada: NIB, Nama Perusahaan\."):
        read_sheet(_xlsx(tmp_path / "jauh.xlsx", rows), COLUMNS, extract=True)
    sheet = read_sheet(_xlsx(tmp_path / "dekat.xlsx", rows[1:]), COLUMNS, extract=True)
    assert [r.values["nib"] for r in sheet.rows] == ["9120000000001"]


def test_missing_required_headers_are_listed(tmp_path):
    path = _xlsx(tmp_path / "kurang.xlsx", [["NIK", "Modal"], ["6108014508950001", 1]])
    with pytest.raises(SpreadsheetRefused) as caught:
        read_sheet(path, COLUMNS)
    assert str(caught.value) == ("Kolom wajib tidak ada: NIB, Nama Perusahaan. "
                                 "Unduh templat untuk melihat kolom yang benar.")


def test_duplicate_header_is_refused(tmp_path):
    path = _xlsx(tmp_path / "ganda.xlsx", [["NIB", "Nama Perusahaan", "nib"]])
    with pytest.raises(SpreadsheetRefused, match=r"Judul kolom ganda: NIB \(kolom A dan C\)"):
        read_sheet(path, COLUMNS)


def test_empty_workbook_has_no_header_row(tmp_path):
    path = tmp_path / "kosong.xlsx"
    Workbook().save(path)
    _refused(path, "tidak ada baris judul kolom")
    with pytest.raises(SpreadsheetRefused, match="tidak ada baris judul kolom"):
        read_sheet(path, COLUMNS)


def test_header_without_data_rows_is_an_empty_sheet(tmp_path):
    path = _xlsx(tmp_path / "judul.xlsx", [HEADERS, [None] * len(HEADERS), ["  ", None, "\u00a0"]])
    sheet = read_sheet(path, COLUMNS)
    assert sheet.headers == tuple(HEADERS)
    assert sheet.rows == []


def test_workbook_without_sheets_is_refused(tmp_path):
    base = _xlsx(tmp_path / "base.xlsx", [HEADERS])
    workbook = zipfile.ZipFile(base).read("xl/workbook.xml")
    empty = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", workbook)
    assert empty != workbook
    _refused(_rezip(base, tmp_path / "nosheet.xlsx", replace={"xl/workbook.xml": empty}),
             "tidak berisi lembar kerja")


def test_read_sheet_checks_the_container_first(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("NIB;Nama\n", encoding="utf-8")
    with pytest.raises(SpreadsheetRefused, match="bukan Excel Workbook"):
        read_sheet(path, COLUMNS)


def test_too_many_data_rows_are_refused(tmp_path):
    rows = [HEADERS] + [_good_row(nib=f"912000000000{i}") for i in range(5)]
    path = _xlsx(tmp_path / "banyak.xlsx", rows)
    with pytest.raises(SpreadsheetRefused, match="memakai 6 baris .*melebihi batas 3 baris data"):
        read_sheet(path, COLUMNS, max_rows=3)          # the container check sees it first
    assert len(read_sheet(path, COLUMNS, max_rows=5).rows) == 5
    # The row loop counts too (data rows, empty ones not counted), and stops reading.
    consumed = []

    def cells():
        yield list(HEADERS)
        for i in range(10):
            consumed.append(i)
            yield [""] * len(HEADERS) if i % 2 else _good_row(nib=f"912000000000{i}")

    with pytest.raises(SpreadsheetRefused, match="lebih dari 3 baris data"):
        reading._parse_rows(cells(), COLUMNS, None, 3, 0)
    assert consumed == [0, 1, 2, 3, 4, 5, 6]


# ---- rows ----------------------------------------------------------------------------------------


def _errors(sheet) -> dict[int, list[tuple[str, str]]]:
    return {r.row: [(e.column, e.message) for e in r.errors] for r in sheet.rows if r.errors}


def test_good_row_is_typed(tmp_path):
    path = _xlsx(tmp_path / "baik.xlsx", [HEADERS, _good_row(Modal=2500000.5, Keterangan="  catatan  ")])
    sheet = read_sheet(path, COLUMNS, key="nib")
    [row] = sheet.rows
    assert row.row == 2 and row.errors == () and row.raw == ()
    assert row.values == {"nib": "9120000000001", "nama": "PT Maju Jaya", "nik": "6108014508950001",
                          "terbit": dt.date(2024, 3, 5), "karyawan": 12,
                          "modal": Decimal("2500000.5"), "keterangan": "catatan"}


def test_numeric_identifiers_become_exact_text(tmp_path):
    rows = [HEADERS,
            _good_row(nib=9120000000001.0),                         # NIB typed as a number
            _good_row(nib=9120000000002, **{"NIK Pemohon": 6.108014508950001e+15}),
            _good_row(nib="  9120000000003 ", **{"Nama Perusahaan": "\u00a0 PT  Spasi \t"})]
    sheet = read_sheet(_xlsx(tmp_path / "angka.xlsx", rows), COLUMNS)
    assert [r.values["nib"] for r in sheet.rows] == ["9120000000001", "9120000000002", "9120000000003"]
    assert sheet.rows[1].values["nik"] == "6108014508950001"
    assert sheet.rows[2].values["nama"] == "PT  Spasi"
    assert _errors(sheet) == {}


def test_row_errors_in_indonesian(tmp_path):
    rows = [HEADERS,
            _good_row(nib="9120000000001", **{"Jumlah Karyawan": "tiga"}),
            _good_row(nib="9120000000002", **{"Jumlah Karyawan": 3.5}),
            _good_row(nib="9120000000003", **{"Nama Perusahaan": "x" * 201}),
            _good_row(nib=None, **{"Nama Perusahaan": "   "}),
            _good_row(nib="9120000000005", **{"NIK Pemohon": "12345"}),
            _good_row(nib="9120000000006", **{"Tanggal Terbit": "31/02/2020"}),
            _good_row(nib="9120000000007", Modal="satu juta"),
            _good_row(nib="9120000000008", Modal="1.500"),
            _good_row(nib="123")]
    sheet = read_sheet(_xlsx(tmp_path / "salah.xlsx", rows), COLUMNS)
    assert _errors(sheet) == {
        2: [("Jumlah Karyawan", "Bukan bilangan bulat: 'tiga'.")],
        3: [("Jumlah Karyawan", "Bukan bilangan bulat: '3.5'.")],
        4: [("Nama Perusahaan", "Terlalu panjang (paling banyak 200 huruf).")],
        5: [("NIB", "Wajib diisi."), ("Nama Perusahaan", "Wajib diisi.")],
        6: [("NIK Pemohon", "NIK tidak valid")],
        7: [("Tanggal Terbit", "Bukan tanggal (gunakan dd/mm/yyyy): '31/02/2020'.")],
        8: [("Modal", "Bukan angka: 'satu juta'.")],
        9: [("Modal", ("Angka ambigu: '1.500' (titik/koma bisa berarti pemisah ribuan atau desimal). "
                       "Tulis tanpa pemisah ribuan, mis. 1500 atau 1,5."))],
        10: [("NIB", "NIB harus 13 angka.")],
    }
    failed = sheet.rows[0]
    assert isinstance(failed.errors[0], RowError)
    assert failed.values["karyawan"] is None and failed.values["nib"] == "9120000000001"
    assert failed.raw[HEADERS.index("Jumlah Karyawan")] == "tiga"
    assert failed.raw[HEADERS.index("Keterangan")] is None
    assert len(failed.raw) == len(HEADERS)


def test_int_accepts_3_and_3_0_and_text_3(tmp_path):
    rows = [HEADERS] + [_good_row(nib=f"912000000000{i}", **{"Jumlah Karyawan": v})
                        for i, v in enumerate([3, 3.0, "3", " -4 ", None])]
    sheet = read_sheet(_xlsx(tmp_path / "int.xlsx", rows), COLUMNS)
    assert [r.values["karyawan"] for r in sheet.rows] == [3, 3, 3, -4, None]
    assert _errors(sheet) == {}


def test_dates_in_several_forms(tmp_path):
    forms = [dt.date(2021, 1, 5), dt.datetime(2021, 1, 5, 14, 30), "05/01/2021", "5/1/2021",
             "05-01-2021", "2021-01-05", " 05/01/2021 "]
    rows = [HEADERS] + [_good_row(nib=f"912000000000{i}", **{"Tanggal Terbit": v}) for i, v in enumerate(forms)]
    sheet = read_sheet(_xlsx(tmp_path / "tgl.xlsx", rows), COLUMNS)
    assert [r.values["terbit"] for r in sheet.rows] == [dt.date(2021, 1, 5)] * len(forms)
    assert _errors(sheet) == {}


def test_a_serial_number_is_not_a_date(tmp_path):
    rows = [HEADERS, _good_row(**{"Tanggal Terbit": 43831})]
    sheet = read_sheet(_xlsx(tmp_path / "serial.xlsx", rows), COLUMNS)
    assert _errors(sheet) == {2: [("Tanggal Terbit", "Bukan tanggal (gunakan dd/mm/yyyy): '43831'.")]}


def test_decimals(tmp_path):
    values = [2500000, 1000.25, "1.234.567,89", "1,234,567.89", "1,5", "12.75", "  7 "]
    rows = [HEADERS] + [_good_row(nib=f"912000000000{i}", Modal=v) for i, v in enumerate(values)]
    sheet = read_sheet(_xlsx(tmp_path / "desimal.xlsx", rows), COLUMNS)
    assert [r.values["modal"] for r in sheet.rows] == [
        Decimal(2500000), Decimal("1000.25"), Decimal("1234567.89"), Decimal("1234567.89"),
        Decimal("1.5"), Decimal("12.75"), Decimal(7)]


def test_duplicate_keys_are_reported_on_every_repeat(tmp_path):
    rows = [HEADERS, _good_row("9120000000001"), _good_row("9120000000002"),
            _good_row(9120000000001.0), [None] * len(HEADERS), _good_row(" 9120000000001")]
    sheet = read_sheet(_xlsx(tmp_path / "ganda.xlsx", rows), COLUMNS, key="nib")
    message = "Kunci ganda: NIB 9120000000001 sudah ada di baris 2."
    assert _errors(sheet) == {4: [("NIB", message)], 6: [("NIB", message)]}
    assert [r.row for r in sheet.rows] == [2, 3, 4, 6]       # the empty row 5 is skipped


def test_headers_match_case_space_and_aliases(tmp_path):
    path = _xlsx(tmp_path / "alias.xlsx", [["  nib ", "NAMA   perusahaan", "Tgl Terbit", "nik"],
                                           ["9120000000001", "PT A", "01/02/2023", "6108014508950001"]])
    sheet = read_sheet(path, COLUMNS)
    assert sheet.headers == ("  nib ", "NAMA   perusahaan", "Tgl Terbit", "nik")
    [row] = sheet.rows
    assert row.values["terbit"] == dt.date(2023, 2, 1) and row.values["nik"] == "6108014508950001"
    # Only the file's columns: an absent column is not "emptied" by an import.
    assert "modal" not in row.values and "keterangan" not in row.values
    assert sheet.keys == ("nib", "nama", "terbit", "nik")


def test_table_starting_lower_right_keeps_excel_row_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["C3"], ws["D3"] = "NIB", "Nama Perusahaan"
    ws["C4"], ws["D4"] = "9120000000001", "PT A"
    ws["C6"], ws["D6"] = "9120000000002", None
    ws["F6"] = "catatan di luar tabel"
    wb.save(tmp_path / "geser.xlsx")
    sheet = read_sheet(tmp_path / "geser.xlsx", COLUMNS[:2])
    assert [r.row for r in sheet.rows] == [4, 6]
    assert _errors(sheet) == {6: [
        ("Nama Perusahaan", "Wajib diisi."),
        ("", ("Ada isi di kolom F yang tidak berjudul: 'catatan di luar tabel'. "
              "Hapus isinya atau pindahkan ke kolom yang benar."))]}


def test_bool_and_time_cells_in_text_columns(tmp_path):
    path = _xlsx(tmp_path / "lain.xlsx", [["NIB", "Nama Perusahaan", "Keterangan"],
                                          ["9120000000001", True, dt.time(8, 30)]])
    [row] = read_sheet(path, COLUMNS).rows
    assert row.values["nama"] == "TRUE" and row.values["keterangan"] == "08:30"


# ---- writing ------------------------------------------------------------------------------------


def test_template_formats_text_columns_as_text_and_reads_back(tmp_path):
    path = tmp_path / "templat.xlsx"
    write_template(path, COLUMNS, example=_good_row(), title="Impor Perusahaan")
    with zipfile.ZipFile(path) as zf:
        sheet_xml = zf.read(SHEET).decode()
        styles = zf.read("xl/styles.xml").decode()
    # The NIB column (A) carries a style whose number format is 49 ("@", text).
    col_a = next(c for c in re.findall(r"<col [^>]*>", sheet_xml) if 'min="1"' in c)
    style = int(re.search(r'style="(\d+)"', col_a).group(1))
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles).group(1)
    assert 'numFmtId="49"' in re.findall(r"<xf [^>]*?/?>", xfs)[style]
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "Impor Perusahaan"
    assert [c.value for c in ws[1]] == HEADERS
    assert all(c.font.b for c in ws[1])
    assert ws["A2"].value == "9120000000001" and ws["A2"].number_format == "@"
    assert ws["C2"].number_format == "@" and ws["D2"].number_format == "dd/mm/yyyy"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 15
    # Filled in (staff add a row typed as text), it reads back clean.
    ws.append(["0012000000001", "PT Nol", "0061080145089500", "05/01/2021", "3", "1500000", None])
    wb.save(path)
    sheet = read_sheet(path, COLUMNS, key="nib")
    assert _errors(sheet) == {}
    assert [r.values["nib"] for r in sheet.rows] == ["9120000000001", "0012000000001"]


def test_template_without_example(tmp_path):
    out = io.BytesIO()
    write_template(out, COLUMNS)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert ws.max_row == 1 and ws.title == "Data"


def test_error_workbook_is_safe_and_reuploadable(tmp_path):
    rows = [HEADERS,
            _good_row("9120000000001", **{"Jumlah Karyawan": "tiga"}),
            _good_row("9120000000002"),
            _good_row("0012000000003", **{"Tanggal Terbit": "31/02/2020", "Keterangan": "@SUM(A1)"})]
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    formula_like = wb.active["B2"]
    formula_like.value = "=HYPERLINK(\"http://x\",\"klik\")"
    formula_like.data_type = "s"          # a text cell that looks like a formula
    wb.save(tmp_path / "masuk.xlsx")
    sheet = read_sheet(tmp_path / "masuk.xlsx", COLUMNS)
    failed = [(r.raw, r.errors) for r in sheet.rows if r.errors]
    assert len(failed) == 2
    out = tmp_path / "kesalahan.xlsx"
    write_error_workbook(out, sheet.headers, iter(failed))
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]] == HEADERS + [ERROR_HEADER]
    assert ws["B1"].font.b and ws.cell(1, len(HEADERS) + 1).font.b
    assert ws["B2"].value == "'=HYPERLINK(\"http://x\",\"klik\")" and ws["B2"].data_type == "s"
    assert ws["A2"].value == "9120000000001" and ws["A2"].number_format == "@"
    assert ws["D2"].value == dt.datetime(2024, 3, 5) and ws["D2"].number_format == "dd/mm/yyyy"
    assert ws["E2"].value == "tiga"
    assert ws.cell(2, len(HEADERS) + 1).value == "Jumlah Karyawan: Bukan bilangan bulat: 'tiga'."
    assert ws["A3"].value == "0012000000003"
    assert ws["G3"].value == "'@SUM(A1)"
    assert ws.cell(3, len(HEADERS) + 1).value == \
        "Tanggal Terbit: Bukan tanggal (gunakan dd/mm/yyyy): '31/02/2020'."
    assert ws.max_row == 3
    # Corrected in place and uploaded again: the "Kesalahan" column is ignored.
    ws["B2"], ws["E2"], ws["D3"] = "PT Benar", 3, "28/02/2020"
    ws.parent.save(out)
    again = read_sheet(out, COLUMNS)
    assert _errors(again) == {}
    assert [r.values["nib"] for r in again.rows] == ["9120000000001", "0012000000003"]


def test_error_workbook_whole_row_error_has_no_column_prefix(tmp_path):
    out = io.BytesIO()
    write_error_workbook(out, ["NIB"], [(("1",), (RowError(2, "", "Baris aneh."), RowError(2, "NIB", "Salah.")))])
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert ws["B2"].value == "Baris aneh.; NIB: Salah."


# ---- size ----------------------------------------------------------------------------------------


def test_100k_rows_read_in_reasonable_time(tmp_path):
    path = tmp_path / "besar.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(["NIB", "Nama Perusahaan", "NIK Pemohon", "Tanggal Terbit", "Jumlah Karyawan", "Modal",
               "Keterangan", "Alamat"])
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(1000)]
    for i in range(100_000):
        ws.append((f"{9120000000000 + i}", f"PT Maju Jaya {i}", f"{6108014508950000 + i}", days[i % 1000],
                   i % 97, i * 1000.5, "catatan" if i % 3 else None, f"Jl. Merdeka No. {i % 500}"))
    wb.save(path)
    columns = COLUMNS + [Column("alamat", "Alamat", max_length=200)]

    started = time.perf_counter()
    sheet = read_sheet(path, columns, key="nib")
    elapsed = time.perf_counter() - started

    assert len(sheet.rows) == 100_000
    assert _errors(sheet) == {}
    assert sheet.rows[-1].row == 100_001
    assert sheet.rows[-1].values["nib"] == "9120000099999"
    assert sheet.rows[-1].values["modal"] == Decimal("100048999.5")
    assert elapsed < 15, f"read_sheet took {elapsed:.1f} s for 100,000 rows"

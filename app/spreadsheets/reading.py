"""Reading an uploaded .xlsx for import: refuse what is not a plain workbook, then check each row.

Pure: no Flask, no database. Two steps:

check_container(path)
    Looks at the file as a zip before any spreadsheet code touches it, and refuses (with an
    Indonesian message for staff, SpreadsheetRefused) an empty file, a non-zip (CSV, old .xls),
    a password-protected workbook, a macro workbook, a zip bomb, XML entity/DTD tricks, and a
    first sheet that is too big. Every member is inflated once, as a stream, from its raw deflate
    data: the real uncompressed size and CRC are checked against the directory, whatever the
    directory claims, and nothing is kept in memory.

    The first sheet's cells are also scanned for their extent, because python-calamine builds a
    dense row x column grid in Rust from the farthest cell it finds: a 600-byte file with a
    value in A1 and another in XFD1048576 makes it allocate ~512 GB, and a failed allocation in
    Rust aborts the whole process (SIGABRT, not an exception). The <dimension> element only
    helps when honest (it is optional and can lie), so the scan reads every cell reference:
    a fast byte-level pass for the canonical form Excel, LibreOffice and openpyxl write
    (`<c r="B12" ...>`), falling back to an exact expat pass that mirrors calamine's position
    rules (implicit positions, prefixed elements, other encodings) when anything looks
    unusual. Cells outside max_rows+1 rows or max_columns columns are refused.

read_sheet(path, columns)
    Calls check_container, reads the first sheet with python-calamine, matches the header row to
    the column spec, converts each cell to its kind, and reports per-row errors (RowError).

Memory: calamine materialises the sheet grid in Rust (32 bytes a cell: 100,000 rows x 8
columns is ~26 MB); rows are converted to Python one at a time by iter_rows(). ParsedRow keeps
the typed values; its `raw` cells are kept only for rows that have errors (the error
workbook needs them), every other row gets an empty tuple.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET

from app.bulk import gc_paused

__all__ = [
    "Column",
    "ParsedRow",
    "ParsedSheet",
    "RowError",
    "SpreadsheetRefused",
    "check_container",
    "column_letter",
    "read_sheet",
]


class SpreadsheetRefused(ValueError):
    """The whole file is refused; str(exc) is an Indonesian message for staff. Nothing is imported."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str                  # attribute name, e.g. "nib"
    header: str               # Indonesian header as in the template, e.g. "NIB"
    kind: str = "text"        # "text" | "int" | "date" | "decimal"
    required: bool = False
    max_length: int | None = None
    # Normalises and validates a text value; raises ValueError(Indonesian message). E.g. NIK/NIB
    # checks. Its return value replaces the value. Called only for a non-empty value, after the
    # kind conversion and max_length (for a non-text column it gets the typed value).
    check: Callable[[str], Any] | None = None
    aliases: tuple[str, ...] = ()   # other accepted header spellings (case/space-insensitive match)

    def __post_init__(self) -> None:
        if self.kind not in _CONVERTERS:
            raise ValueError(f"Column {self.key!r}: kind must be one of {sorted(_CONVERTERS)}")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int            # Excel row number (header is row 1)
    column: str         # the column's header, or "" for a whole-row problem
    message: str        # Indonesian


# Not frozen: a 100,000-row import makes 100,000 of these, and a frozen dataclass's __init__
# costs five times as much. Nothing changes them after read_sheet.
@dataclass(slots=True)
class ParsedRow:
    row: int                       # Excel row number
    values: dict[str, Any]         # key -> typed value (None for an empty cell), for the file's columns only
    # The cells as read, in the file's column order, cut to the header's width, "" read as None.
    # Kept only for rows with errors (for the error workbook); () for a row without errors.
    raw: tuple[Any, ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class ParsedSheet:
    headers: tuple[str, ...]       # as in the file (trailing empty header cells dropped)
    keys: tuple[str, ...]          # the spec's columns the file has, in the file's order
    rows: list[ParsedRow]          # data rows (empty rows skipped)
    ignored: tuple[str, ...] = ()  # headers not in the spec, read past (extracts only)


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------

_RESAVE = ("Buka berkas di Excel, pilih Simpan Sebagai (Save As) > \"Excel Workbook (.xlsx)\", "
           "lalu unggah ulang.")
MSG_EMPTY_FILE = "Berkas kosong (0 byte). Pilih berkas Excel (.xlsx) yang benar lalu unggah ulang."
MSG_NOT_ZIP = ("Berkas ini bukan Excel Workbook (.xlsx); mungkin CSV, teks, atau berkas .xls lama "
               "yang namanya diganti. " + _RESAVE)
MSG_OLD_XLS = "Berkas ini berformat Excel lama (.xls). Simpan ulang sebagai Excel Workbook (.xlsx): " + _RESAVE
MSG_PASSWORD = ("Berkas ini dilindungi kata sandi (terenkripsi), sehingga isinya tidak dapat dibaca. "
                "Buka di Excel, hapus kata sandinya (File > Info > Proteksi Buku Kerja > Enkripsi "
                "dengan Kata Sandi, kosongkan), simpan sebagai Excel Workbook (.xlsx), lalu unggah ulang.")
MSG_MACRO = ("Berkas ini berisi makro (buku kerja .xlsm). Demi keamanan, berkas bermakro tidak "
             "diterima. Simpan ulang sebagai Excel Workbook (.xlsx) tanpa makro, lalu unggah ulang.")
MSG_XLSB = "Berkas ini berformat Excel Binary (.xlsb). Simpan ulang sebagai Excel Workbook (.xlsx): " + _RESAVE
MSG_ODS = ("Berkas ini berformat OpenDocument (.ods). Simpan ulang sebagai Excel Workbook (.xlsx): "
           "di LibreOffice pilih Simpan Sebagai > \"Excel 2007-365 (.xlsx)\", lalu unggah ulang.")
MSG_NOT_WORKBOOK = ("Berkas ini bukan buku kerja Excel (tidak ada bagian xl/workbook.xml); mungkin "
                    "dokumen lain yang namanya diganti. " + _RESAVE)
MSG_CORRUPT = "Berkas Excel rusak atau tidak wajar ({detail}). " + _RESAVE
MSG_TOO_MANY_MEMBERS = ("Berkas berisi terlalu banyak bagian ({count}; paling banyak {limit}). Ini bukan "
                        "buku kerja biasa. " + _RESAVE)
MSG_TOO_BIG = ("Isi berkas terlalu besar setelah dibuka ({size} MB; paling banyak {limit} MB). Bagi data "
               "menjadi beberapa berkas lalu unggah satu per satu.")
MSG_BOMB = ("Berkas ini tidak wajar: bagian {name} mengembang {ratio}x saat dibuka (pola \"zip bomb\"). "
            "Berkas ditolak. " + _RESAVE)
MSG_XML_DTD = ("Berkas ini berisi deklarasi DTD/entitas XML ({part}) yang tidak pernah dibuat oleh Excel "
               "(pola serangan \"XML bomb\"). Berkas ditolak. " + _RESAVE)
MSG_NO_SHEET = ("Buku kerja tidak berisi lembar kerja. Unduh templat, isi datanya di lembar pertama, "
                "lalu unggah ulang.")
MSG_NOT_WORKSHEET = ("Lembar pertama bukan lembar kerja biasa (mungkin lembar grafik). Pindahkan lembar "
                     "berisi data ke urutan pertama, simpan, lalu unggah ulang.")
MSG_DIMENSION = ("Lembar pertama tercatat memakai {rows} baris (rentang {ref}), melebihi batas {limit} "
                 "baris data. Jika datanya sebenarnya lebih sedikit, hapus baris kosong berformat di "
                 "bawah tabel lalu simpan ulang; jika memang lebih banyak, bagi menjadi beberapa berkas.")
MSG_EXTENT_ROWS = ("Lembar pertama berisi sel sampai baris {row} (sel {cell}), melebihi batas {limit} "
                   "baris data. Hapus isi di bawah tabel, atau bagi data menjadi beberapa berkas.")
MSG_EXTENT_COLUMNS = ("Lembar pertama berisi sel sampai kolom {letter} (sel {cell}), melebihi batas "
                      "{limit} kolom. Hapus isi sel di sebelah kanan tabel lalu simpan ulang.")
MSG_NO_HEADER = ("Lembar pertama kosong: tidak ada baris judul kolom. Gunakan templat: baris pertama "
                 "berisi judul kolom, data mulai baris kedua.")
MSG_MISSING_COLUMNS = "Kolom wajib tidak ada: {names}. Unduh templat untuk melihat kolom yang benar."
MSG_UNKNOWN_COLUMNS = ("Kolom tidak dikenal: {names}. Mungkin berkasnya salah; unduh templat untuk "
                       "melihat kolom yang benar.")
MSG_DUPLICATE_COLUMNS = ("Judul kolom ganda: {names}. Setiap kolom hanya boleh muncul sekali; unduh "
                         "templat untuk melihat kolom yang benar.")
MSG_TOO_MANY_ROWS = ("Berkas berisi lebih dari {limit} baris data. Bagi data menjadi beberapa berkas "
                     "lalu unggah satu per satu.")

MSG_REQUIRED = "Wajib diisi."
MSG_TOO_LONG = "Terlalu panjang (paling banyak {limit} huruf)."
MSG_NOT_INT = "Bukan bilangan bulat: '{value}'."
MSG_NOT_DATE = "Bukan tanggal (gunakan dd/mm/yyyy): '{value}'."
MSG_NOT_NUMBER = "Bukan angka: '{value}'."
MSG_AMBIGUOUS_NUMBER = ("Angka ambigu: '{value}' (titik/koma bisa berarti pemisah ribuan atau desimal). "
                        "Tulis tanpa pemisah ribuan, mis. 1500 atau 1,5.")
MSG_INVALID = "Tidak valid."
MSG_DUPLICATE_KEY = "Kunci ganda: {header} {value} sudah ada di baris {first}."
MSG_OUTSIDE_TABLE = ("Ada isi di kolom {letter} yang tidak berjudul: '{value}'. Hapus isinya atau "
                     "pindahkan ke kolom yang benar.")


def _id_number(n: int) -> str:
    """12345 -> "12.345" (Indonesian thousands separator)."""
    return f"{n:,}".replace(",", ".")


def _mb(n: int) -> str:
    return _id_number(math.ceil(n / 2**20))


def _shown(value: Any, limit: int = 60) -> str:
    """A cell value quoted in a message: short and on one line."""
    text = _text_of(value) if not isinstance(value, str) else value
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def column_letter(index: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    """"A" -> 1, "AA" -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


# --------------------------------------------------------------------------------------------
# check_container
# --------------------------------------------------------------------------------------------

_CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
_MAX_MEMBERS = 1000
_BOMB_RATIO = 100                # uncompressed : compressed, refused on a member above...
_BOMB_MIN_SIZE = 1 * 2**20       # ...this size (tiny parts legitimately compress very well)
_MAX_META_PART = 10 * 2**20      # [Content_Types].xml, workbook.xml, its rels: read whole
_HEAD_BYTES = 64 * 1024          # how much of the first sheet is read for <dimension>
_IN_CHUNK = 256 * 1024
_OUT_CHUNK = 1 * 2**20
_CARRY_LIMIT = 1 * 2**20         # bytes after a sheet's last "<" before the exact scan takes over

_SHEET_NS_ID = ("r:id", "relationships:id")   # the attribute names calamine looks up, literally


def check_container(path: Path, *, max_uncompressed_bytes: int = 200 * 2**20,
                    max_rows: int = 200_000, max_columns: int = 100) -> None:
    """Refuse (SpreadsheetRefused) anything but a plain, reasonably sized .xlsx workbook.

    max_rows counts data rows (the header is row 1); max_columns bounds the first sheet's
    farthest cell to the right. Nothing is returned: when this passes, read_sheet may open
    the file with python-calamine.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise SpreadsheetRefused(MSG_EMPTY_FILE)
    with path.open("rb") as fp:
        head = fp.read(8)
        if head == _CFB_SIGNATURE:
            raise SpreadsheetRefused(_compound_file_message(path))
        try:
            zf = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            if head.startswith(b"PK"):
                raise SpreadsheetRefused(MSG_CORRUPT.format(detail="arsip zip tidak utuh")) from exc
            raise SpreadsheetRefused(MSG_NOT_ZIP) from exc
        with zf:
            if not zf.infolist():
                raise SpreadsheetRefused(MSG_NOT_WORKBOOK)
            if not head.startswith(_ZIP_LOCAL):
                # Data in front of the zip: Python and calamine's zip reader could disagree on it.
                raise SpreadsheetRefused(MSG_CORRUPT.format(detail="ada data asing di awal berkas"))
            infos = _check_directory(zf, max_uncompressed_bytes)
            _check_workbook(fp, infos, max_uncompressed_bytes, max_rows, max_columns)


def _compound_file_message(path: Path) -> str:
    """A CFB (OLE) file: an encrypted .xlsx, or a genuine old .xls."""
    # Stream names in a CFB directory are UTF-16-LE.
    encrypted = "EncryptedPackage".encode("utf-16-le")
    old_xls = ("Workbook".encode("utf-16-le"), "Book\0".encode("utf-16-le"))
    with path.open("rb") as fp:
        carry = b""
        while chunk := fp.read(4 * 2**20):
            data = carry + chunk
            if encrypted in data:
                return MSG_PASSWORD
            if any(name in data for name in old_xls):
                return MSG_OLD_XLS
            carry = data[-40:]
    return MSG_PASSWORD


def _check_directory(zf: zipfile.ZipFile, max_uncompressed_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """Everything that can be judged from the zip directory alone, before inflating anything."""
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise SpreadsheetRefused(MSG_TOO_MANY_MEMBERS.format(
            count=_id_number(len(infos)), limit=_id_number(_MAX_MEMBERS)))
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in by_name:
            raise SpreadsheetRefused(MSG_CORRUPT.format(detail=f"bagian ganda {info.filename}"))
        by_name[info.filename] = info
    if any(info.flag_bits & 0x1 for info in infos):
        raise SpreadsheetRefused(MSG_PASSWORD)
    if any(name.casefold().endswith("vbaproject.bin") for name in by_name):
        raise SpreadsheetRefused(MSG_MACRO)
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SpreadsheetRefused(MSG_CORRUPT.format(
                detail=f"metode kompresi {info.compress_type} pada {info.filename}"))
        total += info.file_size
        if total > max_uncompressed_bytes:
            raise SpreadsheetRefused(MSG_TOO_BIG.format(
                size=_mb(sum(i.file_size for i in infos)), limit=_mb(max_uncompressed_bytes)))
        if info.file_size > _BOMB_MIN_SIZE and info.file_size > _BOMB_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise SpreadsheetRefused(MSG_BOMB.format(name=info.filename, ratio=_id_number(ratio)))
    if "xl/workbook.xml" not in by_name:
        if "xl/workbook.bin" in by_name:
            raise SpreadsheetRefused(MSG_XLSB)
        if "content.xml" in by_name and "mimetype" in by_name:
            raise SpreadsheetRefused(MSG_ODS)
        raise SpreadsheetRefused(MSG_NOT_WORKBOOK)
    if "[Content_Types].xml" not in by_name:
        raise SpreadsheetRefused(MSG_NOT_WORKBOOK)
    return by_name


class _Corrupt(Exception):
    """A member whose data does not match the zip directory."""


def _inflate(fp: Any, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's uncompressed bytes, in chunks, from its raw data.

    Reads at most compress_size bytes and refuses (_Corrupt) output longer than the declared
    file_size, a wrong CRC, or a short stream: whatever the directory claims, no more than
    file_size bytes ever come out, and a member that holds more than it declares is caught
    (another zip reader might inflate all of it).
    """
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) != 30 or local[:4] != _ZIP_LOCAL:
        raise _Corrupt(f"kepala bagian {info.filename}")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    fp.seek(info.header_offset + 30 + name_length + extra_length)
    left = info.compress_size
    produced = 0
    crc = 0
    if info.file_size == 0 and info.compress_size == 0:
        pass
    elif info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise _Corrupt(f"ukuran bagian {info.filename}")
        while left > 0:
            data = fp.read(min(_OUT_CHUNK, left))
            if not data:
                raise _Corrupt(f"bagian {info.filename} terpotong")
            left -= len(data)
            crc = zlib.crc32(data, crc)
            yield data
    else:
        inflater = zlib.decompressobj(-15)
        while not inflater.eof:
            data = inflater.unconsumed_tail
            if not data:
                if left <= 0:
                    raise _Corrupt(f"bagian {info.filename} terpotong")
                data = fp.read(min(_IN_CHUNK, left))
                if not data:
                    raise _Corrupt(f"bagian {info.filename} terpotong")
                left -= len(data)
            try:
                out = inflater.decompress(data, _OUT_CHUNK)
            except zlib.error as exc:
                raise _Corrupt(f"data bagian {info.filename}") from exc
            if out:
                produced += len(out)
                if produced > info.file_size:
                    raise _Corrupt(f"bagian {info.filename} lebih besar dari yang tercatat")
                crc = zlib.crc32(out, crc)
                yield out
        if produced != info.file_size:
            raise _Corrupt(f"ukuran bagian {info.filename}")
    if crc != info.CRC:
        raise _Corrupt(f"CRC bagian {info.filename}")


def _read_part(fp: Any, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_META_PART:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=f"bagian {info.filename} terlalu besar"))
    try:
        return b"".join(_inflate(fp, info))
    except _Corrupt as exc:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=str(exc))) from exc


def _defused_parse(data: bytes, part: str) -> Any:
    """Parse with defusedxml, DTDs forbidden: Excel never writes one."""
    try:
        return DefusedET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SpreadsheetRefused(MSG_XML_DTD.format(part=part)) from exc
    except (ParseError, ValueError) as exc:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=f"XML {part} tidak sah")) from exc


def _raw_elements(data: bytes, local_name: str) -> list[list[str]]:
    """Attributes (ordered name/value lists) of every element with this local name.

    Parsed without namespace processing so names stay as written ("r:id"): calamine matches
    attribute names literally and element names by the part after the first colon, and so
    must we to find the same first sheet. Called only after _defused_parse accepted the part.
    """
    found: list[list[str]] = []
    parser = expat.ParserCreate()
    parser.ordered_attributes = True

    def start(name: str, attrs: list[str]) -> None:
        if name.partition(":")[2 if ":" in name else 0] == local_name:
            found.append(attrs)

    parser.StartElementHandler = start
    parser.Parse(data, True)
    return found


def _last_attribute(attrs: list[str], names: Sequence[str]) -> str | None:
    value = None
    for i in range(0, len(attrs), 2):
        if attrs[i] in names:
            value = attrs[i + 1]
    return value


def _first_sheet_path(fp: Any, infos: dict[str, zipfile.ZipInfo]) -> str:
    """The zip member of the workbook's first sheet, resolved the way calamine resolves it."""
    workbook = _read_part(fp, infos["xl/workbook.xml"])
    _defused_parse(workbook, "xl/workbook.xml")
    rels_info = infos.get("xl/_rels/workbook.xml.rels")
    if rels_info is None:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail="tidak ada xl/_rels/workbook.xml.rels"))
    rels = _read_part(fp, rels_info)
    _defused_parse(rels, "xl/_rels/workbook.xml.rels")
    # calamine takes these attribute values raw (no entity decoding); expat decodes them. A
    # reference written with "&" could therefore point calamine elsewhere than us: refuse.
    if b"&" in rels or re.search(rb"""(?:^|[\s])(?:r|relationships):id\s*=\s*(?:"[^"]*&|'[^']*&)""", workbook):
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail="rujukan lembar tidak wajar"))
    sheets = _raw_elements(workbook, "sheet")
    if not sheets:
        raise SpreadsheetRefused(MSG_NO_SHEET)
    rel_id = _last_attribute(sheets[0], _SHEET_NS_ID)
    targets: dict[str, str] = {}
    for attrs in _raw_elements(rels, "Relationship"):
        rid, target = _last_attribute(attrs, ("Id",)), _last_attribute(attrs, ("Target",))
        if rid is not None:
            targets[rid] = target or ""
    if rel_id is None or rel_id not in targets:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail="lembar pertama tanpa rujukan"))
    target = targets[rel_id]
    if target.startswith("/xl/"):
        member = target[1:]
    elif target.startswith("xl/"):
        member = target
    else:
        member = "xl/" + target
    if not member.startswith("xl/worksheets/"):
        raise SpreadsheetRefused(MSG_NOT_WORKSHEET)
    if member not in infos:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=f"lembar pertama {member} tidak ada"))
    return member


def _check_content_types(fp: Any, infos: dict[str, zipfile.ZipInfo]) -> None:
    data = _read_part(fp, infos["[Content_Types].xml"])
    root = _defused_parse(data, "[Content_Types].xml")
    for element in root.iter():
        if "macroenabled" in element.get("ContentType", "").casefold():
            raise SpreadsheetRefused(MSG_MACRO)


_DIMENSION = re.compile(
    rb"""<(?:[^\s<>/:]+:)?dimension\s[^>]*?\bref\s*=\s*["']\s*([A-Za-z]{0,3})([0-9]*)"""
    rb"""(?::([A-Za-z]{0,3})([0-9]*))?\s*["']""")


def _check_dimension(fp: Any, info: zipfile.ZipInfo, max_rows: int) -> None:
    """Refuse a sheet whose <dimension> claims too many rows, from the first KB only."""
    head = b""
    stream = _inflate(fp, info)
    try:
        for chunk in stream:
            head += chunk
            if len(head) >= _HEAD_BYTES or b"<sheetData" in head:
                break
    except _Corrupt as exc:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=str(exc))) from exc
    finally:
        stream.close()
    head = head[:_HEAD_BYTES]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise SpreadsheetRefused(MSG_XML_DTD.format(part=info.filename))
    match = _DIMENSION.search(head)
    if match is None:
        return
    rows = [int(n) for n in (match.group(2), match.group(4)) if n]
    if rows and max(rows) > max_rows + 1:
        ref = match.group(0).split(b"=", 1)[1].strip(b"\"' ").decode("ascii", "replace")
        raise SpreadsheetRefused(MSG_DIMENSION.format(
            rows=_id_number(max(rows)), ref=ref, limit=_id_number(max_rows)))


def _check_workbook(fp: Any, infos: dict[str, zipfile.ZipInfo], max_uncompressed_bytes: int,
                    max_rows: int, max_columns: int) -> None:
    _check_content_types(fp, infos)
    sheet = _first_sheet_path(fp, infos)
    _check_dimension(fp, infos[sheet], max_rows)

    # One streaming pass over every member: real sizes and CRCs, DTD markers, and the first
    # sheet's cell extent.
    scan = _CellScan(max_rows + 1, max_columns)
    total = 0
    for name, info in infos.items():
        is_sheet = name == sheet
        is_xml = name.endswith((".xml", ".rels", ".vml"))
        carry = b""
        try:
            for chunk in _inflate(fp, info):
                total += len(chunk)
                if total > max_uncompressed_bytes:
                    raise SpreadsheetRefused(MSG_TOO_BIG.format(
                        size=_mb(total), limit=_mb(max_uncompressed_bytes)))
                if is_sheet:
                    scan.feed(chunk)
                elif is_xml:
                    window = carry + chunk
                    if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                        raise SpreadsheetRefused(MSG_XML_DTD.format(part=name))
                    carry = window[-16:]
        except _Corrupt as exc:
            raise SpreadsheetRefused(MSG_CORRUPT.format(detail=str(exc))) from exc
        if is_sheet:
            scan.finish()
            if scan.needs_exact:
                _exact_extent(fp, info, max_rows + 1, max_columns)
            elif scan.cells == 0:
                raise SpreadsheetRefused(MSG_NO_HEADER)


# ---- the first sheet's cell extent -----------------------------------------------------------


def _le_digits(limit: int) -> bytes:
    """A regex for decimal numbers 1..limit (no leading zeros)."""
    s = str(limit)
    alternatives = []
    if len(s) > 1:
        alternatives.append(b"[1-9][0-9]{0,%d}" % (len(s) - 2))
    for i, ch in enumerate(s):
        low, digit = (1 if i == 0 else 0), int(ch)
        if digit - 1 >= low:
            rest = len(s) - i - 1
            alternatives.append(s[:i].encode() + b"[%d-%d]" % (low, digit - 1)
                                + (b"[0-9]{%d}" % rest if rest else b""))
    alternatives.append(s.encode())
    return b"(?:" + b"|".join(alternatives) + b")"


def _le_letters(limit: int) -> bytes:
    """A regex for column letters A..column_letter(limit)."""
    s = column_letter(limit)
    alternatives = []
    if len(s) > 1:
        alternatives.append(b"[A-Z]{1,%d}" % (len(s) - 1))
    for i, ch in enumerate(s):
        if ch > "A":
            rest = len(s) - i - 1
            alternatives.append(s[:i].encode() + b"[A-" + chr(ord(ch) - 1).encode() + b"]"
                                + (b"[A-Z]{%d}" % rest if rest else b""))
    alternatives.append(s.encode())
    return b"(?:" + b"|".join(alternatives) + b")"


# "<c" followed by a name character: <col>, <cols>, <conditionalFormatting>, <cfRule>...
_OTHER_C = re.compile(rb"<c[^\s>/]")
# A canonical cell without a value (how Excel writes a formatted empty cell): calamine skips it.
_EMPTY_CELL = re.compile(rb'<c r="[A-Za-z]*[0-9]*"(?: [A-Za-z]+="[^"<>]*")*/>')
# A prefixed element named c (<x:c ...>), which calamine takes for a cell as well (it matches
# names by their local part). Deliberately loose: a false alarm only costs the exact scan.
_PREFIXED_C = re.compile(rb"<[^\s<>]*:c[\s>/]")
_XML_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


class _CellScan:
    """Fast check that every value cell of a sheet lies within the limits.

    Works on the canonical form: every element named c is written `<c r="REF"`. The stream is
    cut just before its last "<", so every "<c" and every `<c r="..."` falls whole into one
    window. Per window: the "<c" elements are counted and must all be `<c r="`, and a regex
    looks for a reference outside the limits (a formatted empty cell there is allowed, as
    calamine skips it). Anything else (a cell without a reference, a prefixed element
    "<x:c", another encoding, a very long tag) sets needs_exact and the exact scan decides.
    """

    def __init__(self, max_row: int, max_columns: int) -> None:
        good = _le_letters(max_columns) + _le_digits(max_row)
        self._outside = re.compile(rb'<c r="(?!' + good + rb'")')
        self._carry = b""
        self._first = True
        self.cells = 0
        self.needs_exact = False

    def feed(self, chunk: bytes) -> None:
        if self.needs_exact:
            return
        if self._first:
            self._first = False
            if not self._plain_utf8(chunk):
                self.needs_exact = True
                return
        window = self._carry + chunk if self._carry else chunk
        cut = window.rfind(b"<")
        if cut < 0:
            self._carry = b""
            return
        self._carry = window[cut:]
        if len(self._carry) > _CARRY_LIMIT:
            self.needs_exact = True
            return
        self._check(window[:cut])

    def finish(self) -> None:
        if not self.needs_exact:
            self._check(self._carry)
        self._carry = b""

    @staticmethod
    def _plain_utf8(head: bytes) -> bool:
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        head = head.lstrip()
        if not head.startswith(b"<") or b"\x00" in head[:4096]:
            return False
        if head.startswith(b"<?xml"):
            match = _XML_DECLARATION.match(head)
            if match is not None and match.group(1).lower().replace(b"-", b"") != b"utf8":
                return False
        return True

    def _check(self, text: bytes) -> None:
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            raise SpreadsheetRefused(MSG_XML_DTD.format(part="lembar pertama"))
        if b":c" in text and _PREFIXED_C.search(text) is not None:
            self.needs_exact = True          # a prefixed <x:c>: calamine reads those too
            return
        cells = text.count(b"<c")
        if cells:
            cells -= len(_OTHER_C.findall(text))
        if not cells:
            return
        if text.count(b'<c r="') != cells:
            self.needs_exact = True
            return
        pos = 0
        while (outside := self._outside.search(text, pos)) is not None:
            empty = _EMPTY_CELL.match(text, outside.start())
            if empty is None:
                self.needs_exact = True
                return
            pos = empty.end()
        self.cells += cells


class _Outside(Exception):
    def __init__(self, row: int, col: int) -> None:
        super().__init__(row, col)
        self.row, self.col = row, col


def _parse_reference(ref: str) -> tuple[int, int]:
    """"B12" -> (11, 1), 0-based like calamine."""
    match = re.fullmatch(r"([A-Za-z]{1,7})([0-9]{1,10})", ref.strip())
    if match is None:
        raise ValueError(ref)
    return int(match.group(2)) - 1, _column_index(match.group(1)) - 1


def _exact_extent(fp: Any, info: zipfile.ZipInfo, max_row: int, max_columns: int) -> None:
    """The sheet's cell positions exactly as calamine computes them, with expat.

    Mirrors calamine's XlsxCellReader: element names are matched by their local part, <row r>
    sets the row (0-based r-1), </row> moves to the next row and column 0, <c r> sets the
    position, a <c> without r takes the running position, and the column moves on by one
    after each cell; a cell with no child element has no value and is skipped.
    """
    parser = expat.ParserCreate()
    state = {"row": 0, "col": 0, "cells": 0}
    open_cells: list[list[Any]] = []     # [row, col, has_value] for each open <c>

    def local(name: str) -> str:
        return name.partition(":")[2] if ":" in name else name

    def forbid(*_args: Any) -> None:
        raise SpreadsheetRefused(MSG_XML_DTD.format(part=info.filename))

    def start(name: str, attrs: dict[str, str]) -> None:
        for cell in open_cells:
            cell[2] = True
        tag = local(name)
        if tag == "row":
            if "r" in attrs:
                state["row"] = int(attrs["r"]) - 1
        elif tag == "c":
            if "r" in attrs:
                row, col = _parse_reference(attrs["r"])
                state["col"] = col
            else:
                row, col = state["row"], state["col"]
            open_cells.append([row, col, False])

    def end(name: str) -> None:
        tag = local(name)
        if tag == "c" and open_cells:
            row, col, has_value = open_cells.pop()
            if has_value:
                if row + 1 > max_row or col + 1 > max_columns:
                    raise _Outside(row, col)
                state["cells"] += 1
            state["col"] = col + 1
        elif tag == "row":
            state["row"] += 1
            state["col"] = 0

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    stream = _inflate(fp, info)
    try:
        for chunk in stream:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Outside as out:
        cell = f"{column_letter(out.col + 1)}{out.row + 1}"
        if out.col + 1 > max_columns:
            raise SpreadsheetRefused(MSG_EXTENT_COLUMNS.format(
                letter=column_letter(out.col + 1), cell=cell, limit=_id_number(max_columns))) from None
        raise SpreadsheetRefused(MSG_EXTENT_ROWS.format(
            row=_id_number(out.row + 1), cell=cell, limit=_id_number(max_row - 1))) from None
    except (expat.ExpatError, ValueError, _Corrupt) as exc:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail=f"XML {info.filename} tidak sah")) from exc
    finally:
        stream.close()
    if state["cells"] == 0:
        raise SpreadsheetRefused(MSG_NO_HEADER)


# --------------------------------------------------------------------------------------------
# Cell conversion
# --------------------------------------------------------------------------------------------

class _CellError(Exception):
    """A cell that cannot be converted; args[0] is the Indonesian message."""


def _float_text(value: float) -> str:
    """How Excel shows a number: integral floats exactly ("9120000000001", not "9.12e+12"),
    others with at most 15 significant digits (0.1 + 0.2 -> "0.3")."""
    if value.is_integer():
        return str(int(value))
    return format(value, ".15g")


def _text_of(value: Any) -> str:
    """Any cell value as text, for text columns and messages."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is float:
        if not math.isfinite(value):
            return str(value)
        return _float_text(value)
    if cls is bool:
        return "TRUE" if value else "FALSE"
    if cls is int:
        return str(value)
    if cls is dt.datetime:
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if cls is dt.date:
        return value.strftime("%d/%m/%Y")
    if cls is dt.time:
        return value.strftime("%H:%M")
    return str(value)


def _to_text(value: Any) -> str | None:
    if value.__class__ is str:
        value = value.strip()
        return value or None
    if value is None:
        return None
    return _text_of(value).strip() or None


_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def _to_int(value: Any) -> int | None:
    cls = value.__class__
    if cls is float:
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise _CellError(MSG_NOT_INT.format(value=_shown(value)))
    if cls is str:
        text = value.strip()
        if not text:
            return None
        if _INT_TEXT.fullmatch(text):
            return int(text)
        raise _CellError(MSG_NOT_INT.format(value=_shown(text)))
    if cls is int:
        return value
    if value is None:
        return None
    raise _CellError(MSG_NOT_INT.format(value=_shown(value)))


_DATE_DMY = re.compile(r"([0-9]{1,2})[/\-.]([0-9]{1,2})[/\-.]([0-9]{4})")
_DATE_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def _to_date(value: Any) -> dt.date | None:
    cls = value.__class__
    if cls is dt.date:
        return value
    if cls is dt.datetime:
        return value.date()
    if cls is str:
        text = value.strip()
        if not text:
            return None
        match = _DATE_DMY.fullmatch(text)
        if match is not None:
            day, month, year = (int(g) for g in match.groups())
        else:
            match = _DATE_YMD.fullmatch(text)
            if match is None:
                raise _CellError(MSG_NOT_DATE.format(value=_shown(text)))
            year, month, day = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise _CellError(MSG_NOT_DATE.format(value=_shown(text))) from None
    if value is None:
        return None
    # A number (a date cell re-formatted as General shows its serial, e.g. 43831), a time...
    raise _CellError(MSG_NOT_DATE.format(value=_shown(value)))


_DEC_PLAIN = re.compile(r"[+-]?[0-9]+")
_DEC_ONE_SEPARATOR = re.compile(r"([+-]?[0-9]+)([.,])([0-9]+)")
_DEC_ID = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")     # 1.234.567,89
_DEC_EN = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")     # 1,234,567.89


def _to_decimal(value: Any) -> Decimal | None:
    cls = value.__class__
    if cls is float:
        if not math.isfinite(value):
            raise _CellError(MSG_NOT_NUMBER.format(value=_shown(value)))
        if value.is_integer():
            return Decimal(int(value))
        return Decimal(format(value, ".15g"))
    if cls is int:
        return Decimal(value)
    if cls is str:
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if not text:
            return None
        if _DEC_PLAIN.fullmatch(text):
            return Decimal(text)
        match = _DEC_ONE_SEPARATOR.fullmatch(text)
        if match is not None:
            whole, _sep, fraction = match.groups()
            if len(fraction) == 3:
                # "1.500" / "1,500": thousands or a decimal? Indonesian and English disagree.
                raise _CellError(MSG_AMBIGUOUS_NUMBER.format(value=_shown(value.strip())))
            return Decimal(f"{whole}.{fraction}")
        if _DEC_ID.fullmatch(text):
            return Decimal(text.replace(".", "").replace(",", "."))
        if _DEC_EN.fullmatch(text):
            return Decimal(text.replace(",", ""))
        raise _CellError(MSG_NOT_NUMBER.format(value=_shown(value.strip())))
    if value is None:
        return None
    raise _CellError(MSG_NOT_NUMBER.format(value=_shown(value)))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text,
    "int": _to_int,
    "date": _to_date,
    "decimal": _to_decimal,
}


# The last column of the error workbook (writing.ERROR_HEADER): ignored, so that workbook can
# be corrected and uploaded again as it is.
_ERROR_COLUMN = "kesalahan"


def _header_key(text: str) -> str:
    return " ".join(text.split()).casefold()


# --------------------------------------------------------------------------------------------
# read_sheet
# --------------------------------------------------------------------------------------------

def read_sheet(path: Path, columns: Sequence[Column], *, key: str | None = None,
               max_rows: int = 200_000, max_columns: int | None = None, extract: bool = False) -> ParsedSheet:
    """Check the file (check_container), read its first sheet and check every data row.

    The header row is the first non-empty row; it must hold every required column and no
    unknown one (SpreadsheetRefused otherwise). Each later non-empty row becomes a ParsedRow
    with typed values and its errors. `key` names a column whose values must be unique in the
    file: every repeat after the first gets an error. max_columns (default: the spec's
    columns + 20, or 100 for an extract) bounds how far right the sheet may hold anything.

    extract=True reads another system's export (SiCantik, OSS): the header is the first of
    its first 10 non-empty rows that holds every required column (such exports put a title
    above the table), and columns the spec does not know are read past, listed in `ignored`.
    """
    path = Path(path)
    if key is not None and key not in {c.key for c in columns}:
        raise ValueError(f"key {key!r} is not a column")
    if max_columns is None:
        max_columns = 100 if extract else len(columns) + 20
    check_container(path, max_rows=max_rows, max_columns=max_columns)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise SpreadsheetRefused(MSG_PASSWORD) from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise SpreadsheetRefused(MSG_CORRUPT.format(detail="tidak dapat dibuka")) from exc
    with workbook:
        try:
            sheet = workbook.get_sheet_by_index(0)
        except python_calamine.WorksheetNotFound as exc:
            raise SpreadsheetRefused(MSG_NO_SHEET) from exc
        except (python_calamine.CalamineError, ValueError) as exc:
            raise SpreadsheetRefused(MSG_CORRUPT.format(detail="lembar pertama tidak terbaca")) from exc
        if sheet.start is None:          # no cell with a value; iter_rows() would panic
            raise SpreadsheetRefused(MSG_NO_HEADER)
        first_column = sheet.start[1]    # rows come from row 1, columns from the first used one
        with gc_paused():
            return _parse_rows(iter(sheet.iter_rows()), columns, key, max_rows, first_column, extract=extract)


@dataclass(slots=True)
class _Plan:
    index: int
    column: Column
    convert: Callable[[Any], Any]


def _parse_header(header: list[Any], columns: Sequence[Column], first_column: int, *, extract: bool = False
                  ) -> tuple[tuple[str, ...], list[_Plan], list[int], list[str]]:
    """The header texts, the columns found (with their index), the untitled indexes and the
    unknown headers (refused unless reading an extract)."""
    texts = [_text_of(v) if _filled(v) else "" for v in header]
    while texts and not texts[-1]:
        texts.pop()
    wanted: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            wanted.setdefault(_header_key(name), column)
    found: dict[str, _Plan] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    untitled: list[int] = []
    for index, text in enumerate(texts):
        if not text:
            untitled.append(index)
            continue
        column = wanted.get(_header_key(text))
        if column is None:
            if _header_key(text) != _ERROR_COLUMN:   # the error workbook's column: ignored
                unknown.append(text)
        elif column.key in found:
            duplicates.append(f"{column.header} (kolom {column_letter(found[column.key].index + first_column + 1)}"
                              f" dan {column_letter(index + first_column + 1)})")
        else:
            found[column.key] = _Plan(index, column, _CONVERTERS[column.kind])
    missing = [c.header for c in columns if c.required and c.key not in found]
    if missing:
        raise SpreadsheetRefused(MSG_MISSING_COLUMNS.format(names=", ".join(missing)))
    if unknown and not extract:
        raise SpreadsheetRefused(MSG_UNKNOWN_COLUMNS.format(names=", ".join(_shown(u, 40) for u in unknown)))
    if duplicates:
        raise SpreadsheetRefused(MSG_DUPLICATE_COLUMNS.format(names="; ".join(duplicates)))
    return tuple(texts), list(found.values()), untitled, unknown


_EXTRACT_HEADER_ROWS = 10


def _find_header(rows: Iterator[list[Any]], columns: Sequence[Column], extract: bool) -> tuple[int, list[Any]]:
    """(Excel row, cells) of the header: the first non-empty row or, for an extract, the first of
    its first non-empty rows that holds every required column (else the first, whose missing
    columns are then reported)."""
    required = [{_header_key(n) for n in (c.header, *c.aliases)} for c in columns if c.required]
    excel_row = 0
    first: tuple[int, list[Any]] | None = None
    seen = 0
    for cells in rows:
        excel_row += 1
        if cells.count("") == len(cells) or not any(map(_filled, cells)):
            continue
        if not extract:
            return excel_row, cells
        first = first or (excel_row, cells)
        texts = {_header_key(_text_of(v)) for v in cells if _filled(v)}
        if all(names & texts for names in required):
            return excel_row, cells
        seen += 1
        if seen == _EXTRACT_HEADER_ROWS:
            break
    if first is None:
        raise SpreadsheetRefused(MSG_NO_HEADER)
    return first


def _parse_rows(rows: Iterator[list[Any]], columns: Sequence[Column], key: str | None,
                max_rows: int, first_column: int, *, extract: bool = False) -> ParsedSheet:
    excel_row, header = _find_header(rows, columns, extract)
    headers, plans, untitled, ignored = _parse_header(header, columns, first_column, extract=extract)
    width = len(headers)
    key_plan = next((p for p in plans if p.column.key == key), None)
    # The per-cell loop runs a million times on a large import: everything it needs, unpacked.
    steps = [(p.index, p.column.key, p.convert, p.convert is _to_text, p.column.required,
              p.column.max_length, p.column.check, p.column.header) for p in plans]
    seen_keys: dict[Any, int] = {}
    parsed: list[ParsedRow] = []
    no_errors: tuple[RowError, ...] = ()
    count = 0

    for cells in rows:
        excel_row += 1
        if cells.count("") == len(cells):
            continue
        values: dict[str, Any] = {}
        errors: list[RowError] | None = None
        filled = False
        for index, name, convert, is_text, required, max_length, check, header_text in steps:
            value = cells[index]
            try:
                if is_text and value.__class__ is str:
                    value = value.strip() or None
                else:
                    value = convert(value)
                if value is None:
                    if required:
                        raise _CellError(MSG_REQUIRED)
                else:
                    filled = True
                    if max_length is not None and value.__class__ is str and len(value) > max_length:
                        raise _CellError(MSG_TOO_LONG.format(limit=_id_number(max_length)))
                    if check is not None:
                        try:
                            value = check(value)
                        except ValueError as exc:
                            raise _CellError(str(exc) or MSG_INVALID) from None
            except _CellError as exc:
                if errors is None:
                    errors = []
                errors.append(RowError(excel_row, header_text, exc.args[0]))
                value = None
            values[name] = value
        if not filled and not any(map(_filled, cells)):
            continue                     # only spaces: an empty row
        count += 1
        if count > max_rows:
            raise SpreadsheetRefused(MSG_TOO_MANY_ROWS.format(limit=_id_number(max_rows)))
        for index in untitled:
            if _filled(cells[index]):
                errors = errors or []
                errors.append(_outside_error(excel_row, cells[index], index + first_column))
        if len(cells) > width:
            for index in range(width, len(cells)):
                if _filled(cells[index]):
                    errors = errors or []
                    errors.append(_outside_error(excel_row, cells[index], index + first_column))
                    break
        if key_plan is not None:
            key_value = values[key_plan.column.key]
            if key_value is not None:
                first = seen_keys.setdefault(key_value, excel_row)
                if first != excel_row:
                    errors = errors or []
                    errors.append(RowError(excel_row, key_plan.column.header, MSG_DUPLICATE_KEY.format(
                        header=key_plan.column.header, value=_shown(key_value), first=first)))
        if errors:
            raw = tuple(None if c == "" else c for c in cells[:width])
            parsed.append(ParsedRow(excel_row, values, raw, tuple(errors)))
        else:
            parsed.append(ParsedRow(excel_row, values, (), no_errors))
    keys = tuple(p.column.key for p in plans)   # plans come in the file's column order
    return ParsedSheet(headers=headers, keys=keys, rows=parsed, ignored=tuple(ignored))


def _filled(value: Any) -> bool:
    """A cell with something in it (not "", not only spaces)."""
    return not (value.__class__ is str and (not value or value.isspace()))


def _outside_error(row: int, value: Any, index: int) -> RowError:
    return RowError(row, "", MSG_OUTSIDE_TABLE.format(letter=column_letter(index + 1), value=_shown(value)))

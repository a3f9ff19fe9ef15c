"""An SOP kept as the office's own SOP sheet (Excel), read into Loket and written back. No Flask.

`read_sop_sheet` turns a workbook laid out like the office's SOP document (SOP 76) into a
`SopDefinition`, checked by the very constructor the YAML files go through
(`app.sop.schema.build_sop`); `app.sop.loader.load_sops` then creates or updates the permit type.
`write_sop_sheet` writes a permit type from the database in the same layout, so export -> edit ->
import round-trips everything Loket keeps.

Workbook format
===============

Sheet "SOP" (when no sheet has that name: the first sheet)
----------------------------------------------------------
1. Header block: one label per row above the steps table, the label in the first column and its
   value in the next filled cell to its right (a lone ":" cell is skipped; "Label : value" in one
   cell works too). Labels, case-insensitive:

   ========================== =====================================================================
   Nomor SOP                  sop_number (also "Nomor Standar Operasional Prosedur")
   Nama SOP                   name
   Kode                       Loket's code. Blank: from Nama SOP, upper-cased, other characters
                              to "_" (Izin Pool Kendaraan -> IZIN_POOL_KENDARAAN)
   Prefiks Nomor Pendaftaran  receipt prefix. Blank: initials of Nama SOP (-> IPK)
   Dasar Hukum                list
   Klasifikasi Pelaksana      list
   Keterkaitan                list (related SOPs)
   Peralatan/Perlengkapan     list
   Pencatatan dan Pendataan   list (the office's spelling "Pecantatan" is accepted)
   Waktu                      service days: "5 hari", "5 hari kerja" or 5
   Biaya                      "Tanpa Biaya" (or "Gratis") = 0, else a number ("150000", "Rp 150.000")
   Output                     output document
   Masa Berlaku (bulan)       months; blank or "-" = no validity period
   Format Nomor Izin          e.g. 503/{seq:04d}/IPK/DPMPTSPTK/{year}; blank = Loket's default
   Penerima Berkas Kembali    the Loket role that takes a dossier returned to the applicant back
                              (Lanjutkan Kembali), at every step that does not name its own.
                              Blank: the role of the first step (the counter that received it)
   ========================== =====================================================================

   A list has one item per row: the rows under its label whose label cell is empty continue it,
   up to a blank row or the next label. A cell may also hold several items on separate lines or
   numbered inline ("1. Server 2. Komputer"); a leading "1." / "1)" is dropped. Tanggal
   Pembuatan / Revisi / Efektif and Disahkan Oleh are accepted and ignored, as is any row holding
   a single cell of other text (titles); another unknown label with a value is an error.

2. Steps table, found by its header row holding "No" and "Kegiatan". The office's header:

       No | Kegiatan | Permohonan | Front Office | Back Office | Tim Teknis | Kasi Perizinan |
       Kabid Perizinan | Kepala Dinas | Kelengkapan | Waktu | Output | Ket

   then Loket's columns, which an office's own sheet may lack:

       Nama Tahap | Kode Tahap | Pelaksana Menurut SOP | Isian Wajib | Terbitkan Nomor Izin |
       Undang Survei SKM | Peristiwa Daring Pemohon | Lanjutan Kantor | Dapat Ditolak Oleh |
       Penerima Berkas Kembali

   The header may take two rows, as in the office's document (PELAKSANA / MUTU BAKU over the
   column names, No / Kegiatan / Ket merged down): when the row under the header row has an empty
   No cell, a column's name is taken from it where filled, else from the row above.
   Every other named column is an executor column, named by its Loket role (Arsiparis,
   Supervisor ... are accepted as well). Each following row with a number in No is a step; blank
   rows are skipped, and a filled row without a number is an error.

   Per step:
   * Pelaksana Menurut SOP (actor): that column if filled; else "Pemohon" when Kegiatan starts
     with the word "Pemohon"; else the marked role.
   * Applicant step: exactly when the actor is Pemohon. (In the office's sheet the applicant's
     own lane is the Permohonan column, which holds the step's short name, not a mark.)
   * Role: the executor column with a mark (any non-empty cell: X, ✓, √, v, ●, 1, ya ...).
     Exactly one mark, else an error naming the step; an applicant step without a mark is
     received at the Front Office counter (role Front Office), as in the seeded SOP 76.
   * Kode Tahap if filled, else from Permohonan: upper-case, other characters to "_"
     (TANDA TERIMA BERKAS -> TANDA_TERIMA_BERKAS).
   * Nama Tahap if filled, else Permohonan with each word capitalised (-> Tanda Terima Berkas).
   * Kegiatan = activity, Kelengkapan = inputs, Output = output, Waktu = time standard
     (app.sop.schema.parse_time: "10 Menit", "1 jam", "2 hari" and "1 Hari Kerja" -- "hari" is
     a working day, as in the YAML). Ket is for notes and is not stored.
   * Isian Wajib: required dossier fields, separated by commas (app.sop.fields).
   * Terbitkan Nomor Izin / Lanjutan Kantor: "Ya" (or x, ✓, 1 ...) or blank/"Tidak". Office
     continuation steps come after all of the SOP document's steps.
   * Undang Survei SKM: "Ya" on the step whose end invites the applicant to the public
     satisfaction survey (the handover; YAML invites_survey, app.survey); blank/"Tidak" elsewhere.
   * Peristiwa Daring Pemohon: on a step the applicant's own event does for a dossier applied for
     online (YAML online_event): account_verified, signed_in or data_filled; blank elsewhere.
   * Dapat Ditolak Oleh: the Loket role that may reject (Tolak) a dossier at this step; blank =
     nobody may reject here. Only before the Terbitkan Nomor Izin step: a numbered permit is
     revoked, not rejected.
   * Penerima Berkas Kembali: the Loket role that takes a dossier returned at this step back;
     blank = the header's Penerima Berkas Kembali.
   Role names in these two columns and in the header are matched case-insensitively and written
   back in Loket's spelling. The writer fills the header with the stages' most common one and a
   step's cell only where the step differs from it.

Sheet "Persyaratan" (required)
------------------------------
Header row: No | Kode | Persyaratan | Wajib | Diperiksa Sampai Tahap. Kode blank: from the
name, like stage codes. Wajib: Ya (or blank) / Tidak. Diperiksa Sampai Tahap: a stage code, or a
stage's Nama Tahap / Permohonan text. No is not read: requirements keep the rows' order.

Checks and errors
-----------------
Everything the YAML schema checks applies (unknown role, duplicate codes, step numbers 1, 2, 3 ...
in order, time text, unknown Isian Wajib, a due stage not in the SOP, more than one Terbitkan
Nomor Izin step, a bad Format Nomor Izin, an unknown role under Dapat Ditolak Oleh or Penerima
Berkas Kembali, a Dapat Ditolak Oleh at or after the Terbitkan Nomor Izin step); errors are
`SopFileError`s naming the file and the row, e.g. "baris 27 (langkah 4): tidak ada pelaksana
yang ditandai" or "baris 30 (langkah 10): kolom 'Dapat Ditolak Oleh': peran 'Satpam' tidak
dikenal". content_hash is the hash of the file's bytes and the working day, as for YAML files:
loading the same sheet twice is a no-op.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineError, CalamineWorkbook

from app.security.roles import ALL_ROLES, FRONT_OFFICE
from app.sop.schema import (
    ONLINE_EVENTS,
    SopDefinition,
    SopFileError,
    SopPlaces,
    build_sop,
    content_hash,
)

if TYPE_CHECKING:
    from app.models import PermitType

SOP_SHEET = "SOP"
REQUIREMENT_SHEET = "Persyaratan"
APPLICANT = "Pemohon"
# Where the applicant's own steps are received when the sheet marks no executor for them.
APPLICANT_DESK = FRONT_OFFICE
# The executor columns of the office's SOP document, always written, in this order.
OFFICE_EXECUTORS = ("Front Office", "Back Office", "Tim Teknis", "Kasi Perizinan", "Kabid Perizinan", "Kepala Dinas")
MARK = "✓"
NO_FEE = "Tanpa Biaya"
DEFAULT_OFFICE_LINES = (
    "PEMERINTAH KABUPATEN LANDAK",
    "DINAS PENANAMAN MODAL PELAYANAN TERPADU SATU PINTU DAN TENAGA KERJA",
)

# Header block: label -> SopDefinition key. The first label of each key is the one written.
_HEADER_LABELS: tuple[tuple[str, str], ...] = (
    ("sop_number", "Nomor SOP"),
    ("name", "Nama SOP"),
    ("code", "Kode"),
    ("receipt_prefix", "Prefiks Nomor Pendaftaran"),
    ("legal_bases", "Dasar Hukum"),
    ("executor_qualifications", "Klasifikasi Pelaksana"),
    ("related_sops", "Keterkaitan"),
    ("equipment", "Peralatan/Perlengkapan"),
    ("recording", "Pencatatan dan Pendataan"),
    ("service_days", "Waktu"),
    ("fee", "Biaya"),
    ("output_document", "Output"),
    ("validity_months", "Masa Berlaku (bulan)"),
    ("permit_number_format", "Format Nomor Izin"),
    ("resume_role", "Penerima Berkas Kembali"),
)
_HEADER_ALIASES = {
    "nomor standar operasional prosedur": "sop_number",
    "no sop": "sop_number",
    "no. sop": "sop_number",
    "kode izin": "code",
    "prefiks": "receipt_prefix",
    "kualifikasi pelaksana": "executor_qualifications",
    "peralatan": "equipment",
    "pecantatan dan pendataan": "recording",
    "pencatatan": "recording",
    "masa berlaku": "validity_months",
}
_HEADER_IGNORED = {"tanggal pembuatan", "tanggal revisi", "tanggal efektif", "disahkan oleh"}
_LIST_KEYS = {"legal_bases", "executor_qualifications", "related_sops", "equipment", "recording"}
_TOP_LABELS = dict(_HEADER_LABELS) | {"steps": "langkah", "requirements": "Persyaratan"}

# Steps table columns other than the executors: column key -> header text written.
_STEP_COLUMNS_HEAD = (("no", "No"), ("activity", "Kegiatan"), ("lane", "Permohonan"))
_STEP_COLUMNS_QUALITY = (("inputs", "Kelengkapan"), ("time", "Waktu"), ("output", "Output"), ("note", "Ket"))
_STEP_COLUMNS_LOKET = (
    ("name", "Nama Tahap"),
    ("code", "Kode Tahap"),
    ("actor", "Pelaksana Menurut SOP"),
    ("required_fields", "Isian Wajib"),
    ("issues_permit", "Terbitkan Nomor Izin"),
    ("invites_survey", "Undang Survei SKM"),
    ("online_event", "Peristiwa Daring Pemohon"),
    ("office_continuation", "Lanjutan Kantor"),
    ("reject_role", "Dapat Ditolak Oleh"),
    ("resume_role", "Penerima Berkas Kembali"),
)
_STEP_HEADERS = {
    header.casefold(): key for key, header in _STEP_COLUMNS_HEAD + _STEP_COLUMNS_QUALITY + _STEP_COLUMNS_LOKET
} | {"keterangan": "note", "no.": "no", "nomor": "no"}
_STEP_LABELS = {
    "step": "No", "code": "Kode Tahap", "name": "Nama Tahap", "activity": "Kegiatan",
    "actor": "Pelaksana Menurut SOP", "role": "pelaksana", "time": "Waktu", "inputs": "Kelengkapan",
    "output": "Output", "required_fields": "Isian Wajib", "issues_permit": "Terbitkan Nomor Izin",
    "invites_survey": "Undang Survei SKM", "online_event": "Peristiwa Daring Pemohon",
    "reject_role": "Dapat Ditolak Oleh", "resume_role": "Penerima Berkas Kembali",
}

_REQUIREMENT_COLUMNS = (
    ("no", "No"), ("code", "Kode"), ("name", "Persyaratan"), ("mandatory", "Wajib"),
    ("due_stage", "Diperiksa Sampai Tahap"),
)
_REQUIREMENT_HEADERS = {header.casefold(): key for key, header in _REQUIREMENT_COLUMNS} | {
    "nama persyaratan": "name", "wajib (ya/tidak)": "mandatory", "tahap": "due_stage", "no.": "no",
}
_REQUIREMENT_LABELS = {
    "code": "Kode", "name": "Persyaratan", "mandatory": "Wajib", "due_stage": "Diperiksa Sampai Tahap",
}

_YES = {"ya", "y", "yes", "x", "v", "✓", "✔", "√", "●", "1", "true", "wajib"}
_NO = {"", "tidak", "t", "no", "n", "-", "0", "false", "tidak wajib", "opsional"}
_NUMBERING = re.compile(r"^\s*\d{1,3}\s*[.)](?!\d)\s*")
_STEP_NO = re.compile(r"^(\d+)\.?$")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_sop_sheet(path: Path, roles: frozenset[str], working_day_minutes: int) -> SopDefinition:
    """Reads and checks an SOP sheet; raises SopFileError naming the row of the first problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SopFileError(path, f"berkas tidak dapat dibaca ({exc.strerror})") from exc
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except (CalamineError, ValueError, OSError) as exc:
        raise SopFileError(path, f"bukan lembar kerja Excel yang dapat dibaca ({exc})") from exc
    names = workbook.sheet_names
    if not names:
        raise SopFileError(path, "lembar kerja kosong")
    sop_name = _find_sheet(names, SOP_SHEET) or names[0]
    req_name = _find_sheet(names, REQUIREMENT_SHEET)
    if req_name is None:
        raise SopFileError(path, f"lembar '{REQUIREMENT_SHEET}' tidak ada")
    sop_rows = _grid(workbook, sop_name)
    req_rows = _grid(workbook, req_name)

    reader = _SheetReader(path, roles)
    data, step_places = reader.sop_sheet(sop_rows)
    data["requirements"], req_places = reader.requirement_sheet(req_rows, data)
    places = SopPlaces(
        top=f"lembar {sop_name}",
        steps=step_places,
        requirements=req_places,
        top_labels=_TOP_LABELS,
        step_labels=_STEP_LABELS,
        requirement_labels=_REQUIREMENT_LABELS,
    )
    return build_sop(
        path, data, roles, working_day_minutes,
        content_hash=content_hash(raw, working_day_minutes), places=places,
    )


def derive_code(text: str, limit: int = 40) -> str:
    """'Tanda Terima Berkas' -> 'TANDA_TERIMA_BERKAS': upper-case, other characters to '_'."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")[:limit].rstrip("_")


def _initials(name: str) -> str:
    return "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()[:6]


def _capitalise(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())


def _norm(text: str) -> str:
    text = " ".join(text.split()).casefold().rstrip(":").strip()
    return re.sub(r"\s*/\s*", "/", text)


def _find_sheet(names: Sequence[str], wanted: str) -> str | None:
    return next((n for n in names if n.strip().casefold() == wanted.casefold()), None)


def _grid(workbook: CalamineWorkbook, name: str) -> list[list[str]]:
    """The sheet as text cells, rows and columns from A1 (so indexes are Excel's, minus one)."""
    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return [[_cell_text(v) for v in row] for row in rows]


def _cell_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "Ya"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _cell(row: Sequence[str], col: int | None) -> str:
    return row[col] if col is not None and col < len(row) else ""


def _split_items(text: str) -> list[str]:
    """A cell's list items: one per line, or numbered inline ('1. a 2. b'); numbering dropped."""
    items: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        parts = [line]
        if re.match(r"^1\s*[.)]\s", line):
            parts, rest, n = [], line, 2
            while match := re.search(rf"\s{n}\s*[.)]\s", rest):
                parts.append(rest[: match.start()])
                rest, n = rest[match.start():], n + 1
            parts.append(rest)
        items += [p for p in (_NUMBERING.sub("", part, count=1).strip() for part in parts) if p]
    return items


class _SheetReader:
    def __init__(self, path: Path, roles: frozenset[str]) -> None:
        self.path = path
        self.roles = {r.casefold(): r for r in roles}

    def fail(self, place: str, problem: str) -> SopFileError:
        return SopFileError(self.path, f"{place}: {problem}")

    def role(self, text: str) -> str | None:
        """A role cell in its canonical spelling; an unknown name is kept for build_sop to name."""
        text = " ".join(text.split())
        return self.roles.get(text.casefold(), text) if text else None

    # ---- sheet "SOP"

    def sop_sheet(self, rows: list[list[str]]) -> tuple[dict[str, Any], list[str]]:
        table = next(
            (i for i, row in enumerate(rows) if {"no", "kegiatan"} <= {_norm(c) for c in row}), None
        )
        if table is None:
            raise SopFileError(self.path, "tabel langkah tidak ditemukan (baris judul dengan kolom 'No' dan 'Kegiatan')")
        data = self.header_block(rows[:table])
        steps, places = self.steps_table(rows, table)
        data["steps"] = [s for s in steps if not s["_continuation"]]
        data["office_continuation"] = [s for s in steps if s["_continuation"]]
        for step in steps:
            del step["_continuation"]
        return data, places

    def header_block(self, rows: list[list[str]]) -> dict[str, Any]:
        labels = {_norm(label): key for key, label in _HEADER_LABELS} | _HEADER_ALIASES
        values: dict[str, list[str]] = {}
        where: dict[str, str] = {}
        label_col: int | None = None
        open_list: str | None = None
        for index, row in enumerate(rows):
            place = f"baris {index + 1}"
            filled = [(c, v) for c, v in enumerate(row) if v and v != ":"]
            if not filled:
                open_list = None
                continue
            first_col, first = filled[0]
            rest = [v for _, v in filled[1:]]
            key = labels.get(_norm(first))
            if key is None and not rest and ":" in first:
                head, _, tail = first.partition(":")
                if _norm(head) in labels or _norm(head) in _HEADER_IGNORED:
                    first, rest = head, [tail.strip()] if tail.strip() else []
                    key = labels.get(_norm(head))
            if key is not None:
                if key in values:
                    raise self.fail(place, f"judul '{first.strip().rstrip(':').strip()}' ganda ({where[key]})")
                label_col = first_col if label_col is None else label_col
                where[key] = place
                if key in _LIST_KEYS:
                    values[key] = [item for v in rest for item in _split_items(v)]
                    open_list = key
                else:
                    if len(rest) > 1:
                        raise self.fail(place, f"'{first.strip()}' berisi lebih dari satu nilai")
                    values[key] = rest
                    open_list = None
                continue
            if _norm(first) in _HEADER_IGNORED:
                label_col = first_col if label_col is None else label_col
                open_list = None
                continue
            if label_col is not None and first_col > label_col and open_list is not None:
                values[open_list] += [item for _, v in filled for item in _split_items(v)]
                continue
            if not rest:
                open_list = None  # a title line
                continue
            known = ", ".join(label for _, label in _HEADER_LABELS)
            raise self.fail(place, f"judul '{first}' tidak dikenal (yang dikenal: {known})")

        def one(key: str) -> str | None:
            return values[key][0] if values.get(key) else None

        data: dict[str, Any] = {}
        name = one("name")
        data["name"] = name
        data["sop_number"] = one("sop_number")
        data["code"] = one("code") or (derive_code(name) if name else None)
        data["receipt_prefix"] = one("receipt_prefix") or (_initials(name) if name else None)
        for key in _LIST_KEYS:
            data[key] = values.get(key) or None
        data["output_document"] = one("output_document")
        data["permit_number_format"] = one("permit_number_format")
        data["resume_role"] = self.role(one("resume_role") or "")
        if (text := one("service_days")) is not None:
            match = re.fullmatch(r"(\d+)(\s*hari(\s+kerja)?)?", text, re.IGNORECASE)
            if not match:
                raise self.fail(where["service_days"], f"waktu layanan '{text}' tidak dipahami (contoh: '5 hari')")
            data["service_days"] = int(match.group(1))
        if (text := one("fee")) is not None:
            data["fee"] = self.fee(where["fee"], text)
        if (text := one("validity_months")) is not None and _norm(text) not in {"-", "tidak ada"}:
            match = re.fullmatch(r"(\d+)(\s*bulan)?", text, re.IGNORECASE)
            if not match:
                raise self.fail(where["validity_months"], f"masa berlaku '{text}' harus berupa jumlah bulan (contoh: 12)")
            data["validity_months"] = int(match.group(1))
        return data

    def fee(self, place: str, text: str) -> str:
        if _norm(text) in {"tanpa biaya", "gratis", "tidak dipungut biaya", "0", "-"}:
            return "0"
        amount = re.sub(r"^rp\.?\s*", "", text.strip(), flags=re.IGNORECASE).replace(" ", "")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", amount):  # Indonesian: 150.000,00
            amount = amount.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"\d+(,\d+)?", amount):
            amount = amount.replace(",", ".")
        try:
            return str(Decimal(amount))
        except InvalidOperation:
            raise self.fail(place, f"biaya '{text}' tidak dipahami (contoh: 'Tanpa Biaya', '150000')") from None

    def steps_table(self, rows: list[list[str]], header: int) -> tuple[list[dict[str, Any]], list[str]]:
        names = list(rows[header])
        body = header + 1
        no_col = next(c for c, v in enumerate(names) if _norm(v) in {"no", "no.", "nomor"})
        if body < len(rows) and not _cell(rows[body], no_col) and any(rows[body]):
            below = rows[body]
            names = [_cell(below, c) or v for c, v in enumerate(names)]
            names += below[len(names):]
            body += 1
        columns: dict[str, int] = {}
        executors: list[tuple[int, str]] = []
        for col, text in enumerate(names):
            if not text:
                continue
            key = _STEP_HEADERS.get(_norm(text))
            if key is None:
                executors.append((col, " ".join(text.split())))
            elif key in columns:
                raise self.fail(f"baris {header + 1}", f"kolom '{text}' ganda")
            else:
                columns[key] = col
        for key, title in (("time", "Waktu"),):
            if key not in columns:
                raise self.fail(f"baris {header + 1}", f"kolom '{title}' tidak ada di tabel langkah")
        if "lane" not in columns and "code" not in columns:
            raise self.fail(f"baris {header + 1}", "kolom 'Permohonan' tidak ada di tabel langkah")

        steps: list[dict[str, Any]] = []
        places: list[str] = []
        continuation_seen: str | None = None
        for index in range(body, len(rows)):
            row = rows[index]
            if not any(v for c, v in enumerate(row) if c != no_col):
                continue  # blank, or numbered but not filled in
            no_text = _cell(row, no_col)
            match = _STEP_NO.match(no_text)
            if not match:
                problem = "nomor langkah kosong" if not no_text else f"nomor langkah '{no_text}' bukan angka"
                raise self.fail(f"baris {index + 1}", problem)
            no = int(match.group(1))
            place = f"baris {index + 1} (langkah {no})"
            steps.append(self.step(row, place, no, columns, executors))
            places.append(place)
            if steps[-1]["_continuation"]:
                continuation_seen = continuation_seen or place
            elif continuation_seen:
                raise self.fail(place, f"langkah SOP tidak boleh sesudah langkah 'Lanjutan Kantor' ({continuation_seen})")
        if not steps:
            raise self.fail(f"baris {header + 1}", "tabel langkah tidak berisi langkah")
        return steps, places

    def step(
        self, row: list[str], place: str, no: int, columns: dict[str, int], executors: list[tuple[int, str]]
    ) -> dict[str, Any]:
        def text(key: str) -> str:
            return _cell(row, columns.get(key))

        activity = text("activity")
        marked = [name for col, name in executors if _cell(row, col)]
        actor = text("actor")
        if not actor and activity.split()[:1] and activity.split()[0].casefold() == APPLICANT.casefold():
            actor = APPLICANT
        applicant = actor.casefold() == APPLICANT.casefold()
        if len(marked) > 1:
            raise self.fail(place, f"ditandai pada lebih dari satu pelaksana ({', '.join(marked)}); tandai tepat satu")
        if marked:
            role = self.roles.get(marked[0].casefold(), marked[0])
        elif applicant:
            role = APPLICANT_DESK
        else:
            raise self.fail(place, "tidak ada pelaksana yang ditandai")
        lane = text("lane")
        code = text("code") or derive_code(lane)
        name = text("name") or _capitalise(lane)
        if not code or not name:
            raise self.fail(place, "kolom 'Permohonan' kosong (nama tahap tidak diketahui)")
        return {
            "step": no,
            "code": code,
            "name": name,
            "activity": activity,
            "actor": actor or role,
            "role": role,
            "applicant_step": applicant,
            "inputs": text("inputs"),
            "time": text("time"),
            "output": text("output"),
            "required_fields": [f.strip() for f in re.split(r"[,;\n]", text("required_fields")) if f.strip()],
            "issues_permit": self.flag(place, "Terbitkan Nomor Izin", text("issues_permit"), default=False),
            "invites_survey": self.flag(place, "Undang Survei SKM", text("invites_survey"), default=False),
            "online_event": text("online_event") or None,
            "_continuation": self.flag(place, "Lanjutan Kantor", text("office_continuation"), default=False),
            "reject_role": self.role(text("reject_role")),
            "resume_role": self.role(text("resume_role")),
        }

    def flag(self, place: str, title: str, text: str, default: bool) -> bool:
        value = _norm(text)
        if not value:
            return default
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise self.fail(place, f"kolom '{title}' berisi '{text}': isi 'Ya' atau 'Tidak'")

    # ---- sheet "Persyaratan"

    def requirement_sheet(self, rows: list[list[str]], sop: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        header = next(
            (
                i for i, row in enumerate(rows)
                if "name" in (keys := {_REQUIREMENT_HEADERS.get(_norm(c)) for c in row}) and len(keys - {None}) > 1
            ),
            None,
        )
        if header is None:
            raise SopFileError(
                self.path, f"lembar {REQUIREMENT_SHEET}: baris judul (No | Kode | Persyaratan | Wajib | "
                "Diperiksa Sampai Tahap) tidak ditemukan",
            )
        columns = {}
        for col, text in enumerate(rows[header]):
            key = _REQUIREMENT_HEADERS.get(_norm(text))
            if key is not None:
                columns.setdefault(key, col)
        # A due stage may be given by its code, or by its Nama Tahap / Permohonan text.
        all_steps = sop["steps"] + sop["office_continuation"]
        stages = {_norm(step["name"]): step["code"] for step in reversed(all_steps)}
        stages |= {_norm(step["code"]): step["code"] for step in all_steps}

        requirements: list[dict[str, Any]] = []
        places: list[str] = []
        no_col = columns.get("no")
        for index in range(header + 1, len(rows)):
            row = rows[index]
            if not any(v for c, v in enumerate(row) if c != no_col):
                continue  # blank, or numbered but not filled in
            place = f"lembar {REQUIREMENT_SHEET} baris {index + 1}"
            name = _cell(row, columns.get("name"))
            due = _cell(row, columns.get("due_stage"))
            requirements.append(
                {
                    "code": _cell(row, columns.get("code")) or derive_code(name) or None,
                    "name": name,
                    "mandatory": self.flag(place, "Wajib", _cell(row, columns.get("mandatory")), default=True),
                    "due_stage": stages.get(_norm(due), derive_code(due)) if due else None,
                }
            )
            places.append(place)
        return requirements, places


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")
_LOKET_FILL = PatternFill("solid", fgColor="DDEBF7")
_CONTINUATION_FILL = PatternFill("solid", fgColor="F2F2F2")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WIDTHS = {
    "No": 5, "Kegiatan": 42, "Permohonan": 20, "Kelengkapan": 30, "Waktu": 12, "Output": 30, "Ket": 12,
    "Nama Tahap": 22, "Kode Tahap": 24, "Pelaksana Menurut SOP": 16, "Isian Wajib": 30,
    "Terbitkan Nomor Izin": 11, "Undang Survei SKM": 10, "Peristiwa Daring Pemohon": 18,
    "Lanjutan Kantor": 10, "Dapat Ditolak Oleh": 16, "Penerima Berkas Kembali": 16,
}
_EXECUTOR_WIDTH = 10


def write_sop_sheet(
    out: BinaryIO | Path, permit_type: PermitType, *, office_lines: Iterable[str] = DEFAULT_OFFICE_LINES
) -> None:
    """Writes a permit type (its .stages and .requirements) as an SOP sheet `read_sop_sheet` reads."""
    stages = sorted(permit_type.stages, key=lambda s: s.seq)
    requirements = sorted(permit_type.requirements, key=lambda r: r.seq)
    workbook = Workbook()
    sop = workbook.active
    sop.title = SOP_SHEET
    _write_sop(sop, permit_type, stages, list(office_lines))
    _write_requirements(workbook.create_sheet(REQUIREMENT_SHEET), permit_type, requirements)
    workbook.save(str(out) if isinstance(out, Path) else out)


def _executors(stages: Sequence[Any]) -> list[str]:
    extra = {s.role_name for s in stages} - set(OFFICE_EXECUTORS)
    order = {role: i for i, role in enumerate(ALL_ROLES)}
    return list(OFFICE_EXECUTORS) + sorted(extra, key=lambda r: (order.get(r, len(order)), r))


def _resume_role(stages: Sequence[Any]) -> str | None:
    """The header's Penerima Berkas Kembali: the stages' most common one (ties: the earliest stage's)."""
    counts = Counter(s.resume_role for s in stages if s.resume_role)
    return counts.most_common(1)[0][0] if counts else None


def _put(ws, row: int, col: int, value: Any, **style: Any):
    """Writes a value; text is always text (never a formula), control characters dropped."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    for name, item in style.items():
        setattr(cell, name, item)
    return cell


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(len(line) * 1.1 / max(width, 1))) for line in (text or "").splitlines() or [""])


def _write_sop(ws, permit: PermitType, stages: Sequence[Any], office_lines: list[str]) -> None:
    executors = _executors(stages)
    resume_role = _resume_role(stages)
    headers = (
        [h for _, h in _STEP_COLUMNS_HEAD] + executors + [h for _, h in _STEP_COLUMNS_QUALITY]
        + [h for _, h in _STEP_COLUMNS_LOKET]
    )
    col = {h: i + 1 for i, h in enumerate(headers)}
    last = len(headers)
    widths = {h: _WIDTHS.get(h, _EXECUTOR_WIDTH) for h in headers}
    for h, i in col.items():
        ws.column_dimensions[get_column_letter(i)].width = widths[h]

    row = 1
    for line in [*office_lines, "STANDAR OPERASIONAL PROSEDUR (SOP)"]:
        _put(ws, row, 1, line, font=Font(bold=True, size=12), alignment=Alignment(horizontal="center"))
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        row += 1
    row += 1

    # Header block: label in A:B, value in C..Output.
    value_last = col["Output"]
    value_width = sum(widths[h] for h in headers[2:value_last])
    fee = Decimal(permit.fee or 0)
    single: dict[str, Any] = {
        "sop_number": permit.sop_number,
        "name": permit.name,
        "code": permit.code,
        "receipt_prefix": permit.receipt_prefix,
        "service_days": f"{permit.service_days} hari",
        "fee": NO_FEE if fee == 0 else fee,
        "output_document": permit.output_document,
        "validity_months": permit.validity_months,
        "permit_number_format": permit.permit_number_format,
        "resume_role": resume_role,
    }
    for key, label in _HEADER_LABELS:
        if key in _LIST_KEYS:
            items = list(getattr(permit, key) or [])
            values: list[Any] = [f"{n}. {item}" for n, item in enumerate(items, start=1)] or [None]
        else:
            values = [single[key]]
        for n, value in enumerate(values):
            if n == 0:
                _put(ws, row, 1, label, font=_BOLD, alignment=_WRAP)
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
            cell = _put(ws, row, 3, value, alignment=Alignment(wrap_text=True, vertical="top", horizontal="left"))
            if key == "fee" and not isinstance(value, str):
                cell.number_format = '"Rp "#,##0.00'
            ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=value_last)
            lines = _lines(str(value or ""), value_width)
            if lines > 1:
                ws.row_dimensions[row].height = 15 * lines
            row += 1
    row += 1
    _put(ws, row, 1, permit.name.upper(), font=Font(bold=True, size=12), alignment=Alignment(horizontal="left"))
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    row += 2

    # Steps table: two header rows like the office's document.
    top, sub = row, row + 1
    groups = (
        ("PELAKSANA", col["Permohonan"], col[executors[-1]], _HEAD_FILL),
        ("MUTU BAKU", col["Kelengkapan"], col["Output"], _HEAD_FILL),
        ("KOLOM LOKET", col["Nama Tahap"], last, _LOKET_FILL),
    )
    for title, first, end, fill in groups:
        _put(ws, top, first, title)
        ws.merge_cells(start_row=top, start_column=first, end_row=top, end_column=end)
        for c in range(first, end + 1):
            _put(ws, sub, c, headers[c - 1])
            ws.cell(top, c).fill = ws.cell(sub, c).fill = fill
    for h in ("No", "Kegiatan", "Ket"):
        _put(ws, top, col[h], h)
        ws.merge_cells(start_row=top, start_column=col[h], end_row=sub, end_column=col[h])
        ws.cell(top, col[h]).fill = ws.cell(sub, col[h]).fill = _HEAD_FILL
    for r in (top, sub):
        for c in range(1, last + 1):
            cell = ws.cell(r, c)
            cell.font, cell.alignment, cell.border = _BOLD, _CENTRE, _BOX
    ws.row_dimensions[sub].height = 45

    row = sub + 1
    first_step = row
    for stage in stages:
        values = {
            "No": stage.seq,
            "Kegiatan": stage.activity or "",
            "Permohonan": stage.name.upper(),
            "Kelengkapan": stage.inputs or "",
            "Waktu": stage.time_standard_text,
            "Output": stage.output or "",
            "Ket": "",
            "Nama Tahap": stage.name,
            "Kode Tahap": stage.code,
            "Pelaksana Menurut SOP": stage.actor,
            "Isian Wajib": ", ".join(stage.required_fields or []),
            "Terbitkan Nomor Izin": "Ya" if stage.issues_permit else "",
            "Undang Survei SKM": "Ya" if stage.invites_survey else "",
            "Peristiwa Daring Pemohon": stage.online_event or "",
            "Lanjutan Kantor": "Ya" if stage.is_office_continuation else "",
            "Dapat Ditolak Oleh": stage.reject_role or "",
            # Only where the stage differs from the header's: a blank cell means the header's.
            "Penerima Berkas Kembali": stage.resume_role if stage.resume_role != resume_role else "",
            stage.role_name: MARK,
        }
        for h in headers:
            centred = h in executors or h in {"No", "Waktu", "Terbitkan Nomor Izin", "Undang Survei SKM",
                                                  "Lanjutan Kantor"}
            cell = _put(ws, row, col[h], values.get(h, ""), border=_BOX, alignment=_CENTRE if centred else _WRAP)
            if stage.is_office_continuation:
                cell.fill = _CONTINUATION_FILL
        row += 1

    for h in ("Terbitkan Nomor Izin", "Undang Survei SKM", "Lanjutan Kantor"):
        check = DataValidation(type="list", formula1='"Ya,Tidak"', allow_blank=True)
        ws.add_data_validation(check)
        letter = get_column_letter(col[h])
        check.add(f"{letter}{first_step}:{letter}{max(row - 1, first_step) + 50}")

    # The online events as a pick-list too (any other is refused on reading, as in the YAML).
    events = DataValidation(type="list", formula1=f'"{",".join(ONLINE_EVENTS)}"', allow_blank=True)
    ws.add_data_validation(events)
    letter = get_column_letter(col["Peristiwa Daring Pemohon"])
    events.add(f"{letter}{first_step}:{letter}{max(row - 1, first_step) + 50}")

    ws.print_title_rows = f"{top}:{sub}"
    _page_setup(ws)


def _write_requirements(ws, permit: PermitType, requirements: Sequence[Any]) -> None:
    headers = [h for _, h in _REQUIREMENT_COLUMNS]
    for i, width in enumerate((5, 28, 70, 10, 28), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _put(ws, 1, 1, f"PERSYARATAN {permit.name.upper()}", font=Font(bold=True, size=12))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for c, h in enumerate(headers, start=1):
        _put(ws, 3, c, h, font=_BOLD, alignment=_CENTRE, border=_BOX, fill=_HEAD_FILL)
    row = 4
    for n, req in enumerate(requirements, start=1):
        values = (n, req.code, req.name, "Ya" if req.is_mandatory else "Tidak", req.due_stage.code)
        for c, value in enumerate(values, start=1):
            _put(ws, row, c, value, border=_BOX, alignment=_CENTRE if c in (1, 4) else _WRAP)
        row += 1
    check = DataValidation(type="list", formula1='"Ya,Tidak"', allow_blank=True)
    ws.add_data_validation(check)
    check.add(f"D4:D{row + 50}")
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    _page_setup(ws)


def _page_setup(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5

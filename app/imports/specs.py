"""What can be imported: per entity, its columns (the headers its grid exports), its natural key,
and how a checked row becomes the model's values.

Headers are the grid's Indonesian labels, so a file exported from a grid imports back as it is;
displayed values (a legal form's label, a kecamatan's name, a formatted NPWP) are read back to
what the database stores.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.changes import frozen_refusal
from app.labels import LEGAL_FORMS
from app.models import Applicant, Company, Dossier, NumberCounter, PermitType, RegisterEntry, StageEvent
from app.models.guards import REGISTER_RECORDED
from app.regions import desa_of, is_desa, kecamatan_choices, kecamatan_of, region_name, region_refusal
from app.security import roles
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier
from app.sop.numbering import REGISTER_SERIES
from app.spreadsheets.reading import Column, ParsedSheet, read_sheet
from app.validators import normalize_email, normalize_nib, normalize_nik, normalize_npwp, normalize_phone
from app.views.dossiers import DOSSIER_LABELS
from app.views.parties import APPLICANT_LABELS, COMPANY_LABELS
from app.views.register import REGISTER_LABELS


@dataclass(frozen=True)
class ImportSpec:
    entity: str                 # URL and ImportBatch code
    title: object               # what staff read
    model: type
    resource: str               # permissions needed: can_add and can_edit on it
    key: str                    # natural key attribute
    columns: tuple[Column, ...]
    # Turns the checked values of one row into model attributes; raises ValueError(column, message).
    resolve: Callable[[Session, dict[str, Any]], dict[str, Any]]
    required_on_create: tuple[str, ...] = ()
    # (permission, resource) pairs the user needs; by default can_add and can_edit on `resource`.
    permissions: tuple[tuple[str, str], ...] = ()
    # Run after the rows are written, in the same transaction (e.g. number counters).
    after_apply: Callable[[Session, list[dict[str, Any]]], None] | None = None
    after_undo: Callable[[Session], None] | None = None
    # Creates rows itself instead of a bulk INSERT (e.g. dossiers open through the SOP engine);
    # returns the new ids. Called with (session, values of each new row, importing user's id).
    create: Callable[[Session, list[dict[str, Any]], int | None], list[int]] | None = None
    # Removes what hangs off created rows before an undo deletes them (e.g. their history).
    before_undo: Callable[[Session, list[int]], None] | None = None
    # Attributes a re-import may not change on an existing row.
    immutable: tuple[str, ...] = ()
    # Why an existing row may not take these changes (a dossier whose permit is issued), or None.
    refuse_update: Callable[[Session, Any, dict[str, Any]], str | None] | None = None
    # Another system's export (SiCantik, OSS): a title may stand above the table, and columns
    # Loket does not know are read past instead of refusing the file.
    extract: bool = False

    @property
    def needed_permissions(self) -> tuple[tuple[str, str], ...]:
        return self.permissions or (("can_add", self.resource), ("can_edit", self.resource))

    def header(self, key: str) -> str:
        return next(c.header for c in self.columns if c.key == key)

    def read(self, path: Path) -> ParsedSheet:
        """The uploaded file, checked and read against these columns (SpreadsheetRefused if refused)."""
        return read_sheet(path, self.columns, key=self.key, extract=self.extract)


class CellProblem(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


class RowSkipped(Exception):  # noqa: N818 - not an error: the row is read past, str(exc) says why
    """Raised by a resolve function for a row that is deliberately not imported."""


# Status words of SiCantik and OSS extracts (compared case- and space-insensitively). Only an
# application still in progress is opened in Loket, at the SOP's first stage; one already
# finished or stopped elsewhere is read past. A word in neither list is an error, not a guess
# ("Diterima" is left out on purpose: received, or granted?).
IN_PROGRESS_STATUSES = (
    "Baru", "Pendaftaran", "Terdaftar", "Menunggu", "Menunggu Verifikasi", "Proses",
    "Diproses", "Dalam Proses", "Sedang Diproses", "Verifikasi", "Validasi", "Survei", "Survey",
    "Pemeriksaan Lapangan", "Penetapan", "Menunggu Tanda Tangan",
)
FINISHED_STATUSES = ("Selesai", "Terbit", "Izin Terbit", "Sudah Terbit", "Diterbitkan")
STOPPED_STATUSES = ("Ditolak", "Tolak", "Dibatalkan", "Batal", "Dicabut", "Ditarik", "Kedaluwarsa", "Kadaluarsa")


def _status_key(text: str) -> str:
    return " ".join(text.split()).casefold()


_STATUS_GROUPS = {
    _status_key(word): group
    for group, words in (("open", IN_PROGRESS_STATUSES), ("finished", FINISHED_STATUSES), ("stopped", STOPPED_STATUSES))
    for word in words
}


def _extract_status(value: str) -> str:
    if _status_key(value) not in _STATUS_GROUPS:
        raise ValueError(f"Status '{value}' tidak dikenal. Dibuka di Loket: {', '.join(IN_PROGRESS_STATUSES)}. "
                         f"Dilewati: {', '.join(FINISHED_STATUSES + STOPPED_STATUSES)}.")
    return value


def _skip_unless_in_progress(status: str | None) -> None:
    group = _STATUS_GROUPS.get(_status_key(status)) if status else "open"
    if group == "finished":
        raise RowSkipped(f"Status '{status}': sudah selesai di sistem asal. Izin yang sudah terbit dicatat lewat "
                         "impor Buku Register, bukan sebagai berkas baru.")
    if group == "stopped":
        raise RowSkipped(f"Status '{status}': permohonan sudah berhenti di sistem asal; tidak dibuka di Loket.")


def _label(labels: dict, key: str) -> str:
    with force_locale("id"):
        return str(labels[key])


def _aliases(labels: dict, key: str) -> tuple[str, ...]:
    with force_locale("en"):
        return (str(labels[key]),)


def _legal_form(value: str) -> str:
    wanted = value.strip().upper()
    if wanted in LEGAL_FORMS:
        return wanted
    for locale in ("id", "en"):
        with force_locale(locale):
            for code, label in LEGAL_FORMS.items():
                if str(label).strip().upper() == wanted:
                    return code
    raise ValueError(f"Bentuk badan usaha tidak dikenal: '{value}' (contoh: PT, CV, Koperasi).")


def _kecamatan(regency_code: str) -> Callable[[str], str]:
    """Name (any case) or Kemendagri code of a kecamatan of the regency -> its code."""
    codes = {}
    for code, name in kecamatan_choices(regency_code):
        codes[code] = codes[name.upper()] = code

    def check(value: str) -> str:
        code = codes.get(value.strip().upper())
        if code is None:
            raise ValueError(f"Kecamatan '{value}' tidak ada di kabupaten ini.")
        return code

    return check


def company_spec(regency_code: str) -> ImportSpec:
    def col(key: str, **kwargs) -> Column:  # noqa: ANN003
        return Column(key, _label(COMPANY_LABELS, key), aliases=_aliases(COMPANY_LABELS, key), **kwargs)

    columns = (
        col("name", required=True, max_length=200),
        Column("legal_form", _label(COMPANY_LABELS, "legal_form"), check=_legal_form,
               aliases=_aliases(COMPANY_LABELS, "legal_form")),
        col("nib", required=True, check=normalize_nib),
        col("npwp", check=normalize_npwp),
        col("deed_number", max_length=100),
        col("deed_date", kind="date"),
        col("sk_kemenkumham", max_length=100),
        col("address", max_length=300),
        Column("kecamatan_code", _label(COMPANY_LABELS, "kecamatan_code"), check=_kecamatan(regency_code),
               aliases=_aliases(COMPANY_LABELS, "kecamatan_code")),
        col("desa_code", max_length=100),
        col("phone", check=normalize_phone),
        col("email", check=normalize_email),
    )
    return ImportSpec("company", _l("Companies"), Company, roles.COMPANY, "nib", columns,
                      _company_region(regency_code), required_on_create=("legal_form",),
                      refuse_update=_region_change_refusal(regency_code))


def _desa_code(regency_code: str, kecamatan_code: str | None, value: str) -> str:
    """A desa's Kemendagri code, or its name (any case): looked up in the row's kecamatan first,
    then in the whole regency, where a name must be unique."""
    if is_desa(regency_code, value):
        return value
    wanted = value.upper()
    found = [code for code, name in desa_of(regency_code, kecamatan_code) if name.upper() == wanted]
    if not found:
        found = [code for kecamatan, _ in kecamatan_choices(regency_code)
                 for code, name in desa_of(regency_code, kecamatan) if name.upper() == wanted]
    if len(found) > 1:
        where = ", ".join(region_name(kecamatan_of(code)) for code in found)
        raise CellProblem(_label(COMPANY_LABELS, "desa_code"),
                          f"Desa/kelurahan '{value}' ada di beberapa kecamatan ({where}); isi kecamatan yang benar "
                          "atau tulis kode desanya (mis. 61.08.01.2001).")
    if not found:
        raise CellProblem(_label(COMPANY_LABELS, "desa_code"), f"Desa/kelurahan '{value}' tidak ada di kabupaten ini.")
    return found[0]


def _company_region(regency_code: str) -> Callable[[Session, dict[str, Any]], dict[str, Any]]:
    """A row's desa/kelurahan (name or code) -> its code, refused unless it lies in the row's
    kecamatan; a file with the desa column needs the kecamatan column too."""
    header = _label(COMPANY_LABELS, "desa_code")

    def resolve(_session: Session, values: dict[str, Any]) -> dict[str, Any]:
        if not values.get("desa_code"):
            return values
        if "kecamatan_code" not in values:
            raise CellProblem(header, f"Kolom {header} hanya diimpor bersama kolom "
                                      f"{_label(COMPANY_LABELS, 'kecamatan_code')}; tambahkan kolom itu.")
        kecamatan = values["kecamatan_code"]
        desa = _desa_code(regency_code, kecamatan, values["desa_code"])
        refusal = region_refusal(regency_code, kecamatan, desa)
        if refusal is not None:
            raise CellProblem(header, str(refusal))
        return {**values, "desa_code": desa}

    return resolve


def _region_change_refusal(regency_code: str) -> Callable[[Session, Company, dict[str, Any]], str | None]:
    """A company keeps a desa/kelurahan of its kecamatan: a file that moves it to another
    kecamatan names its new desa too (or leaves the kecamatan as it is)."""
    def refuse(_session: Session, company: Company, changed: dict[str, Any]) -> str | None:
        if not changed.keys() & {"kecamatan_code", "desa_code"}:
            return None
        refusal = region_refusal(regency_code, changed.get("kecamatan_code", company.kecamatan_code),
                                 changed.get("desa_code", company.desa_code))
        return None if refusal is None else str(refusal)

    return refuse


def applicant_spec() -> ImportSpec:
    def col(key: str, **kwargs) -> Column:  # noqa: ANN003
        return Column(key, _label(APPLICANT_LABELS, key), aliases=_aliases(APPLICANT_LABELS, key), **kwargs)

    columns = (
        col("full_name", required=True, max_length=150),
        col("nik", required=True, check=normalize_nik),
        Column("company", _label(APPLICANT_LABELS, "company"), aliases=_aliases(APPLICANT_LABELS, "company"),
               max_length=200),
        Column("company_nib", "NIB Perusahaan", check=normalize_nib),
        col("position", max_length=100),
        col("phone", check=normalize_phone),
        col("email", check=normalize_email),
    )
    return ImportSpec("applicant", _l("Applicants"), Applicant, roles.APPLICANT, "nik", columns,
                      _resolve_applicant_company)


def _resolve_applicant_company(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The company by NIB if given, else by its exact name (which must then be unique)."""
    values = dict(values)
    nib, name = values.pop("company_nib", None), values.pop("company", None)
    if nib:
        company_id = session.scalar(select(Company.id).where(Company.nib == nib))
        if company_id is None:
            raise CellProblem("NIB Perusahaan", f"Tidak ada perusahaan terdaftar dengan NIB {nib}.")
        values["company_id"] = company_id
    elif name:
        ids = session.scalars(select(Company.id).where(Company.name == name).limit(2)).all()
        if len(ids) != 1:
            problem = "tidak ditemukan" if not ids else "tidak unik"
            raise CellProblem(_label(APPLICANT_LABELS, "company"),
                              f"Perusahaan '{name}' {problem}; isi kolom NIB Perusahaan.")
        values["company_id"] = ids[0]
    return values


def register_spec() -> ImportSpec:
    """Lines of the paper register kept before Loket: they carry their own year and line number,
    refer to companies and applicants already registered (import those first), and have no dossier.
    The register's number counter moves past them, so new numbers never repeat an old line."""
    def col(key: str, **kwargs) -> Column:  # noqa: ANN003
        return Column(key, _label(REGISTER_LABELS, key), aliases=_aliases(REGISTER_LABELS, key), **kwargs)

    columns = (
        col("register_number", required=True, max_length=60),
        col("year", kind="int", required=True),
        col("seq", kind="int", required=True),
        col("entry_date", kind="date", required=True),
        col("permit_number", required=True, max_length=80),
        Column("company_nib", "NIB Perusahaan", required=True, check=normalize_nib),
        Column("applicant_nik", "NIK Pemohon", required=True, check=normalize_nik),
        col("permit_type", required=True, max_length=200),
        col("issue_date", kind="date", required=True),
        col("archive_box", max_length=40),
        col("archive_shelf", max_length=40),
    )
    seen: dict[tuple[int, int], str] = {}

    def resolve(session: Session, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        number, year, seq = values["register_number"], values["year"], values["seq"]
        if not 1950 <= year <= 2100:
            raise CellProblem(_label(REGISTER_LABELS, "year"), f"Tahun {year} tidak masuk akal.")
        if seq < 1:
            raise CellProblem(_label(REGISTER_LABELS, "seq"), "Nomor urut dimulai dari 1.")
        if seen.setdefault((year, seq), number) != number:
            raise CellProblem(_label(REGISTER_LABELS, "seq"),
                              f"Nomor urut {seq} tahun {year} juga dipakai {seen[(year, seq)]} di berkas ini.")
        taken = session.scalar(select(RegisterEntry.register_number).where(
            RegisterEntry.year == year, RegisterEntry.seq == seq, RegisterEntry.register_number != number))
        if taken:
            raise CellProblem(_label(REGISTER_LABELS, "seq"), f"Nomor urut {seq} tahun {year} sudah dipakai {taken}.")
        other = session.scalar(select(RegisterEntry.register_number).where(
            RegisterEntry.permit_number == values["permit_number"], RegisterEntry.register_number != number))
        if other:
            raise CellProblem(_label(REGISTER_LABELS, "permit_number"),
                              f"Nomor izin ini sudah tercatat pada register {other}.")
        return _resolve_parties(session, values, _label(REGISTER_LABELS, "permit_type"))

    return ImportSpec("register", _l("Register book"), RegisterEntry, roles.REGISTER_ENTRY, "register_number",
                      columns, resolve, permissions=(("can_edit", roles.REGISTER_ENTRY),),
                      after_apply=_move_register_counters, after_undo=_recount_register_counters,
                      refuse_update=_numbered_line_refusal)


def _numbered_line_refusal(_session: Session, line: RegisterEntry, changed: dict[str, Any]) -> str | None:
    """A line numbering wrote records an issued permit; only where its paper is kept may change."""
    recorded = sorted(set(changed) & set(REGISTER_RECORDED))
    if line.dossier_id is None or not recorded:
        return None
    return (f"Baris {line.register_number} dicatat oleh penomoran izin {line.permit_number}; isinya tidak dapat "
            "diubah lewat impor (hanya boks dan rak arsip).")


def _resolve_parties(session: Session, values: dict[str, Any], permit_type_header: str) -> dict[str, Any]:
    """company_nib, applicant_nik and permit_type (name or code) -> the ids of registered rows."""
    values["company_id"] = _lookup(session, select(Company.id).where(Company.nib == values.pop("company_nib")),
                                   "NIB Perusahaan", "Perusahaan dengan NIB ini belum terdaftar; impor perusahaan dulu.")
    values["applicant_id"] = _lookup(session, select(Applicant.id).where(Applicant.nik == values.pop("applicant_nik")),
                                     "NIK Pemohon", "Pemohon dengan NIK ini belum terdaftar; impor pemohon dulu.")
    permit_type = values.pop("permit_type")
    values["permit_type_id"] = _lookup(
        session, select(PermitType.id).where(or_(PermitType.name == permit_type, PermitType.code == permit_type)),
        permit_type_header, f"Jenis izin '{permit_type}' tidak dikenal.")
    return values


def _lookup(session: Session, query, column: str, message: str) -> int:  # noqa: ANN001
    found = session.scalar(query)
    if found is None:
        raise CellProblem(column, message)
    return found


def _move_register_counters(session: Session, created: list[dict[str, Any]]) -> None:
    """Every year's REGISTER counter ends at least at the highest line imported for that year."""
    highest: dict[int, int] = {}
    for values in created:
        highest[values["year"]] = max(highest.get(values["year"], 0), values["seq"])
    for year, seq in highest.items():
        counter = session.get(NumberCounter, (REGISTER_SERIES, year))
        if counter is None:
            session.add(NumberCounter(series=REGISTER_SERIES, year=year, last_seq=seq))
        elif counter.last_seq < seq:
            counter.last_seq = seq


def _recount_register_counters(session: Session) -> None:
    """After an undo: each year's counter is again the highest line left (numbers are gapless)."""
    session.flush()
    highest = dict(session.execute(
        select(RegisterEntry.year, func.max(RegisterEntry.seq)).group_by(RegisterEntry.year)).all())
    for counter in session.scalars(select(NumberCounter).where(NumberCounter.series == REGISTER_SERIES)):
        counter.last_seq = highest.get(counter.year, 0)


def dossier_spec(calendar: WorkingCalendar) -> ImportSpec:
    """Dossiers from a SiCantik or OSS extract. A new one is opened exactly as the counter opens
    one (first stage, SLA promise, history), but keeps the extract's registration number, so the
    next extract updates it instead of opening it twice. A date without a time counts from the
    office's opening. Parties, permit type and date of an existing dossier never change."""
    labels = DOSSIER_LABELS
    columns = (
        Column("receipt_number", _label(labels, "receipt_number"), required=True, max_length=20,
               aliases=(*_aliases(labels, "receipt_number"), "No Pendaftaran", "Nomor Permohonan", "No Permohonan")),
        Column("submitted_at", _label(labels, "submitted_at"), kind="date", required=True,
               aliases=(*_aliases(labels, "submitted_at"), "Tanggal Daftar", "Tanggal Permohonan")),
        Column("company_nib", "NIB Perusahaan", required=True, check=normalize_nib, aliases=("NIB",)),
        Column("applicant_nik", "NIK Pemohon", required=True, check=normalize_nik, aliases=("NIK",)),
        Column("permit_type", _label(labels, "permit_type"), required=True, max_length=200),
        Column("site_address", _label(labels, "site_address"), max_length=300),
        Column("site_area_m2", _label(labels, "site_area_m2"), kind="int"),
        Column("vehicle_capacity", _label(labels, "vehicle_capacity"), kind="int"),
        Column("notes", _label(labels, "notes"), max_length=2000),
        Column("source_status", "Status", check=_extract_status,
               aliases=("Status Permohonan", "Status Proses", "Status Izin")),
    )

    def resolve(session: Session, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        _skip_unless_in_progress(values.pop("source_status", None))
        values["receipt_number"] = values["receipt_number"].strip().upper()
        day = values["submitted_at"]
        if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
            values["submitted_at"] = dt.datetime.combine(day, calendar.opens, tzinfo=calendar.tz).astimezone(dt.UTC)
        return _resolve_parties(session, values, _label(labels, "permit_type"))

    def create(session: Session, rows: list[dict[str, Any]], actor_id: int | None) -> list[int]:
        permit_types: dict[int, PermitType] = {}
        ids = []
        for values in rows:
            type_id = values["permit_type_id"]
            permit_type = permit_types.get(type_id) or permit_types.setdefault(type_id, session.get(PermitType, type_id))
            fields = {k: v for k, v in values.items() if k not in ("permit_type_id", "submitted_at", "receipt_number")}
            with session.no_autoflush:
                dossier = open_dossier(Dossier(**fields), permit_type, values["submitted_at"], calendar, actor_id)
                dossier.receipt_number = values["receipt_number"]
            session.add(dossier)
            session.flush()
            ids.append(dossier.id)
        return ids

    def before_undo(session: Session, created: list[int]) -> None:
        # History is append-only for the ORM; an undone import takes its own submit rows back.
        session.execute(StageEvent.__table__.delete().where(StageEvent.dossier_id.in_(created)))

    return ImportSpec("dossier", _l("Dossiers"), Dossier, roles.DOSSIER, "receipt_number", columns, resolve,
                      create=create, before_undo=before_undo,
                      immutable=("company_id", "applicant_id", "permit_type_id", "submitted_at"), extract=True,
                      refuse_update=lambda session, dossier, changed: frozen_refusal(session, dossier.id, changed))

"""Rules every change of the office's records obeys, whoever makes it (a form, the API, an
import, an undo). No Flask: the views ask first to say why in Indonesian; the ORM listener
(app.audit.listener) asks again at flush, and the database triggers (app.models.guards) last.

* From the moment a permit is numbered, what it printed of its dossier cannot change.
* After a dossier is received, a change to it or to its company or applicant needs a reason.
* Nothing is deleted while another record still uses it; the refusal names what uses it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.models import Applicant, Base, Company, Dossier, Permit
from app.models.guards import DOSSIER_PRINTED


class ChangeRefused(ValueError):
    """A change the rules refuse; str(exc) says why, in Indonesian, and nothing was written."""


class ReasonRequired(ChangeRefused):
    pass


# ---------------------------------------------------------------------------- frozen after issue

# Dossier attributes (and the relationships that set them) the permit prints.
FROZEN_AFTER_ISSUE = frozenset(DOSSIER_PRINTED) | {"company", "applicant", "permit_type"}
_FIELD_WORDS = {
    "company_id": "perusahaan", "company": "perusahaan", "applicant_id": "pemohon", "applicant": "pemohon",
    "permit_type_id": "jenis izin", "permit_type": "jenis izin", "site_address": "alamat lokasi",
    "site_area_m2": "luas lokasi", "vehicle_capacity": "kapasitas kendaraan", "receipt_number": "nomor pendaftaran",
    "submitted_at": "waktu pendaftaran",
}


def issued_permit_number(session: Session, dossier_id: int) -> str | None:
    return session.scalar(select(Permit.number).where(Permit.dossier_id == dossier_id))


def frozen_refusal(session: Session, dossier_id: int, fields: Iterable[str]) -> str | None:
    """Why these dossier fields may not change (the dossier holds a numbered permit), or None."""
    touched = sorted({_FIELD_WORDS.get(f, f) for f in fields if f in FROZEN_AFTER_ISSUE})
    if not touched:
        return None
    number = issued_permit_number(session, dossier_id)
    if number is None:
        return None
    return (f"Izin {number} sudah terbit; {', '.join(touched)} yang tercetak pada izin tidak dapat diubah. "
            "Koreksi izin: Kepala Dinas mencabut izin dengan alasan, lalu berkas perbaikan dibuka dari izin itu.")


# ---------------------------------------------------------------------------- reasons

def is_party_to_a_dossier(session: Session, record: Company | Applicant) -> bool:
    column = Dossier.company_id if isinstance(record, Company) else Dossier.applicant_id
    return bool(session.scalar(select(exists().where(column == record.id))))


def needs_reason(session: Session, record: object) -> bool:
    """A received dossier, or a company or applicant named on one: changing it needs a reason."""
    if isinstance(record, Dossier):
        return record.id is not None
    if isinstance(record, (Company, Applicant)):
        return record.id is not None and is_party_to_a_dossier(session, record)
    return False


def reason_refusal(reason: str | None) -> str | None:
    if reason and len(reason.strip()) >= 5:
        return None
    return ("Alasan perubahan wajib diisi (paling sedikit 5 huruf): berkas sudah diterima, dan setiap perubahan "
            "padanya atau pada perusahaan dan pemohonnya dicatat beserta alasannya.")


# ---------------------------------------------------------------------------- references

# How staff call a table's rows, and the column that names one.
_TABLE_WORDS: dict[str, tuple[str, str | None]] = {
    "dossier": ("berkas permohonan", "receipt_number"),
    "applicant": ("pemohon", "full_name"),
    "company": ("perusahaan", "name"),
    "document": ("dokumen", "original_filename"),
    "stage_event": ("riwayat berkas", None),
    "permit": ("izin", "number"),
    "register_entry": ("baris buku register", "register_number"),
    "print_log": ("catatan cetak", None),
    "import_batch": ("impor spreadsheet", "filename"),
    "report_job": ("tugas laporan", None),
    "audit_log": ("jejak audit", None),
}
EXAMPLES = 3


@dataclass(frozen=True)
class Reference:
    table: str
    count: int
    examples: tuple[str, ...]

    def __str__(self) -> str:
        word, _ = _TABLE_WORDS.get(self.table, (self.table, None))
        more = f" ({', '.join(self.examples)}{', ...' if self.count > len(self.examples) else ''})" if self.examples else ""
        return f"{self.count} {word}{more}"


def references(
    session: Session, table_name: str, ids: Sequence[int], ignore: Iterable[tuple[str, str]] = ()
) -> dict[int, list[Reference]]:
    """For each of these rows that other rows point at (any foreign key of Loket's schema, but
    the (table, column) pairs in `ignore`), what points at it. A few queries per foreign key and
    chunk of ids, whatever their number (an undo checks a whole import)."""
    ignore = set(ignore)
    found: dict[int, list[Reference]] = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != table_name or (table.name, fk.parent.name) in ignore:
                continue
            _, label_column = _TABLE_WORDS.get(table.name, (table.name, None))
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                counts = session.execute(
                    select(fk.parent, func.count()).where(fk.parent.in_(chunk)).group_by(fk.parent)).all()
                for record_id, count in counts:
                    examples = ()
                    if label_column is not None:
                        column = table.c[label_column]
                        examples = tuple(str(v) for v in session.scalars(
                            select(column).where(fk.parent == record_id).order_by(column).limit(EXAMPLES)))
                    found.setdefault(record_id, []).append(Reference(table.name, count, examples))
    return found


def in_use_refusal(session: Session, record: object) -> str | None:
    """Why this record may not be deleted (what still uses it), or None."""
    table = getattr(type(record), "__table__", None)
    if table is None or getattr(record, "id", None) is None:
        return None
    found = references(session, table.name, [record.id]).get(record.id)
    if not found:
        return None
    return (f"'{record}' tidak dapat dihapus karena masih dipakai oleh: {'; '.join(str(r) for r in found)}. "
            "Data yang sudah dipakai tetap disimpan.")


def count_needing_reason(session: Session, model: type, ids: Sequence[int]) -> int:
    """How many of these rows a change needs a reason for (needs_reason, in bulk for imports)."""
    if not ids or model not in (Dossier, Company, Applicant):
        return 0
    if model is Dossier:
        return len(ids)
    column = Dossier.company_id if model is Company else Dossier.applicant_id
    found = 0
    for start in range(0, len(ids), 900):
        found += session.scalar(select(func.count(func.distinct(column))).where(column.in_(ids[start : start + 900])))
    return found

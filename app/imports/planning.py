"""From a checked sheet to a plan (create / update with each changed cell / unchanged / error),
and applying a plan in one transaction, or nothing. No Flask: the views and the bench call these.

Rows are matched on the entity's natural key (NIB, NIK). Only the columns the file has are
compared and written: a column left out of the file leaves that field as it is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.audit import AUDITED, Change, changes_by, record_rows, write
from app.audit.trail import jsonable
from app.bulk import gc_paused
from app.changes import count_needing_reason, reason_refusal
from app.imports.specs import CellProblem, ImportSpec, RowSkipped
from app.models import AuditAction, AuditEntry, Company, ImportBatch, ImportStatus
from app.sop.calendar import as_utc
from app.spreadsheets.reading import ParsedSheet, RowError
from app.transactions import begin_immediate

CHUNK = 900  # keys per IN (...): below SQLite's default variable limit
CREATE, UPDATE, UNCHANGED, ERROR, SKIPPED = "create", "update", "unchanged", "error", "skipped"


class ImportRefused(ValueError):
    """str(exc) is an Indonesian message; nothing was written."""


@dataclass(frozen=True, slots=True)
class CellChange:
    """One cell of an update as the preview shows it."""

    column: str
    before: Any
    after: Any


# Not frozen, like ParsedRow: one per imported row, and a frozen __init__ costs five times as much.
@dataclass(slots=True)
class PlannedRow:
    row: int
    action: str
    key: Any
    values: dict[str, Any]            # model attributes to write (create: all; update: the changed ones)
    record_id: int | None = None
    changes: tuple[CellChange, ...] = ()
    errors: tuple[RowError, ...] = ()
    note: str = ""                    # why a skipped row is skipped


@dataclass
class ImportPlan:
    spec: ImportSpec
    rows: list[PlannedRow] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def counts(self) -> dict[str, int]:
        """What the preview records on the ImportBatch, and what apply_plan holds the file to."""
        return {"rows": len(self.rows), "created": self.count(CREATE), "updated": self.count(UPDATE),
                "unchanged": self.count(UNCHANGED), "skipped": self.count(SKIPPED), "errors": len(self.errors)}

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    def updates_needing_reason(self, session: Session) -> int:
        """Updates of received dossiers or of their parties: applying them needs a reason."""
        return count_needing_reason(session, self.spec.model, [r.record_id for r in self.rows if r.action == UPDATE])


@gc_paused()
def plan_import(session: Session, spec: ImportSpec, sheet: ParsedSheet) -> ImportPlan:
    model, key_column = spec.model, getattr(spec.model, spec.key)
    headers = {c.key: c.header for c in spec.columns}
    keys = [row.values[spec.key] for row in sheet.rows if not row.errors]
    existing: dict[Any, Any] = {}
    for start in range(0, len(keys), CHUNK):
        for record in session.scalars(select(model).where(key_column.in_(keys[start : start + CHUNK]))):
            existing[getattr(record, spec.key)] = record
    plan = ImportPlan(spec)
    for row in sheet.rows:
        key = row.values.get(spec.key)
        if row.errors:
            plan.rows.append(PlannedRow(row.row, ERROR, key, {}, errors=row.errors))
            continue
        try:
            values = spec.resolve(session, row.values)
        except CellProblem as problem:
            plan.rows.append(PlannedRow(row.row, ERROR, key, {}, errors=(RowError(row.row, problem.column, str(problem)),)))
            continue
        except RowSkipped as skipped:
            plan.rows.append(PlannedRow(row.row, SKIPPED, key, {}, note=str(skipped)))
            continue
        record = existing.get(key)
        if record is None:
            missing = [headers[name] for name in spec.required_on_create if values.get(name) in (None, "")]
            if missing:
                errors = tuple(RowError(row.row, header, "Wajib diisi untuk data baru.") for header in missing)
                plan.rows.append(PlannedRow(row.row, ERROR, key, {}, errors=errors))
                continue
            plan.rows.append(PlannedRow(row.row, CREATE, key, values))
            continue
        changed = {name: value for name, value in values.items() if name != spec.key and getattr(record, name) != value}
        fixed = [name for name in changed if name in spec.immutable and not _same(getattr(record, name), changed[name])]
        if fixed:
            errors = tuple(RowError(row.row, _header(spec, name), "Tidak dapat diubah lewat impor pada data yang sudah ada.")
                           for name in fixed)
            plan.rows.append(PlannedRow(row.row, ERROR, key, {}, errors=errors))
            continue
        changed = {name: value for name, value in changed.items() if name not in spec.immutable}
        if not changed:
            plan.rows.append(PlannedRow(row.row, UNCHANGED, key, {}, record.id))
            continue
        refusal = spec.refuse_update(session, record, changed) if spec.refuse_update else None
        if refusal:
            error = RowError(row.row, _header(spec, next(iter(changed))), refusal)
            plan.rows.append(PlannedRow(row.row, ERROR, key, {}, errors=(error,)))
            continue
        changes = tuple(
            CellChange(_header(spec, name), _shown(session, name, getattr(record, name)), _shown(session, name, value))
            for name, value in changed.items()
        )
        plan.rows.append(PlannedRow(row.row, UPDATE, key, changed, record.id, changes))
    return plan


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:  # noqa: ANN401
    """Core INSERTs of the rows (the ORM's per-object bookkeeping is not needed); their new ids.

    SQLite: the driver's own executemany, values through their column types' bind processors
    (SQLAlchemy's per-row parameter handling costs a third of the insert), then the ids above
    the highest before: apply_plan holds the write lock from its start (begin_immediate), so no
    other row can take an id meanwhile. PostgreSQL, where other sessions insert at the same
    time: INSERT ... RETURNING in chunks.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not rows:
        ids: list[int] = []
        for start in range(0, len(rows), CHUNK):
            ids += connection.execute(insert(table).returning(table.c.id), rows[start : start + CHUNK]).scalars().all()
        return ids
    highest = connection.execute(select(func.max(table.c.id))).scalar() or 0
    names = list(rows[0])  # every row of a plan has the same columns: the file's
    convert = [table.c[name].type.bind_processor(connection.dialect) for name in names]
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    values = [pick(row) for row in rows]
    if any(convert):
        values = [tuple(v if v is None or f is None else f(v) for v, f in zip(row, convert)) for row in values]
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", values)
    ids = list(connection.execute(select(table.c.id).where(table.c.id > highest).order_by(table.c.id)).scalars())
    assert len(ids) == len(rows), "rows appeared under the write lock"
    return ids


def _same(stored: Any, imported: Any) -> bool:  # noqa: ANN401
    """Equal, reading a zone-less stored instant as UTC (SQLite keeps no zone)."""
    if isinstance(stored, dt.datetime) and isinstance(imported, dt.datetime):
        return as_utc(stored) == imported
    return stored == imported


_COLUMN_OF = {"company_id": ("company", "company_nib"), "applicant_id": ("applicant_nik",),
              "permit_type_id": ("permit_type",)}


def _header(spec: ImportSpec, attribute: str) -> str:
    columns = _COLUMN_OF.get(attribute, (attribute,))
    return next((c.header for c in spec.columns if c.key in columns), attribute)


def _shown(session: Session, attribute: str, value: Any) -> Any:  # noqa: ANN401
    if attribute == "company_id" and value is not None:
        return session.scalar(select(Company.name).where(Company.id == value))
    return value


@gc_paused()
def apply_plan(session: Session, plan: ImportPlan, batch: ImportBatch, now: dt.datetime, reason: str | None = None) -> None:
    """Writes every create and update, their audit trail and the batch record, in the caller's
    transaction; the caller commits. Refused, with nothing written, while any row has an error,
    when updates of received dossiers or their parties come without a reason, or when the plan is
    no longer the one the preview showed (batch's counts): the data changed meanwhile."""
    if plan.errors:
        raise ImportRefused(f"Berkas masih memuat {len(plan.errors)} kesalahan; perbaiki dulu, lalu unggah ulang.")
    if batch.status != ImportStatus.PREVIEWED.value:
        raise ImportRefused("Impor ini sudah diterapkan atau dibatalkan.")
    now_counts = plan.counts()
    if any(getattr(batch, name) != now_counts[name] for name in ("created", "updated", "unchanged", "skipped")):
        raise ImportRefused(
            "Data sudah berubah sejak pratinjau: berkas ini sekarang akan membuat {created}, memperbarui {updated}, "
            "tidak mengubah {unchanged} dan melewati {skipped} baris. Tidak ada yang ditulis; periksa berkas "
            "lagi untuk melihat pratinjau yang baru.".format(**now_counts))
    needing = plan.updates_needing_reason(session)
    if needing and reason_refusal(reason):
        raise ImportRefused(f"{needing} baris mengubah data berkas yang sudah diterima atau perusahaan/pemohonnya. "
                            + reason_refusal(reason))
    # Claim the batch with a guarded UPDATE: of two clicks on Terapkan, the second waits for the
    # first (SQLite: the write lock, taken up front; PostgreSQL: the row lock) and then finds it
    # applied, instead of writing the file twice.
    begin_immediate(session)
    claimed = session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.PREVIEWED.value)
        .values(status=ImportStatus.APPLIED.value, applied_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ImportRefused("Impor ini sudah diterapkan atau dibatalkan.")
    with changes_by(session, reason=reason or None, import_batch_id=batch.id):
        _write(session, plan, batch, now)
    batch.status = ImportStatus.APPLIED.value
    batch.applied_at = now


def _write(session: Session, plan: ImportPlan, batch: ImportBatch, now: dt.datetime) -> None:
    model = plan.spec.model
    creates = [row.values for row in plan.rows if row.action == CREATE]
    updates = [row for row in plan.rows if row.action == UPDATE]
    created_ids: list[int] = []
    if plan.spec.create is not None:
        created_ids = plan.spec.create(session, creates, batch.user_id)  # ORM: the listener keeps the trail
    else:
        created_ids = _insert(session, model.__table__, creates)
        record_rows(session, model, created_ids, AuditAction.CREATE, now, given=list(creates[0]) if creates else None)
    before = []
    if updates:
        spec = AUDITED[model]
        records = {r.id: r for r in session.scalars(select(model).where(model.id.in_([u.record_id for u in updates])))}
        before = [{"id": u.record_id, **{k: jsonable(getattr(records[u.record_id], k)) for k in u.values}} for u in updates]
        session.execute(update(model), [{"id": u.record_id, **u.values} for u in updates])
        write(session, [
            Change(spec.entity, u.record_id, AuditAction.UPDATE,
                   {k: [old[k], jsonable(v)] for k, v in u.values.items()},
                   getattr(records[u.record_id], spec.dossier_key) if spec.dossier_key else None)
            for u, old in zip(updates, before)
        ], now=now)
    if plan.spec.after_apply is not None:
        plan.spec.after_apply(session, creates)
    # The trail's last row of this import: a later row on one of its records is a later change.
    trail_until = session.scalar(select(func.max(AuditEntry.id)))
    batch.undo = {"created": created_ids, "updated": before, "trail_until": trail_until}

"""Taking an import back, the day it was applied, only while nothing it wrote has been touched
since: no staff work is ever destroyed by an undo. No Flask: the view calls these.

Touched means: a row it created is used by a record outside the import (a dossier naming an
imported company, a document or a move of an imported dossier beyond its own opening, a print),
or any row it created or updated was changed since (the audit trail shows a later change). Then
the undo is refused with the rows and why, and nothing changes.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.audit import AUDITED, Change, changes_by, record_rows, write
from app.audit.trail import jsonable
from app.changes import references
from app.imports.planning import CHUNK, ImportRefused
from app.imports.specs import ImportSpec
from app.models import AuditAction, AuditEntry, ImportBatch, ImportStatus, StageEvent
from app.sop.calendar import as_utc
from app.sop.intake import SUBMIT_ACTION

SHOWN = 20  # rows named in a refusal; the rest are counted


def touched_rows(session: Session, batch: ImportBatch, spec: ImportSpec) -> list[str]:
    """Why each row of the import may not be taken back any more (empty: it may)."""
    undo = batch.undo or {}
    created = list(undo.get("created") or [])
    updated = [row["id"] for row in undo.get("updated") or []]
    entity = AUDITED[spec.model].entity
    key = getattr(spec.model, spec.key)
    names = {}
    for start in range(0, len(created + updated), CHUNK):
        ids = (created + updated)[start : start + CHUNK]
        names |= dict(session.execute(select(spec.model.id, key).where(spec.model.id.in_(ids))).all())
    problems: list[str] = []
    # A dossier's own opening (its submit row) belongs to the import; anything else does not.
    used = references(session, spec.model.__table__.name, created, ignore={("stage_event", "dossier_id")})
    if entity == "dossier":
        for start in range(0, len(created), CHUNK):
            for dossier_id, moves in session.execute(
                select(StageEvent.dossier_id, func.count())
                .where(StageEvent.dossier_id.in_(created[start : start + CHUNK]), StageEvent.action != SUBMIT_ACTION)
                .group_by(StageEvent.dossier_id)
            ):
                used.setdefault(dossier_id, []).append(f"{moves} langkah SOP sesudah dibuka")
    for record_id in created:
        if record_id in used:
            problems.append(f"{names.get(record_id, record_id)}: dipakai oleh {'; '.join(str(u) for u in used[record_id])}")
    # A later change of any row it wrote: the trail after the import's own rows (none before an
    # import recorded where its rows end: then every row on its records came after it).
    last_own = undo.get("trail_until") or 0
    for start in range(0, len(created + updated), CHUNK):
        ids = (created + updated)[start : start + CHUNK]
        later = session.execute(
            select(AuditEntry.record_id, func.count())
            .where(AuditEntry.entity == entity, AuditEntry.record_id.in_(ids), AuditEntry.id > last_own)
            .group_by(AuditEntry.record_id)
        ).all()
        problems += [f"{names.get(record_id, record_id)}: diubah {count} kali sesudah impor" for record_id, count in later]
    return problems


def undo_batch(session: Session, batch: ImportBatch, spec: ImportSpec, now: dt.datetime, timezone: str) -> None:
    """Takes an import back on the day it was applied: restores updated rows, deletes created
    ones, each with its trail row; refused while any of them was touched since. The caller commits."""
    if batch.status != ImportStatus.APPLIED.value or batch.applied_at is None:
        raise ImportRefused("Hanya impor yang sudah diterapkan yang dapat dibatalkan.")
    applied = as_utc(batch.applied_at)
    zone = ZoneInfo(timezone)
    if applied.astimezone(zone).date() != now.astimezone(zone).date():
        raise ImportRefused("Impor hanya dapat dibatalkan pada hari yang sama dengan penerapannya.")
    problems = touched_rows(session, batch, spec)
    if problems:
        shown = "; ".join(problems[:SHOWN]) + (f"; dan {len(problems) - SHOWN} baris lain" if len(problems) > SHOWN else "")
        raise ImportRefused(f"Impor tidak dapat dibatalkan: {len(problems)} baris sudah dipakai atau diubah sesudah "
                            f"impor, dan pembatalan tidak menghapus pekerjaan petugas. {shown}.")
    with changes_by(session, reason=f"Pembatalan impor #{batch.id} ({batch.filename})", import_batch_id=batch.id):
        _take_back(session, batch, spec, now)
    batch.status = ImportStatus.UNDONE.value
    batch.undone_at = now


def _take_back(session: Session, batch: ImportBatch, spec: ImportSpec, now: dt.datetime) -> None:
    model, audited = spec.model, AUDITED[spec.model]
    undo = batch.undo or {}
    if undo.get("updated"):
        before = {row["id"]: row for row in undo["updated"]}
        # Each row's trail: as the import left it -> as it was. Built before the restoring UPDATE,
        # which also refreshes the rows loaded here.
        changes = [
            Change(audited.entity, record.id, AuditAction.UPDATE,
                   {k: [jsonable(getattr(record, k)), old] for k, old in before[record.id].items() if k != "id"},
                   getattr(record, audited.dossier_key) if audited.dossier_key else None)
            for record in session.scalars(select(model).where(model.id.in_(list(before))))
        ]
        session.execute(update(model), [_unjson(model, row) for row in undo["updated"]])
        write(session, changes, now=now)
    created = undo.get("created") or []
    if created:
        record_rows(session, model, created, AuditAction.DELETE, now)
    if spec.before_undo is not None and created:
        spec.before_undo(session, created)
    for start in range(0, len(created), CHUNK):
        session.execute(model.__table__.delete().where(model.id.in_(created[start : start + CHUNK])))
    if spec.after_undo is not None:
        spec.after_undo(session)


def _unjson(model: type, row: dict[str, Any]) -> dict[str, Any]:
    restored = dict(row)
    for name, value in row.items():
        column = model.__table__.columns.get(name)
        if value is not None and column is not None and column.type.python_type is dt.date:
            restored[name] = dt.date.fromisoformat(value)
    return restored

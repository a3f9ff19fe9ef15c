"""Attaching checked files to a dossier, and verifying them. No Flask: the views call these.

The file itself is checked and stored by app.uploads; here it becomes a Document row, with
the rules of the counter: one copy of the same file per dossier, and only the officer working
the dossier's current stage verifies.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import Change, write
from app.audit.trail import jsonable
from app.models import AuditAction, Document, Dossier, RequirementType, Stage
from app.sop.machine import FINAL_STATUSES
from app.uploads import StoredFile


class DocumentRefused(ValueError):
    """str(exc) is an Indonesian message for staff."""


@dataclass(frozen=True)
class Attached:
    document: Document
    # Other dossiers already holding the same bytes (the same file handed in for another case).
    also_in: tuple[str, ...]


def attach(
    session: Session, dossier: Dossier, requirement_id: int, stored: StoredFile, actor_id: int | None
) -> Attached:
    if dossier.status in FINAL_STATUSES:
        raise DocumentRefused("Berkas sudah selesai atau ditolak; dokumen tidak dapat ditambahkan.")
    requirement = session.get(RequirementType, requirement_id)
    if requirement is None or requirement.permit_type_id != dossier.permit_type_id:
        raise DocumentRefused("Persyaratan tidak dikenal untuk jenis izin berkas ini.")
    same = session.execute(
        select(Document.dossier_id, Document.original_filename, RequirementType.name, Dossier.receipt_number)
        .join(RequirementType, RequirementType.id == Document.requirement_type_id)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Document.sha256 == stored.sha256)
    ).all()
    for row in same:
        if row.dossier_id == dossier.id:
            raise DocumentRefused(
                f"Berkas yang sama sudah diunggah pada berkas ini sebagai '{row.original_filename}' ({row.name})."
            )
    document = Document(
        dossier_id=dossier.id, requirement_type_id=requirement.id, original_filename=stored.original_filename,
        storage_key=stored.storage_key, size_bytes=stored.size_bytes, sha256=stored.sha256,
        media_type=stored.media_type, uploaded_at=dt.datetime.now(dt.UTC), uploaded_by_id=actor_id,
    )
    session.add(document)
    session.flush()
    return Attached(document, tuple(sorted({row.receipt_number for row in same})))


def verify(
    session: Session, document: Document, roles: Iterable[str], actor_id: int | None, now: dt.datetime
) -> None:
    """Marks the document verified by this officer, now. Raises DocumentRefused with the reason."""
    dossier = session.get(Dossier, document.dossier_id)
    stage = session.get(Stage, dossier.stage_id)
    if document.verified_at is not None:
        raise DocumentRefused("Dokumen ini sudah diverifikasi.")
    if dossier.status in FINAL_STATUSES:
        raise DocumentRefused("Berkas sudah selesai atau ditolak; dokumen tidak dapat diverifikasi lagi.")
    if stage.role_name not in set(roles):
        raise DocumentRefused(
            f"Dokumen diverifikasi oleh petugas tahap {stage.name} ({stage.role_name}), bukan oleh peran Anda."
        )
    # Guarded: two officers verifying at once record one verification, not two.
    done = session.execute(
        update(Document)
        .where(Document.id == document.id, Document.verified_at.is_(None))
        .values(verified_at=now, verified_by_id=actor_id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise DocumentRefused("Dokumen ini sudah diverifikasi oleh petugas lain.")
    write(session, [Change("document", document.id, AuditAction.UPDATE, {
        "verified_at": [None, jsonable(now)], "verified_by_id": [None, actor_id],
    }, dossier.id)], now=now)
    session.expire(document)

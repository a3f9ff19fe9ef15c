"""What the public may learn without signing in. Each answer is a small dataclass: its fields
are the whole disclosure (no NIK, no address, no officer), so a template cannot leak more."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Company, Dossier, DossierStatus, Permit, PermitType, Stage


@dataclass(frozen=True)
class PermitCheck:
    number: str
    holder: str  # the company: a permit is public, and its holder is printed on it
    permit_type: str
    issued_on: dt.date
    valid_until: dt.date | None
    revoked: bool


@dataclass(frozen=True)
class DossierStatusCheck:
    receipt_number: str
    permit_type: str
    stage: str
    status: str  # DossierStatus value
    promised_at: dt.datetime | None


def check_permit(session: Session, token: str) -> PermitCheck | None:
    row = session.execute(
        select(Permit.number, Company.name, PermitType.name.label("type_name"), Permit.issued_on,
               Permit.valid_until, Permit.revoked_at)
        .join(Dossier, Dossier.id == Permit.dossier_id)
        .join(Company, Company.id == Dossier.company_id)
        .join(PermitType, PermitType.id == Permit.permit_type_id)
        .where(Permit.token == token)
    ).first()
    if row is None:
        return None
    return PermitCheck(row.number, row.name, row.type_name, row.issued_on, row.valid_until, row.revoked_at is not None)


def check_dossier(session: Session, receipt_number: str) -> DossierStatusCheck | None:
    row = session.execute(
        select(Dossier.receipt_number, PermitType.name.label("type_name"), Stage.name.label("stage_name"),
               Dossier.status, Dossier.due_at)
        .join(PermitType, PermitType.id == Dossier.permit_type_id)
        .join(Stage, Stage.id == Dossier.stage_id)
        .where(Dossier.receipt_number == receipt_number.strip().upper())
    ).first()
    if row is None:
        return None
    final = row.status in (DossierStatus.REJECTED.value, DossierStatus.ARCHIVED.value)
    return DossierStatusCheck(row.receipt_number, row.type_name, row.stage_name, row.status,
                              None if final else row.due_at)

"""What the public may learn without signing in. Each answer is a small dataclass: its fields
are the whole disclosure (no NIK, no address, no officer), so a template cannot leak more."""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.models import Dossier, DossierStatus, Permit, PermitType, Stage
from app.sop.calendar import as_utc


class PermitStanding(str, enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # valid_until is before today (office time)
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # revoked, and a corrected permit replaces it


@dataclass(frozen=True)
class PermitCheck:
    number: str
    holder: str  # the company as printed on the permit: a permit is public, and so is its holder
    permit_type: str
    issued_on: dt.date
    valid_until: dt.date | None
    standing: PermitStanding
    revoked_on: dt.date | None = None  # office date
    superseded_by: str | None = None  # the number of the permit that replaces this one
    superseded_by_token: str | None = None  # its verification page
    supersedes: str | None = None  # the number of the revoked permit this one replaces

    @property
    def stands(self) -> bool:
        return self.standing is PermitStanding.VALID


@dataclass(frozen=True)
class DossierStatusCheck:
    receipt_number: str
    permit_type: str
    stage: str
    status: str  # DossierStatus value
    promised_at: dt.datetime | None


def check_permit(session: Session, token: str, today: dt.date, tz: dt.tzinfo) -> PermitCheck | None:
    """What the permit printed (its snapshot, never today's records) and whether it still stands
    today: revoked, replaced by a correction, or past its validity."""
    successor, predecessor = aliased(Permit), aliased(Permit)
    row = session.execute(
        select(Permit.number, Permit.snapshot, Permit.issued_on, Permit.valid_until, Permit.revoked_at,
               successor.number.label("successor"), successor.token.label("successor_token"),
               predecessor.number.label("predecessor"))
        .outerjoin(successor, successor.supersedes_id == Permit.id)
        .outerjoin(predecessor, predecessor.id == Permit.supersedes_id)
        .where(Permit.token == token)
    ).first()
    if row is None:
        return None
    if row.successor is not None:
        standing = PermitStanding.SUPERSEDED
    elif row.revoked_at is not None:
        standing = PermitStanding.REVOKED
    elif row.valid_until is not None and row.valid_until < today:
        standing = PermitStanding.EXPIRED
    else:
        standing = PermitStanding.VALID
    printed = row.snapshot["paper"]
    revoked_on = as_utc(row.revoked_at).astimezone(tz).date() if row.revoked_at is not None else None
    return PermitCheck(row.number, printed["company_name"], printed["permit_type_name"], row.issued_on,
                       row.valid_until, standing, revoked_on, row.successor, row.successor_token, row.predecessor)


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

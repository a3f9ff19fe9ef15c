"""Opening a dossier: receipt number, first stage, promised date, first history row."""
from __future__ import annotations

import datetime as dt
import secrets

from app.models import Dossier, DossierStatus, PermitType, Stage, StageEvent
from app.sop.calendar import WorkingCalendar, as_utc

# Crockford base32: no I, L, O or U, so a number read over the phone is not misheard.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_RANDOM_LENGTH = 6

SUBMIT_ACTION = "submit"


def new_receipt_number(prefix: str, when: dt.datetime) -> str:
    """e.g. IPK-26-7F3K9Q: 32**6 (about a billion) possibilities per prefix and year."""
    tail = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_RANDOM_LENGTH))
    return f"{prefix}-{when:%y}-{tail}"


class NoStagesError(ValueError):
    pass


def open_dossier(
    dossier: Dossier,
    permit_type: PermitType,
    now: dt.datetime,
    calendar: WorkingCalendar,
    actor_id: int | None,
) -> Dossier:
    """Fills a new dossier's system fields and records its first history row."""
    now = as_utc(now)  # SQLite keeps no zone: every stored instant is UTC
    if not permit_type.stages:
        raise NoStagesError(permit_type.code)
    first_stage: Stage = min(permit_type.stages, key=lambda stage: stage.seq)
    dossier.permit_type = permit_type
    dossier.receipt_number = new_receipt_number(permit_type.receipt_prefix, now.astimezone(calendar.tz))
    dossier.stage = first_stage
    dossier.status = DossierStatus.IN_PROGRESS.value
    dossier.submitted_at = now
    dossier.due_at = calendar.due_at(now, permit_type.service_days)
    dossier.version = 1
    dossier.events.append(
        StageEvent(to_stage=first_stage, action=SUBMIT_ACTION, actor_id=actor_id, occurred_at=now)
    )
    return dossier

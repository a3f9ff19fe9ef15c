"""Revoking a permit (a Kepala Dinas decision with a reason) and correcting one: a new dossier,
opened from the revoked permit, whose permit will supersede it. No Flask: the views call these."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import Change, write
from app.audit.trail import jsonable
from app.models import AuditAction, Dossier, DossierStatus, Permit
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier


class RevocationRefused(ValueError):
    """str(exc) is an Indonesian message for staff."""


def revoke(session: Session, permit_id: int, reason: str | None, actor_id: int | None, now: dt.datetime) -> Permit:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise RevocationRefused("Alasan pencabutan wajib diisi (paling sedikit 10 huruf); alasan dicatat dan diarsipkan.")
    # Guarded: revoking twice keeps the first decision, its time and its reason.
    done = session.execute(
        update(Permit)
        .where(Permit.id == permit_id, Permit.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor_id, revocation_reason=reason)
        .execution_options(synchronize_session=False)
    )
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise RevocationRefused("Izin tidak ditemukan.")
    if done.rowcount != 1:
        raise RevocationRefused(f"Izin {permit.number} sudah dicabut sebelumnya.")
    write(session, [Change("permit", permit.id, AuditAction.UPDATE, {
        "revoked_at": [None, jsonable(now)], "revoked_by_id": [None, actor_id], "revocation_reason": [None, reason],
    }, permit.dossier_id, reason)], now=now)
    session.refresh(permit)
    return permit


class CorrectionRefused(ValueError):
    """str(exc) is an Indonesian message for staff."""


# What a correction may give anew, pre-filled from the revoked permit's dossier (the company's and
# the applicant's own data is corrected on their records).
CORRECTED_FIELDS = ("company_id", "applicant_id", "site_address", "site_area_m2", "vehicle_capacity")
# A correction in these states still stands for its permit: no second one is opened.
_OPEN_OR_ISSUED = (DossierStatus.IN_PROGRESS.value, DossierStatus.RETURNED.value, DossierStatus.ISSUED.value,
                   DossierStatus.ARCHIVED.value)


def correction_refusal(session: Session, permit: Permit) -> str | None:
    """Why no correction dossier may be opened for this permit now, or None."""
    if permit.revoked_at is None:
        return (f"Izin {permit.number} masih berlaku. Koreksi izin yang sudah terbit dimulai dengan pencabutan oleh "
                "Kepala Dinas, beserta alasannya.")
    taken = session.scalar(select(Dossier.receipt_number).where(
        Dossier.corrects_permit_id == permit.id, Dossier.status.in_(_OPEN_OR_ISSUED)))
    if taken:
        return f"Izin {permit.number} sudah memiliki berkas perbaikan {taken}."
    return None


def open_correction(
    session: Session,
    permit_id: int,
    changes: dict[str, object],
    now: dt.datetime,
    calendar: WorkingCalendar,
    actor_id: int | None,
) -> Dossier:
    """A new dossier of the revoked permit's type, with its company, applicant and site unless
    `changes` gives them anew: it goes through the SOP like any other, and its permit will
    supersede the revoked one. The caller commits."""
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise CorrectionRefused("Izin tidak ditemukan.")
    refusal = correction_refusal(session, permit)
    if refusal:
        raise CorrectionRefused(refusal)
    old = permit.dossier
    values = {key: changes.get(key, getattr(old, key)) for key in CORRECTED_FIELDS}
    note = (f"Berkas perbaikan atas izin {permit.number} (berkas {old.receipt_number}), dicabut dengan alasan: "
            f"{permit.revocation_reason}")
    extra = str(changes.get("notes") or "").strip()
    with session.no_autoflush:
        dossier = Dossier(corrects_permit_id=permit.id, notes=f"{note}\n{extra}" if extra else note, **values)
        open_dossier(dossier, old.permit_type, now, calendar, actor_id)
    session.add(dossier)
    session.flush()
    return dossier


"""Revoking a permit: a Kepala Dinas decision with a reason. No Flask: the view calls it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Permit


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
    session.refresh(permit)
    return permit

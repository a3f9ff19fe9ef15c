"""Shared set-up of the TTE web tests: the office trusts the test PKI, the Kepala Dinas holds its
signer certificate, and dossiers wait at the signing stage."""
from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import delete, select

from app.extensions import db
from app.models import PermitType, SigningCertificate
from app.signing import store_certificate
from app.tte import TrustSettings, sealing_key
from tests.factories import make_dossier

KADIS = "kepala_dinas"


def trust_test_pki(app: Flask, pki, monkeypatch) -> None:  # noqa: ANN001
    for key, value in pki.config.items():
        monkeypatch.setitem(app.config, key, value)


def give_certificate(app: Flask, pki, name: str = "signer") -> int:  # noqa: ANN001
    """The Kepala Dinas's account holds the test PKI's certificate `name`; its id."""
    user_id = app.appbuilder.sm.find_user(username=KADIS).id
    db.session.execute(delete(SigningCertificate).where(SigningCertificate.user_id == user_id))
    store_certificate(db.session, user_id, pki.p12(name), pki.PASSPHRASE,
                      trust=TrustSettings.from_config(app.config), key=sealing_key(app.config),
                      uploaded_by_id=None, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return user_id


def forget_certificates() -> None:
    db.session.execute(delete(SigningCertificate))
    db.session.commit()


def awaiting_signature(count: int, *, verified: bool = True) -> list[int]:
    """Dossiers at PENANDATANGANAN; with every mandatory requirement verified, the Kepala Dinas may advance."""
    permit = db.session.scalar(select(PermitType))
    mandatory = tuple(r.code for r in permit.requirements if r.is_mandatory) if verified else ()
    return [make_dossier(stage_code="PENANDATANGANAN", verified=mandatory).id for _ in range(count)]

"""Electronic signatures (TTE) of permits: each signer's certificate, kept encrypted, and the
signed PDF of a permit (app.tte signs and checks; the PDF's bytes are under the instance folder)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import account_fk
from app.models.base import Base

if TYPE_CHECKING:
    from app.models.issuance import Permit


class SigningCertificate(Base):
    """A signer's PKCS#12 file (key and certificate chain), uploaded by the administrator. Kept
    encrypted by Loket's key on top of the file's own passphrase, which the signer types at each
    signing and Loket never keeps. One per account: a new upload replaces it."""

    __tablename__ = "signing_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(account_fk(), unique=True)
    sealed_p12: Mapped[bytes] = mapped_column(LargeBinary)
    # Read from the certificate at upload, for the screens and the checks before signing.
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(100))
    not_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the certificate (DER)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by_id: Mapped[int | None] = mapped_column(account_fk())


class PermitSignature(Base):
    """The signed PDF of a permit: signed once, in the move out of the signing stage, and from then
    on the permit's file (what the applicant downloads and /verifikasi offers)."""

    __tablename__ = "permit_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id"), unique=True)
    storage_key: Mapped[str] = mapped_column(String(100))  # app.uploads' content-addressed name
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    signed_by_id: Mapped[int | None] = mapped_column(account_fk())
    signer_name: Mapped[str] = mapped_column(String(200))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    certificate_serial: Mapped[str] = mapped_column(String(100))
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    # PAdES baseline level reached: "B-B", or "B-LT" with a timestamp and revocation data.
    level: Mapped[str] = mapped_column(String(10))
    # The signer's chain as signed (PEM), to check an uploaded copy against the same certificates.
    chain_pem: Mapped[str] = mapped_column(Text)

    permit: Mapped[Permit] = relationship()

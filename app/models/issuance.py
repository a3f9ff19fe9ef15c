"""What issuing a permit leaves behind: the numbered permit, the number counters, the print log."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import Account, account_fk
from app.models.base import Base

if TYPE_CHECKING:
    from app.models.dossier import Dossier
    from app.models.permit import PermitType


class NumberCounter(Base):
    """The last number handed out per (series, year). Taken under a row lock (see app.sop.numbering)."""

    __tablename__ = "number_counter"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Permit(Base):
    """A permit as issued: its number, its public verification token, what it printed, and whether
    it still stands.

    Frozen from the moment it is numbered (triggers in app.models.guards refuse anything else):
    only a revocation may be added, once. A correction is a new dossier whose permit
    `supersedes` this one.
    """

    __tablename__ = "permit"
    __table_args__ = (UniqueConstraint("series", "year", "seq", name="uq_permit_series_year_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"), index=True)
    series: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_on: Mapped[dt.date] = mapped_column(Date)  # in the office's time zone
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    # Printed in the QR code; secrets.token_urlsafe, so it cannot be guessed from the number.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(account_fk())
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    # Everything the permit prints (holder, applicant, site, legal bases, signatory, dates,
    # letterhead), written with its number: a re-print and /verifikasi read this, never the
    # live rows (app.printing.permit_snapshot).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The revoked permit this one replaces (a correction); its reverse is superseded_by.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("permit.id"), unique=True)

    dossier: Mapped[Dossier] = relationship(foreign_keys=[dossier_id])
    permit_type: Mapped[PermitType] = relationship()
    revoked_by = relationship(Account)
    supersedes: Mapped[Permit | None] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id], back_populates="superseded_by"
    )
    superseded_by: Mapped[Permit | None] = relationship(
        foreign_keys=[supersedes_id], back_populates="supersedes", uselist=False, viewonly=True
    )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def holder_name(self) -> str:
        """The holder as the permit printed it (the company may have been renamed since)."""
        return self.snapshot["paper"]["company_name"]

    def __repr__(self) -> str:
        return self.number


class PrintLog(Base):
    """Every paper printed: which, for which dossier, by whom, when, and a hash of the bytes."""

    __tablename__ = "print_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    paper: Mapped[str] = mapped_column(String(30))
    printed_by_id: Mapped[int | None] = mapped_column(account_fk())
    printed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64))

    dossier: Mapped[Dossier] = relationship()
    printed_by = relationship(Account)

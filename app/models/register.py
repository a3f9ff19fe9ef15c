from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NEVER_REUSE_IDS, Base, prefix_index, trigram_index

if TYPE_CHECKING:
    from app.models.applicant import Applicant
    from app.models.company import Company
    from app.models.dossier import Dossier
    from app.models.permit import PermitType


class RegisterEntry(Base):
    """One line of the manual register book (Buku Register)."""

    __tablename__ = "register_entry"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_register_year_seq"),
        # The grid's default sort (newest line first) and its filter on the issue date.
        Index("ix_register_entry_date_id", "entry_date", "id"),
        Index("ix_register_entry_issue_date_id", "issue_date", "id"),
        # "Permit number starts with / contains" (the archivist's search).
        trigram_index("ix_register_entry_permit_number_trgm", "permit_number"),
        prefix_index("ix_register_entry_permit_number_prefix", "permit_number"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    register_number: Mapped[str] = mapped_column(String(60), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    # None for a line copied from the paper register of the years before Loket (imported).
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"), unique=True)
    permit_number: Mapped[str] = mapped_column(String(80), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id"), index=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"), index=True)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    book_page: Mapped[int | None] = mapped_column(Integer)
    book_line: Mapped[int | None] = mapped_column(Integer)
    archive_box: Mapped[str | None] = mapped_column(String(40))
    archive_shelf: Mapped[str | None] = mapped_column(String(40))

    dossier: Mapped[Dossier | None] = relationship()
    company: Mapped[Company] = relationship()
    applicant: Mapped[Applicant] = relationship()
    permit_type: Mapped[PermitType] = relationship()

    def __repr__(self) -> str:
        return self.register_number

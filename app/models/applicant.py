from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import account_fk
from app.models.base import NEVER_REUSE_IDS, Base, prefix_index, trigram_index

if TYPE_CHECKING:
    from app.models.company import Company
    from app.models.dossier import Dossier


class Applicant(Base):
    __tablename__ = "applicant"
    # The grid sorts by position, then id; its name search is "contains".
    __table_args__ = (
        # The default sort; a page of ids reads this index alone, even when the planner walks it
        # past thousands of names a "starts with" skips (an index-only scan, no row visited).
        Index("ix_applicant_full_name_id", "full_name", "id"),
        Index("ix_applicant_position_id", "position", "id"),
        trigram_index("ix_applicant_full_name_trgm", "full_name"),
        prefix_index("ix_applicant_full_name_prefix", "full_name"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(150))
    nik: Mapped[str] = mapped_column(String(16), unique=True)
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    position: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    # The applicant's own portal account (Pemohon), once its e-mail was verified: it sees this
    # person's dossiers. Set when the account registers or when its NIK and e-mail match.
    account_id: Mapped[int | None] = mapped_column(account_fk(), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    company: Mapped[Company | None] = relationship(back_populates="applicants")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="applicant")

    def __repr__(self) -> str:
        return self.full_name

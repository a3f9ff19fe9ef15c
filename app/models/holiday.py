"""Days the office is closed by local decision (e.g. a Bupati's circular), on top of national holidays."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NEVER_REUSE_IDS, Base


class LocalHoliday(Base):
    __tablename__ = "local_holiday"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(150))
    note: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"

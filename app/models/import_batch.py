"""One spreadsheet import: who, when, which file, what it did, and how to undo it."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import Account, account_fk
from app.models.base import Base


class ImportStatus(str, enum.Enum):
    PREVIEWED = "previewed"  # uploaded and checked; nothing written yet
    APPLIED = "applied"
    UNDONE = "undone"


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(account_fk(), index=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.PREVIEWED.value)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # Rows read past on purpose, e.g. an extract's applications already finished elsewhere.
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What undo needs: ids created, and the previous values of the rows updated.
    undo: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user = relationship(Account)

    def __repr__(self) -> str:
        return f"{self.entity} {self.filename}"

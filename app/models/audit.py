"""The audit trail: every create, update and delete of the office's records, with who, when,
from where and why. Rows are only ever inserted (app.models.guards refuses UPDATE and DELETE in
the database itself; no view or API offers either)."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import Account, account_fk
from app.models.base import Base, BigId


class AuditAction(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MOVE = "move"  # a dossier moved through its SOP (its StageEvent holds the move itself)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    # As few indexes as the pages need: every import writes a row per record. A record's page and
    # an undo read by record; a dossier's page by dossier (most rows have none: left out); the
    # grid by time.
    __table_args__ = (
        Index("ix_audit_log_record", "entity", "record_id", "id"),
        Index("ix_audit_log_dossier", "dossier_id", "id", sqlite_where=text("dossier_id IS NOT NULL"),
              postgresql_where=text("dossier_id IS NOT NULL")),
        # The grid's sorts by officer and by action, then by id.
        Index("ix_audit_log_actor_name_id", "actor_name", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The account, and its name as it was then (an account renamed later keeps its past).
    actor_id: Mapped[int | None] = mapped_column(account_fk())
    actor_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP address
    origin: Mapped[str] = mapped_column(String(20))  # web, api, import, job, cli, system
    entity: Mapped[str] = mapped_column(String(40))  # the table: company, dossier, ab_user ...
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    # The dossier the record belongs to, for the dossier's timeline (no foreign key: the trail
    # outlives an undone import's dossiers).
    dossier_id: Mapped[int | None] = mapped_column(Integer)
    # create: {field: new}; delete: {field: old}; update and move: {field: [old, new]}.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    actor = relationship(Account)

    def __repr__(self) -> str:
        return f"{self.entity} {self.record_id} {self.action}"

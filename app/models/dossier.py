from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import Account, account_fk
from app.models.base import NEVER_REUSE_IDS, Base, prefix_index, trigram_index

if TYPE_CHECKING:
    from app.models.applicant import Applicant
    from app.models.company import Company
    from app.models.issuance import Permit
    from app.models.permit import PermitType, RequirementType, Stage


class DossierStatus(str, enum.Enum):
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"
    REJECTED = "rejected"
    ISSUED = "issued"
    ARCHIVED = "archived"


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (
        # The grid's default sort, and the same sort within one stage or status.
        Index("ix_dossier_submitted", "submitted_at", "id"),
        Index("ix_dossier_stage_submitted", "stage_id", "submitted_at", "id"),
        Index("ix_dossier_status_submitted", "status", "submitted_at", "id"),
        # The grid's other sorts, then by id (the due-date filters use the first too).
        Index("ix_dossier_due_id", "due_at", "id"),
        Index("ix_dossier_status_id", "status", "id"),
        # The work queues (app.sop.worklist): a role's open dossiers at its stages, by promise.
        Index("ix_dossier_status_stage_due", "status", "stage_id", "due_at", "id"),
        # The office's at-risk list (app.alerts) and the grid's overdue filter by promise: the
        # dossiers in progress in promise order, without walking the archived ones.
        Index("ix_dossier_status_due_id", "status", "due_at", "id"),
        # "Receipt number contains".
        trigram_index("ix_dossier_receipt_number_trgm", "receipt_number"),
        prefix_index("ix_dossier_receipt_number_prefix", "receipt_number"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    status: Mapped[str] = mapped_column(String(20), default=DossierStatus.IN_PROGRESS.value)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)
    # The site the permit is for (for SOP 76: the vehicle pool), printed on the BAP and the permit.
    site_address: Mapped[str | None] = mapped_column(String(300))
    site_area_m2: Mapped[int | None] = mapped_column(Integer)
    vehicle_capacity: Mapped[int | None] = mapped_column(Integer)
    # Opened by the applicant on the portal (app.portal), not at the counter: the applicant's own
    # steps (Stage.online_event) are recorded from the applicant's events.
    submitted_online: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # A returned dossier whose applicant sent the missing papers from the portal: the Front Office
    # sees it is ready to resume. Cleared by the resume.
    resubmitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped by every stage move; a guarded UPDATE checks it (optimistic locking).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A correction: the revoked permit this dossier's permit will replace (Permit.supersedes).
    corrects_permit_id: Mapped[int | None] = mapped_column(ForeignKey("permit.id", use_alter=True), index=True)

    permit_type: Mapped[PermitType] = relationship()
    company: Mapped[Company] = relationship(back_populates="dossiers")
    applicant: Mapped[Applicant] = relationship(back_populates="dossiers")
    stage: Mapped[Stage] = relationship()
    documents: Mapped[list[Document]] = relationship(back_populates="dossier")
    events: Mapped[list[StageEvent]] = relationship(
        back_populates="dossier", order_by="StageEvent.occurred_at"
    )
    corrects_permit: Mapped[Permit | None] = relationship(foreign_keys=[corrects_permit_id])

    def __repr__(self) -> str:
        return self.receipt_number


class Document(Base):
    __tablename__ = "document"
    # The grid's default sort (newest upload first) and its filter on verification time.
    __table_args__ = (
        Index("ix_document_uploaded_id", "uploaded_at", "id"),
        Index("ix_document_verified_id", "verified_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    requirement_type_id: Mapped[int] = mapped_column(ForeignKey("requirement_type.id"))
    original_filename: Mapped[str] = mapped_column(String(255))
    # Server-generated name (content hash) under the instance folder.
    storage_key: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(40), server_default="application/pdf")
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    uploaded_by_id: Mapped[int | None] = mapped_column(account_fk())
    verified_by_id: Mapped[int | None] = mapped_column(account_fk())
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    dossier: Mapped[Dossier] = relationship(back_populates="documents")
    requirement_type: Mapped[RequirementType] = relationship()
    uploaded_by = relationship(Account, foreign_keys=[uploaded_by_id])
    verified_by = relationship(Account, foreign_keys=[verified_by_id])

    def __repr__(self) -> str:
        return self.original_filename


class StageEvent(Base):
    """History of a dossier. Rows are only ever inserted."""

    __tablename__ = "stage_event"
    # The history grid's default sort (newest first) and its filter on time.
    __table_args__ = (
        Index("ix_stage_event_occurred_id", "occurred_at", "id"),
        # Its filter on the action (returns, rejections are a few percent of the rows): the
        # capped count and the page read only those, newest first.
        Index("ix_stage_event_action_occurred_id", "action", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id"))
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id"))
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(account_fk())
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    dossier: Mapped[Dossier] = relationship(back_populates="events")
    from_stage: Mapped[Stage | None] = relationship(foreign_keys=[from_stage_id])
    to_stage: Mapped[Stage | None] = relationship(foreign_keys=[to_stage_id])
    actor = relationship(Account)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(StageEvent, "before_update")
@event.listens_for(StageEvent, "before_delete")
def _refuse_history_rewrite(mapper, connection, target) -> None:  # noqa: ANN001
    raise AppendOnlyError("StageEvent rows are append-only")

"""The SOP as rows: a permit type, its ordered stages and its requirements."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base
from app.sop.number_format import DEFAULT_PERMIT_NUMBER_FORMAT


class PermitType(Base):
    __tablename__ = "permit_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sop_number: Mapped[str] = mapped_column(String(20))
    # Prefix of receipt numbers, e.g. IPK -> IPK-26-7F3K9Q.
    receipt_prefix: Mapped[str] = mapped_column(String(6))
    legal_bases: Mapped[list[str]] = mapped_column(JSON, default=list)
    executor_qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    equipment: Mapped[list[str]] = mapped_column(JSON, default=list)
    related_sops: Mapped[list[str]] = mapped_column(JSON, default=list)
    recording: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_days: Mapped[int] = mapped_column(Integer)
    fee: Mapped[Any] = mapped_column(Numeric(14, 2), default=0)
    output_document: Mapped[str] = mapped_column(String(200))
    validity_months: Mapped[int | None] = mapped_column(Integer)
    # Python format with {seq}, {year} and {prefix} (see app.sop.number_format).
    permit_number_format: Mapped[str] = mapped_column(String(120), server_default=DEFAULT_PERMIT_NUMBER_FORMAT)
    source_file: Mapped[str | None] = mapped_column(String(200))
    # Hash of the loaded file: loading the same file again changes nothing.
    source_hash: Mapped[str | None] = mapped_column(String(64))

    stages: Mapped[list[Stage]] = relationship(
        back_populates="permit_type", order_by="Stage.seq", cascade="all, delete-orphan"
    )
    requirements: Mapped[list[RequirementType]] = relationship(
        back_populates="permit_type", order_by="RequirementType.seq", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return self.name


class Stage(Base):
    __tablename__ = "stage"
    __table_args__ = (
        UniqueConstraint("permit_type_id", "code", name="uq_stage_code"),
        UniqueConstraint("permit_type_id", "seq", name="uq_stage_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    activity: Mapped[str | None] = mapped_column(Text)
    # Name of the Loket role that works this stage (see app.security.roles).
    role_name: Mapped[str] = mapped_column(String(64))
    # Who acts in the SOP's own words (e.g. Pemohon for the applicant's steps).
    actor: Mapped[str] = mapped_column(String(64))
    time_standard_minutes: Mapped[int] = mapped_column(Integer)
    time_standard_text: Mapped[str] = mapped_column(String(40))
    inputs: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    is_applicant_step: Mapped[bool] = mapped_column(Boolean, default=False)
    # True for steps the office added after the SOP text ends (steps 7-15 of SOP 76).
    is_office_continuation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Entering this stage numbers the permit and writes its register line (one transaction).
    issues_permit: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Leaving this stage (the permit handed over) invites the applicant to the SKM survey (app.survey).
    invites_survey: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The applicant's own event that does this step for a dossier opened on the portal
    # (account_verified, signed_in, data_filled; app.portal): recorded as the applicant's, not a clerk's.
    online_event: Mapped[str | None] = mapped_column(String(20))
    # Dossier fields this stage needs before it can be left (names, see app.sop.guards).
    required_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Who may reject a dossier here (None: nobody); the loader allows it only before numbering.
    reject_role: Mapped[str | None] = mapped_column(String(64))
    # Who takes a dossier returned at this stage back from the applicant.
    resume_role: Mapped[str] = mapped_column(String(64))

    permit_type: Mapped[PermitType] = relationship(back_populates="stages")

    def __repr__(self) -> str:
        return f"{self.seq}. {self.name}"


class RequirementType(Base):
    __tablename__ = "requirement_type"
    __table_args__ = (UniqueConstraint("permit_type_id", "code", name="uq_requirement_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    is_mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    # Must be present and verified before the dossier leaves this stage.
    due_stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    # Set when the requirement joined an SOP that already had dossiers: one that had left its due
    # stage by then is not asked for it afterwards (app.sop.guards).
    required_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    permit_type: Mapped[PermitType] = relationship(back_populates="requirements")
    due_stage: Mapped[Stage] = relationship()

    def __repr__(self) -> str:
        return self.name

"""A report made in the background by the job queue (app.jobs), with its progress and its file."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import Account, account_fk
from app.models.base import Base


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)


def describe_parameters(parameters: dict[str, Any]) -> str:
    """A job's parameters as staff read them: "November 2026", "Tahun 2026", a date range."""
    if "view" in parameters:
        return str(parameters.get("title") or parameters["view"])
    if "filter" in parameters:
        return "Sesuai filter daftar berkas"
    if "month" in parameters:
        return f"{MONTHS[int(parameters['month']) - 1]} {parameters['year']}"
    if "date_from" in parameters:
        return f"{parameters['date_from']} s.d. {parameters['date_to']}"
    if "year" in parameters:
        return f"Tahun {parameters['year']}"
    return ""


class ReportJob(Base):
    __tablename__ = "report_job"
    __table_args__ = (Index("ix_report_job_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(account_fk(), index=True)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # A running job's worker writes this with its progress; a stale one means the worker died.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Name under instance/reports/, set only once the file is complete; None after purging.
    result_file: Mapped[str | None] = mapped_column(String(200))
    result_name: Mapped[str | None] = mapped_column(String(200))  # the name the download gets
    result_bytes: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    requested_by = relationship(Account)

    @property
    def description(self) -> str:
        return describe_parameters(self.parameters or {})

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE.value:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    def __repr__(self) -> str:
        return f"{self.kind} #{self.id}"

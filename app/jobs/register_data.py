"""The rows of the monthly Excel register, read from the database in chunks (memory stays flat).

Lama proses is working time (office hours, working days, pauses while returned to the applicant
left out) from receipt to the permit's issue, or to rejection, or to now while still running;
tepat waktu compares that end with the dossier's promise (due_at, already pushed by resumes).
The summary sheet counts every finished stage visit of the same dossiers against its stage's
time standard.
"""
from __future__ import annotations

import datetime as dt
import statistics
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.alerts import is_past_sla
from app.labels import DOSSIER_STATUSES, translated
from app.models import Applicant, Company, Dossier, DossierStatus, Permit, PermitType, Stage, StageEvent
from app.sop.calendar import WorkingCalendar, as_utc, next_month
from app.sop.machine import Action
from app.sop.sla import StageEventLike, return_pauses, stage_durations, working_minutes
from reports.excel_register import RegisterRow, StageSummary

CHUNK = 2000


def month_bounds(year: int, month: int, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[first instant, first instant of the next month) of a calendar month in the office's zone, in UTC."""
    zone = ZoneInfo(timezone)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime.combine(next_month(dt.date(year, month, 1)), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def received_in(year: int, month: int, timezone: str) -> Select:
    start, end = month_bounds(year, month, timezone)
    return (
        select(Dossier.id)
        .where(Dossier.submitted_at >= start, Dossier.submitted_at < end)
        .order_by(Dossier.submitted_at, Dossier.id)
    )


def issued_in(year: int, month: int) -> Select:
    first = dt.date(year, month, 1)
    after = next_month(first)
    return (
        select(Permit.dossier_id)
        .where(Permit.issued_on >= first, Permit.issued_on < after)
        .order_by(Permit.issued_at, Permit.id)
    )


@dataclass
class SummaryCollector:
    """Finished stage visits per (permit type, stage), as compact arrays of working minutes."""

    minutes: dict[int, array] = field(default_factory=dict)
    stages: dict[int, tuple[str, int, str, int, str]] = field(default_factory=dict)

    def add(self, stage_id: int, spent: int) -> None:
        self.minutes.setdefault(stage_id, array("i")).append(spent)

    def rows(self) -> Iterator[StageSummary]:
        ordered = sorted(self.minutes, key=lambda s: (self.stages[s][0], self.stages[s][1]))
        for stage_id in ordered:
            permit_type, seq, name, standard, standard_text = self.stages[stage_id]
            spent = self.minutes[stage_id]
            within = sum(1 for m in spent if m <= standard)
            yield StageSummary(
                permit_type=permit_type, stage_seq=seq, stage=name, count=len(spent),
                median_minutes=float(statistics.median(spent)), standard_minutes=standard,
                standard_text=standard_text, on_time_pct=100.0 * within / len(spent),
            )


def register_rows(
    session: Session,
    population: Select,
    calendar: WorkingCalendar,
    timezone: str,
    now: dt.datetime,
    summary: SummaryCollector,
    progress: Callable[[int, int | None], None],
) -> tuple[int, Iterator[RegisterRow]]:
    """(how many rows, the rows in the population's order). Reads CHUNK dossiers at a time."""
    ids = list(session.scalars(population))
    for stage_id, type_name, seq, name, standard, text in session.execute(
        select(Stage.id, PermitType.name, Stage.seq, Stage.name, Stage.time_standard_minutes,
               Stage.time_standard_text).join(PermitType, PermitType.id == Stage.permit_type_id)
    ):
        summary.stages[stage_id] = (type_name, seq, name, standard, text)
    progress(0, len(ids))

    def rows() -> Iterator[RegisterRow]:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            yield from _chunk_rows(session, chunk, calendar, timezone, now, summary)
            progress(min(start + CHUNK, len(ids)), None)

    return len(ids), rows()


def histories(session: Session, ids: Sequence[int]) -> dict[int, list[Row]]:
    """Each dossier's history in time order, as rows of the columns the clock reads (StageEventLike).

    Plain tuples from a Core select on the session's connection, not StageEvent objects (nor the
    ORM's row loading, which a session.execute adds): a busy month has over a million events,
    and building ORM objects for them took longer than the clock itself.
    """
    events: dict[int, list[Row]] = {}
    for event in session.connection().execute(
        select(StageEvent.dossier_id, StageEvent.occurred_at, StageEvent.action, StageEvent.from_stage_id,
               StageEvent.to_stage_id)
        .where(StageEvent.dossier_id.in_(ids)).order_by(StageEvent.occurred_at, StageEvent.id)
    ).all():
        events.setdefault(event.dossier_id, []).append(event)
    return events


def _chunk_rows(
    session: Session, ids: Sequence[int], calendar: WorkingCalendar, timezone: str, now: dt.datetime,
    summary: SummaryCollector,
) -> Iterator[RegisterRow]:
    zone = ZoneInfo(timezone)
    statuses = translated(DOSSIER_STATUSES)  # in the job's locale (app.jobs.runner)
    events = histories(session, ids)
    found = {
        row.id: row for row in session.connection().execute(
            select(Dossier.id, Dossier.receipt_number, Dossier.submitted_at, Dossier.due_at, Dossier.status,
                   Applicant.full_name, Applicant.nik, Company.name.label("company"), Company.nib, Company.npwp,
                   PermitType.name.label("permit_type"), Stage.name.label("stage"),
                   Permit.number, Permit.issued_on, Permit.issued_at)
            .join(Applicant, Applicant.id == Dossier.applicant_id)
            .join(Company, Company.id == Dossier.company_id)
            .join(PermitType, PermitType.id == Dossier.permit_type_id)
            .join(Stage, Stage.id == Dossier.stage_id)
            .outerjoin(Permit, Permit.dossier_id == Dossier.id)
            .where(Dossier.id.in_(ids))
        ).all()
    }
    for dossier_id in ids:
        row = found[dossier_id]
        history = events.get(dossier_id, [])
        pauses = return_pauses(history)
        for visit in stage_durations(calendar, history, now, pauses=pauses):
            if visit.left_at is not None:
                summary.add(visit.stage_id, visit.working_minutes)
        end = _finished_at(row, history)
        submitted = as_utc(row.submitted_at)
        spent = working_minutes(calendar, submitted, end or now, pauses)
        yield RegisterRow(
            received_on=submitted.astimezone(zone).date(),
            receipt_number=row.receipt_number,
            applicant_name=row.full_name,
            applicant_nik=row.nik,
            company_name=row.company,
            nib=row.nib,
            npwp=row.npwp,
            permit_type=row.permit_type,
            stage=row.stage,
            status=statuses.get(row.status, row.status),
            permit_number=row.number,
            issued_on=row.issued_on,
            working_days=round(spent / calendar.day_minutes, 1),
            on_time=None if end is None or row.due_at is None else end <= as_utc(row.due_at),
            past_sla=is_past_sla(row.status, row.due_at, _last_return(history), now),
        )


def _last_return(history: Sequence[StageEventLike]) -> dt.datetime | None:
    returns = [e.occurred_at for e in history if e.action == Action.RETURN.value]
    return returns[-1] if returns else None


def _finished_at(row, history: Sequence[StageEventLike]) -> dt.datetime | None:  # noqa: ANN001
    """When the service ended: the permit's issue, or the rejection; None while it runs."""
    if row.issued_at is not None:
        return as_utc(row.issued_at)
    if row.status == DossierStatus.REJECTED.value:
        rejected = [e for e in history if e.action == Action.REJECT.value]
        return as_utc(rejected[-1].occurred_at) if rejected else None
    return None

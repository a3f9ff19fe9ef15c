"""A user's work: the dossiers at the stages their roles work, the promise that runs out first on top.

Plain SQLAlchemy, no Flask: roles come in as names, time as `now` with the office calendar. Each
piece is one statement served by ix_dossier_status_stage_due (status, stage_id, due_at, id): the
counts read that index alone, a page of rows reads only the rows of the stages asked for, so a
home page costs the same at a thousand dossiers as at a million. queue_select() is the ordering
itself, for callers that want the next dossier rather than a page (app.sop.queue).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from app.models import Company, Dossier, DossierStatus, PermitType, Stage, StageEvent
from app.sop.calendar import WorkingCalendar, as_utc
from app.sop.sla import RETURN_ACTION, clock

IN_PROGRESS = DossierStatus.IN_PROGRESS.value
RETURNED = DossierStatus.RETURNED.value
# Work left for a stage's role: an issued permit is still printed, handed over and archived.
OPEN_STATUSES = (IN_PROGRESS, DossierStatus.ISSUED.value)


@dataclass(frozen=True)
class StageInfo:
    id: int
    seq: int
    code: str
    name: str
    permit_type: str
    role_name: str
    resume_role: str


@dataclass(frozen=True)
class WorkStages:
    """Stage ids a set of roles works (Stage.role_name), and those whose returned dossiers it
    takes back from the applicant (Stage.resume_role)."""

    work: tuple[int, ...]
    resume: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.work or self.resume)


@dataclass(frozen=True)
class StageCount:
    stage: StageInfo
    open: int  # in progress or issued: work left at this stage
    overdue: int  # in progress, past its promise
    due_today: int  # in progress, promise runs out later today (office time zone)
    returned: int  # with the applicant, to be taken back at this stage

    @property
    def on_time(self) -> int:
        return self.open - self.overdue - self.due_today


@dataclass(frozen=True)
class QueueRow:
    id: int
    receipt_number: str
    company: str
    stage: StageInfo
    status: str
    submitted_at: dt.datetime
    due_at: dt.datetime | None
    returned_at: dt.datetime | None  # the last return, for a returned dossier
    minutes_left: int | None  # working minutes (negative: late); None when no clock runs
    overdue: bool
    due_today: bool


def all_stages(session: Session) -> list[StageInfo]:
    """Every stage of every SOP, in reading order (permit type, then step)."""
    rows = session.execute(
        select(Stage.id, Stage.seq, Stage.code, Stage.name, PermitType.name, Stage.role_name, Stage.resume_role)
        .join(PermitType, Stage.permit_type_id == PermitType.id)
        .order_by(PermitType.name, Stage.seq)
    ).all()
    return [StageInfo(*row) for row in rows]


def work_stages(stages: Iterable[StageInfo], roles: Collection[str]) -> WorkStages:
    stages = list(stages)
    return WorkStages(
        work=tuple(s.id for s in stages if s.role_name in roles),
        resume=tuple(s.id for s in stages if s.resume_role in roles),
    )


def as_stored(session: Session, instant: dt.datetime) -> dt.datetime:
    """An instant as the database compares it: SQLite stores naive UTC, PostgreSQL knows zones."""
    instant = as_utc(instant)
    return instant.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else instant


def today_bounds(calendar: WorkingCalendar, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(now, the start of tomorrow in the office's time zone), both UTC: 'due today' lies between."""
    tomorrow = calendar.local_date(now) + dt.timedelta(days=1)
    return as_utc(now), as_utc(dt.datetime.combine(tomorrow, dt.time(), tzinfo=calendar.tz))


def _overdue(now: dt.datetime):  # noqa: ANN202 - a SQL condition
    # As the grid's "Terlambat" filter: a returned dossier's clock stands still, an issued one kept its promise.
    return and_(Dossier.status == IN_PROGRESS, Dossier.due_at < now)


def _due_today(now: dt.datetime, tomorrow: dt.datetime):  # noqa: ANN202
    return and_(Dossier.status == IN_PROGRESS, Dossier.due_at >= now, Dossier.due_at < tomorrow)


def _where(scope: WorkStages | None):  # noqa: ANN202
    """Open work at the scope's work stages, returned dossiers at its resume stages; None: office-wide."""
    if scope is None:
        return Dossier.status.in_((*OPEN_STATUSES, RETURNED))
    parts = []
    if scope.work:
        parts.append(and_(Dossier.status.in_(OPEN_STATUSES), Dossier.stage_id.in_(scope.work)))
    if scope.resume:
        parts.append(and_(Dossier.status == RETURNED, Dossier.stage_id.in_(scope.resume)))
    return or_(*parts) if parts else false()


def stage_counts(
    session: Session,
    calendar: WorkingCalendar,
    now: dt.datetime,
    stages: Sequence[StageInfo],
    scope: WorkStages | None = None,
) -> list[StageCount]:
    """Per stage of `stages` (in that order) that has any work in scope: open, overdue, due today
    and returned dossiers, in one GROUP BY. scope None: every stage, office-wide."""
    start, tomorrow = (as_stored(session, t) for t in today_bounds(calendar, now))
    def one(condition):  # noqa: ANN001, ANN202 - how many rows of the group meet the condition
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            Dossier.stage_id,
            one(Dossier.status.in_(OPEN_STATUSES)),
            one(_overdue(start)),
            one(_due_today(start, tomorrow)),
            one(Dossier.status == RETURNED),
        )
        .where(_where(scope))
        .group_by(Dossier.stage_id)
    ).all()
    found = {row[0]: [int(n or 0) for n in row[1:]] for row in rows}
    return [StageCount(stage, *found[stage.id]) for stage in stages if stage.id in found]


def queue_select(stage_ids: Collection[int], statuses: Collection[str] = OPEN_STATUSES) -> Select:
    """SELECT Dossier.id of the work at these stages, the promise that runs out first on top
    (no promise last, then oldest id). Add .where() or .limit() to taste."""
    return (
        select(Dossier.id)
        .where(Dossier.status.in_(tuple(statuses)), Dossier.stage_id.in_(tuple(stage_ids)))
        .order_by(Dossier.due_at.asc().nulls_last(), Dossier.id)
    )


def _rows(
    session: Session, ids: Select, calendar: WorkingCalendar, now: dt.datetime, stages: dict[int, StageInfo],
) -> list[QueueRow]:
    """The page of dossiers `ids` selects (ordered, limited), with their company and SLA marks."""
    page = ids.subquery()
    last_return = (
        select(func.max(StageEvent.occurred_at))
        .where(StageEvent.dossier_id == Dossier.id, StageEvent.action == RETURN_ACTION)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Dossier.id, Dossier.receipt_number, Company.name, Dossier.stage_id, Dossier.status,
            Dossier.submitted_at, Dossier.due_at, case((Dossier.status == RETURNED, last_return)),
        )
        .join(page, page.c.id == Dossier.id)
        .join(Company, Company.id == Dossier.company_id)
        .order_by(Dossier.due_at.asc().nulls_last(), Dossier.id)
    ).all()
    now, tomorrow = today_bounds(calendar, now)
    clocks: dict[tuple, tuple[int, bool]] = {}  # dossiers of one day share a due time
    result = []
    for id_, receipt, company, stage_id, status, submitted, due, returned_at in rows:
        minutes, late, today_due = None, False, False
        if due is not None and status in (IN_PROGRESS, RETURNED):
            key = (due, returned_at)
            if key not in clocks:
                clocks[key] = clock(calendar, due, now, [(returned_at, None)] if returned_at else [])
            minutes, late = clocks[key]
            if status == IN_PROGRESS:
                # The marks as the counts and the grid's filters draw them, so a count and its rows agree.
                late, today_due = as_utc(due) < now, now <= as_utc(due) < tomorrow
        result.append(QueueRow(id_, receipt, company, stages[stage_id], status, submitted, due, returned_at,
                               minutes, late, today_due))
    return result


def queue_rows(
    session: Session, calendar: WorkingCalendar, now: dt.datetime, stages: Sequence[StageInfo],
    stage_ids: Collection[int], limit: int,
) -> list[QueueRow]:
    """The first `limit` dossiers of the work at these stages (queue_select's order)."""
    if not stage_ids:
        return []
    return _rows(session, queue_select(stage_ids).limit(limit), calendar, now, {s.id: s for s in stages})


def returned_rows(
    session: Session, calendar: WorkingCalendar, now: dt.datetime, stages: Sequence[StageInfo],
    stage_ids: Collection[int], limit: int,
) -> list[QueueRow]:
    """The first `limit` dossiers returned to the applicant at these stages, oldest promise first."""
    if not stage_ids:
        return []
    ids = queue_select(stage_ids, (RETURNED,)).limit(limit)
    return _rows(session, ids, calendar, now, {s.id: s for s in stages})


def overdue_rows(
    session: Session, calendar: WorkingCalendar, now: dt.datetime, stages: Sequence[StageInfo], limit: int,
) -> list[QueueRow]:
    """The first `limit` overdue dossiers of the whole office, the longest overdue first."""
    ids = (
        select(Dossier.id)
        .where(_overdue(as_stored(session, now)))
        .order_by(Dossier.due_at.asc().nulls_last(), Dossier.id)
        .limit(limit)
    )
    return _rows(session, ids, calendar, now, {s.id: s for s in stages})

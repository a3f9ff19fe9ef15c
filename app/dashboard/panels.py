"""The figures of the supervisors' dashboard, each panel one or two statements.

Live where the answer is small and indexed (the dossiers open now, by stage and SLA state: the
work-queue index); from the daily tallies (app.dashboard.tallies) for anything over months.
Plain SQLAlchemy; no Flask. Links and labels are the view's business.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.alerts import due_soon_condition, due_soon_horizon
from app.models import Account, DashboardTally, Dossier, DossierStatus, Stage, TallyMeasure
from app.models.account import ACCOUNT_ROLE_TABLE, ACCOUNT_TABLE, ROLE_TABLE
from app.sop.calendar import WorkingCalendar, next_month
from app.sop.worklist import OPEN_STATUSES, StageInfo, as_stored

IN_PROGRESS = DossierStatus.IN_PROGRESS.value
RETURNED = DossierStatus.RETURNED.value
MONTHS_SHOWN = 12


@dataclass(frozen=True)
class Period:
    """Whole months [first, last] in the office's calendar, and optionally one permit type."""

    first: dt.date  # the 1st of the first month
    last: dt.date  # the 1st of the last month
    permit_type_id: int | None = None

    @property
    def end(self) -> dt.date:
        """The day after the period."""
        return next_month(self.last)

    def months(self) -> list[dt.date]:
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = next_month(month)
        return months


def months_back(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


# --------------------------------------------------------------------------- now, per stage


@dataclass(frozen=True)
class StageNow:
    stage: StageInfo
    on_time: int  # in progress with more than a working day left, or issued (handover, archive)
    due_soon: int  # in progress, promise runs out within one working day
    overdue: int  # in progress, past the promise (melewati SLA)
    returned: int  # with the applicant: the clock stands still

    @property
    def total(self) -> int:
        return self.on_time + self.due_soon + self.overdue + self.returned


def stages_now(session: Session, calendar: WorkingCalendar, now: dt.datetime, stages: Sequence[StageInfo],
               permit_type_id: int | None = None) -> list[StageNow]:
    """Open dossiers per stage (stages in reading order, those with any), in one GROUP BY over the
    work-queue index (status, stage_id, due_at)."""
    start, soon = as_stored(session, now), as_stored(session, due_soon_horizon(calendar, now))
    in_progress = Dossier.status == IN_PROGRESS

    def one(condition):  # noqa: ANN001, ANN202
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(Dossier.stage_id,
               one(or_(Dossier.status == DossierStatus.ISSUED.value,
                       and_(in_progress, or_(Dossier.due_at.is_(None), Dossier.due_at >= soon)))),
               one(due_soon_condition(start, soon)),
               one(and_(in_progress, Dossier.due_at < start)),
               one(Dossier.status == RETURNED))
        .where(Dossier.status.in_((*OPEN_STATUSES, RETURNED)))
        .group_by(Dossier.stage_id)
    )
    if permit_type_id is not None:
        query = query.where(Dossier.permit_type_id == permit_type_id)
    counted = {row[0]: row[1:] for row in session.execute(query)}
    return [StageNow(stage, *counted[stage.id]) for stage in stages if stage.id in counted]


# --------------------------------------------------------------------------- per month


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date
    received: int = 0
    issued: int = 0
    issued_on_time: int = 0
    returned: int = 0
    rejected: int = 0

    @property
    def on_time_pct(self) -> float | None:
        return 100.0 * self.issued_on_time / self.issued if self.issued else None


_MONTHLY = (TallyMeasure.RECEIVED, TallyMeasure.ISSUED, TallyMeasure.ISSUED_ON_TIME, TallyMeasure.RETURNED,
            TallyMeasure.REJECTED)


def _tallies(period: Period):  # noqa: ANN202 - the tally rows of a period
    where = [DashboardTally.day >= period.first, DashboardTally.day < period.end]
    if period.permit_type_id is not None:
        where.append(DashboardTally.permit_type_id == period.permit_type_id)
    return where


def monthly(session: Session, period: Period) -> list[MonthFigures]:
    """Received, issued (and within the promise), returned and rejected per month of the period."""
    sums: dict[dt.date, dict[str, int]] = {month: defaultdict(int) for month in period.months()}
    for measure, day, amount in session.execute(
        select(DashboardTally.measure, DashboardTally.day, func.sum(DashboardTally.amount))
        .where(DashboardTally.measure.in_(_MONTHLY), *_tallies(period))
        .group_by(DashboardTally.measure, DashboardTally.day)
    ):
        sums[day.replace(day=1)][measure] += int(amount)
    return [MonthFigures(month, **figures) for month, figures in sums.items()]


# --------------------------------------------------------------------------- time per stage


def quantile(counts: Sequence[tuple[int, int]], q: float) -> float | None:
    """The q-quantile of values given as sorted (value, how many), interpolated between the two
    nearest ranks as statistics.quantiles(method="inclusive") does (q=0.5 is the median)."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    position = (total - 1) * q
    below, above = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for value, n in counts:
        if low is None and below < seen + n:
            low = value
        if above < seen + n:
            high = value
            break
        seen += n
    return low + (high - low) * (position - below)


@dataclass(frozen=True)
class StageTime:
    stage_id: int
    name: str
    seq: int
    standard_minutes: int
    standard_text: str
    visits: int
    median: float | None
    p90: float | None
    within_standard: int  # visits that took no longer than the standard

    @property
    def within_pct(self) -> float | None:
        return 100.0 * self.within_standard / self.visits if self.visits else None


def stage_times(session: Session, period: Period) -> list[StageTime]:
    """Per stage, the finished visits of the dossiers received in the period: how many, median and
    90th percentile of working minutes, and how many met the stage's time standard (mutu baku)."""
    histogram: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for stage_id, minutes, amount in session.execute(
        select(DashboardTally.ref_id, DashboardTally.value, func.sum(DashboardTally.amount))
        .where(DashboardTally.measure.in_((TallyMeasure.STAGE_MINUTES, TallyMeasure.STAGE_MINUTES_MONTH)),
               *_tallies(period))
        .group_by(DashboardTally.ref_id, DashboardTally.value)
        .order_by(DashboardTally.ref_id, DashboardTally.value)
    ):
        histogram[stage_id].append((minutes, int(amount)))
    if not histogram:
        return []
    stages = session.execute(
        select(Stage.id, Stage.name, Stage.seq, Stage.time_standard_minutes, Stage.time_standard_text,
               Stage.permit_type_id)
        .where(Stage.id.in_(histogram)).order_by(Stage.permit_type_id, Stage.seq)
    ).all()
    return [
        StageTime(
            stage_id=stage.id, name=stage.name, seq=stage.seq, standard_minutes=stage.time_standard_minutes,
            standard_text=stage.time_standard_text, visits=sum(n for _, n in histogram[stage.id]),
            median=quantile(histogram[stage.id], 0.5), p90=quantile(histogram[stage.id], 0.9),
            within_standard=sum(n for m, n in histogram[stage.id] if m <= stage.time_standard_minutes),
        )
        for stage in stages
    ]


# --------------------------------------------------------------------------- returns, workload


@dataclass(frozen=True)
class ReturnReason:
    label: str  # "" for a return that named no missing item (the officer's reason only)
    count: int


def return_reasons(session: Session, period: Period, limit: int = 10) -> tuple[list[ReturnReason], int]:
    """The missing items returns named most in the period, and how many returns there were."""
    total = session.scalar(
        select(func.coalesce(func.sum(DashboardTally.amount), 0))
        .where(DashboardTally.measure == TallyMeasure.RETURNED, *_tallies(period)))
    count = func.sum(DashboardTally.amount)
    rows = session.execute(
        select(DashboardTally.label, count)
        .where(DashboardTally.measure == TallyMeasure.RETURN_REASON, *_tallies(period))
        .group_by(DashboardTally.label).order_by(count.desc(), DashboardTally.label).limit(limit)
    ).all()
    return [ReturnReason(label, int(n)) for label, n in rows], int(total)


@dataclass(frozen=True)
class OfficerLoad:
    account_id: int
    name: str
    roles: tuple[str, ...]
    moves: int  # moves in the period
    moves_per_day: float  # per working day of the period (up to today)
    waiting: int  # open dossiers at the stages of the officer's roles now
    stage_ids: tuple[int, ...] = field(default=())


def workload(session: Session, calendar: WorkingCalendar, now: dt.datetime, period: Period,
             stages: Sequence[StageInfo], waiting: dict[int, int]) -> list[OfficerLoad]:
    """Per officer who works a stage: moves in the period (per working day) and the dossiers waiting
    now at the stages of their roles (`waiting`: open dossiers per stage id, from stages_now)."""
    moves = dict(session.execute(
        select(DashboardTally.ref_id, func.sum(DashboardTally.amount))
        .where(DashboardTally.measure == TallyMeasure.MOVES, *_tallies(period))
        .group_by(DashboardTally.ref_id)).all())
    last = min(period.end - dt.timedelta(days=1), calendar.local_date(now))
    days = sum(1 for n in range((last - period.first).days + 1)
               if calendar.is_working_day(period.first + dt.timedelta(days=n))) if last >= period.first else 0
    stage_roles = {s.role_name for s in stages}
    roles_of: dict[int, set[str]] = defaultdict(set)
    names: dict[int, str] = {}
    for account_id, first, last_name, role in session.execute(
        select(ACCOUNT_TABLE.c.id, ACCOUNT_TABLE.c.first_name, ACCOUNT_TABLE.c.last_name, ROLE_TABLE.c.name)
        .join(ACCOUNT_ROLE_TABLE, ACCOUNT_ROLE_TABLE.c.user_id == ACCOUNT_TABLE.c.id)
        .join(ROLE_TABLE, ROLE_TABLE.c.id == ACCOUNT_ROLE_TABLE.c.role_id)
        .where(ACCOUNT_TABLE.c.active.is_not(False), ROLE_TABLE.c.name.in_(stage_roles))
    ):
        roles_of[account_id].add(role)
        names[account_id] = " ".join(part for part in (first, last_name) if part)
    for account_id in moves.keys() - names.keys():  # moved in the period, no stage role today
        account = session.get(Account, account_id)
        if account is not None:
            names[account_id] = account.full_name or account.username
    loads = []
    for account_id, name in names.items():
        own = tuple(s.id for s in stages if s.role_name in roles_of.get(account_id, ()))
        moved = int(moves.get(account_id, 0))
        loads.append(OfficerLoad(
            account_id=account_id, name=name, roles=tuple(sorted(roles_of.get(account_id, ()))), moves=moved,
            moves_per_day=moved / days if days else 0.0, waiting=sum(waiting.get(s, 0) for s in own),
            stage_ids=own,
        ))
    return sorted(loads, key=lambda load: (-load.waiting, -load.moves, load.name))

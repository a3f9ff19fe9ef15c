"""Property tests of the SOP engine: random action sequences by random roles, no Flask app.

Each example opens one SOP 76 dossier on an in-memory SQLite database (SOP loaded once per
module, business rows emptied between examples) and applies a random sequence of steps: moves
(any action, any set of roles among the nine, a reason that may be missing or blank) mixed with
"verify the next missing document" and "fill a missing field" steps so that dossiers get
somewhere; a drawn head start first takes the dossier, legitimately, through its first stages so
that the later stages (Kasi, Kabid, Kepala Dinas, archive) are reached too. After every step the
invariants of issue 3 are checked against the database, and the SLA clock (app.sop.sla) against
the statuses the test saw.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app.audit import changes_by
from app.models import (
    Applicant,
    AuditEntry,
    Company,
    Document,
    Dossier,
    DossierStatus,
    NumberCounter,
    Permit,
    PermitType,
    RegisterEntry,
    Stage,
    StageEvent,
    create_all,
)
from app.models.guards import guards_lifted
from app.security.roles import (
    ADMIN,
    ALL_ROLES,
    FRONT_OFFICE,
    KASI_PERIZINAN,
    STAGE_ROLES,
)
from app.sop.calendar import WorkingCalendar
from app.sop.fields import FIELD_CHECKS
from app.sop.intake import SUBMIT_ACTION, open_dossier
from app.sop.loader import load_sops
from app.sop.machine import (
    FINAL_STATUSES,
    NEEDS_REASON,
    Action,
    move,
    replay,
)
from app.sop.schema import parse_sop
from app.sop.sla import return_pauses, working_minutes
from tests.paper_samples import DESCRIBE_PERMIT

SOP_76 = Path(__file__).resolve().parents[2] / "seed" / "sop" / "izin_pool_kendaraan.yaml"
SUBMITTED = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09.00 WIB
CALENDAR = WorkingCalendar()  # 07.30-16.00 WIB; all step times are whole minutes, so no rounding
RETURNED = DossierStatus.RETURNED.value
OWNER = "<pemilik tahap>"  # stands for "the role of the dossier's current stage", resolved when applied

# Fields the SOP's stages demand, left empty at intake so the field gate has work to do.
FILL_VALUES = {
    "applicant.email": "pemohon@contoh.co.id",
    "company.npwp": "012345678901000",
    "company.deed_number": "12",
    "company.deed_date": dt.date(2020, 3, 4),
    "company.address": "Jl. Pangeran Cinata 1",
    "dossier.site_address": "Jl. Raya Ngabang Km 3",
    "dossier.vehicle_capacity": 12,
}

PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    # CI replays one fixed set of examples; local runs keep exploring new ones.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)


# --- the database ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    create_all(engine)
    with Session(engine) as session:
        load_sops(session, [parse_sop(SOP_76, STAGE_ROLES, 510)])
    yield engine
    engine.dispose()


def _empty_business_tables(session: Session) -> None:
    # Core deletes: StageEvent refuses ORM deletes (append-only history); the database's own
    # guards (issued permits, the audit trail) are lifted for it.
    with guards_lifted(session.connection()):
        for model in (AuditEntry, Permit, RegisterEntry, NumberCounter, StageEvent, Document, Dossier, Applicant,
                      Company):
            session.execute(model.__table__.delete())
    session.commit()


def _open(session: Session) -> int:
    permit = session.scalar(select(PermitType).where(PermitType.sop_number == "76"))
    with session.no_autoflush:
        dossier = Dossier(
            company=Company(name="PT Pool Ngabang", legal_form="PT", nib="9120000000001"),
            applicant=Applicant(full_name="Uji", nik="6108014508950001"),
        )
        open_dossier(dossier, permit, SUBMITTED, CALENDAR, actor_id=None)
    session.add(dossier)
    session.commit()
    return dossier.id


# --- steps ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    action: Action
    roles: frozenset[str]
    note: str | None
    minutes_later: int

    def __repr__(self) -> str:
        return f"Move({self.action.name}, {sorted(self.roles)}, note={self.note!r}, +{self.minutes_later}m)"


@dataclass(frozen=True)
class VerifyNextDocument:
    minutes_later: int
    every: bool = False  # every document due by the current stage (head start only)


@dataclass(frozen=True)
class FillNextField:
    minutes_later: int
    every: bool = False  # every field the current stage needs (head start only)


notes = st.one_of(st.none(), st.sampled_from(["", "  ", "\n\t"]), st.text(max_size=12))
role_sets = st.one_of(
    st.sampled_from(ALL_ROLES).map(lambda r: frozenset({r})),
    st.just(frozenset({OWNER})),
    st.frozensets(st.sampled_from((*ALL_ROLES, OWNER)), max_size=3),
    # An officer wearing two hats: the stage's own role plus another (Admin, a reject role...).
    st.sampled_from(ALL_ROLES).map(lambda r: frozenset({OWNER, r})),
)
minutes = st.integers(min_value=1, max_value=3 * 24 * 60)
any_move = st.builds(Move, st.sampled_from(Action), role_sets, notes, minutes)
# The stage's own officer pressing Lanjutkan: without these few dossiers would get past BERKAS.
# The same for returns (with a reason that is sometimes blank), rejections and the FO resuming.
owner_advances = st.builds(Move, st.just(Action.ADVANCE), st.just(frozenset({OWNER})), st.none(), minutes)
owner_returns_or_rejects = st.builds(
    Move, st.sampled_from([Action.RETURN, Action.RETURN, Action.REJECT]), st.just(frozenset({OWNER})), notes, minutes
)
front_office_resumes = st.builds(Move, st.just(Action.RESUME), st.just(frozenset({FRONT_OFFICE})), notes, minutes)
steps = st.one_of(
    any_move,
    any_move,
    owner_advances,
    owner_advances,
    owner_returns_or_rejects,
    front_office_resumes,
    st.builds(VerifyNextDocument, minutes),
    st.builds(FillNextField, minutes),
)


# --- what the database says ----------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    stage_id: int
    status: str
    version: int
    events: int


def _snapshot(session: Session, dossier_id: int) -> Snapshot:
    session.expire_all()
    dossier = session.get(Dossier, dossier_id)
    count = session.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.dossier_id == dossier_id))
    return Snapshot(dossier.stage_id, dossier.status, dossier.version, count)


def _history(session: Session, dossier_id: int) -> list[StageEvent]:
    return list(
        session.scalars(
            select(StageEvent).where(StageEvent.dossier_id == dossier_id).order_by(StageEvent.occurred_at, StageEvent.id)
        )
    )


def pauses_from_history(events: list[StageEvent]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Return -> resume intervals; the last one is open (None) while the dossier is still returned."""
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
    paused_at = None
    for row in events:
        if row.action == Action.RETURN.value and paused_at is None:
            paused_at = row.occurred_at
        elif row.action == Action.RESUME.value and paused_at is not None:
            pauses.append((paused_at, row.occurred_at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, None))
    return pauses


def returned_periods(timeline: list[tuple[dt.datetime, str]]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Maximal periods in which the status the test observed after each step was 'returned'."""
    periods: list[tuple[dt.datetime, dt.datetime | None]] = []
    since = None
    for when, status in timeline:
        if status == RETURNED and since is None:
            since = when
        elif status != RETURNED and since is not None:
            periods.append((since, when))
            since = None
    if since is not None:
        periods.append((since, None))
    return periods


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)  # SQLite drops the zone


def _may_move(action: Action, stage: Stage, roles: set[str]) -> bool:
    """The role rule of issue 3, written independently of judge(): nobody moves a stage not their own,
    and the SOP file names who rejects (only before numbering) and who takes returned files back."""
    roles = roles - {ADMIN}  # Admin does not bypass the gate: whatever moved, moved without it
    if action is Action.RESUME:
        return stage.resume_role in roles
    if action is Action.REJECT:
        return stage.reject_role is not None and stage.reject_role in roles
    return stage.role_name in roles


def _check_invariants(
    session: Session,
    dossier_id: int,
    stages: dict[int, Stage],
    first_stage_id: int,
    moves: int,
    timeline: list[tuple[dt.datetime, str]],
) -> list[StageEvent]:
    """The invariants that hold after every step; returns the history (submit first)."""
    dossier = session.get(Dossier, dossier_id)
    assert dossier.stage_id in stages, "the stage is always one of the permit type's stages"
    assert dossier.version == 1 + moves

    events = _history(session, dossier_id)
    assert [e.action for e in events[:1]] == [SUBMIT_ACTION]
    assert SUBMIT_ACTION not in [e.action for e in events[1:]]
    assert len(events) == 1 + moves
    issuing = frozenset(s.id for s in stages.values() if s.issues_permit)
    assert replay(events[1:], first_stage_id, issuing) == (dossier.stage_id, dossier.status)
    # Entering the issuing stage numbered the permit and its register line, once; nothing else did.
    entered_issuing = any(e.to_stage_id in issuing for e in events[1:] if e.action == "advance")
    permits = session.scalars(select(Permit).where(Permit.dossier_id == dossier_id)).all()
    registered = session.scalars(select(RegisterEntry).where(RegisterEntry.dossier_id == dossier_id)).all()
    assert (len(permits), len(registered)) == ((1, 1) if entered_issuing else (0, 0))
    if permits:
        assert registered[0].permit_number == permits[0].number

    # A returned dossier's clock doesn't run: the pauses the history yields are exactly the periods
    # in which the dossier was returned, so a working-time count that skips them never counts those.
    pauses = [(_aware(start), end and _aware(end)) for start, end in pauses_from_history(events)]
    assert pauses == returned_periods(timeline)
    assert return_pauses(events) == pauses  # app.sop.sla reads the history the same way
    return events


# --- the property --------------------------------------------------------------------------------

class Run:
    """One dossier driven step by step; every step is checked against the database."""

    def __init__(self, session: Session) -> None:
        _empty_business_tables(session)
        self.session = session
        self.dossier_id = _open(session)
        self.permit = session.scalar(select(PermitType).where(PermitType.sop_number == "76"))
        self.stages = {stage.id: stage for stage in self.permit.stages}
        self.now = SUBMITTED
        self.moves = 0
        self.timeline: list[tuple[dt.datetime, str]] = [(self.now, DossierStatus.IN_PROGRESS.value)]
        self.before = _snapshot(session, self.dossier_id)

    @property
    def stage(self) -> Stage:
        return self.stages[self.session.get(Dossier, self.dossier_id).stage_id]

    def head_start(self, stages: int) -> None:
        """The stages' own officers take the dossier through its first stages, everything present."""
        for _ in range(stages):
            self.step(FillNextField(1, every=True))
            self.step(VerifyNextDocument(1, every=True))
            assert self.step(Move(Action.ADVANCE, frozenset({OWNER}), None, 10)), "the gate opens once all is there"

    def step(self, step: Move | VerifyNextDocument | FillNextField) -> bool:
        session, before = self.session, self.before
        self.now += dt.timedelta(minutes=step.minutes_later)
        stage = self.stage
        moved = False
        if isinstance(step, Move):
            roles = {stage.role_name if r == OWNER else r for r in step.roles}
            outcome = move(session, self.dossier_id, step.action, actor_id=None, roles=roles, note=step.note, now=self.now,
                           describe_permit=DESCRIBE_PERMIT)
            session.commit()
            after = _snapshot(session, self.dossier_id)
            moved = outcome.moved
            if moved:
                self.moves += 1
                assert _may_move(step.action, stage, roles), f"{sorted(roles)} moved {stage.code} by {step}"
                assert before.status not in FINAL_STATUSES, "a final dossier moved"
                assert step.action not in NEEDS_REASON or (step.note or "").strip(), "moved without a reason"
                assert (after.version, after.events) == (before.version + 1, before.events + 1)
            else:
                assert outcome.reasons, "a refusal says why"
                assert after == before, f"refused {step} changed {before} -> {after}"
        else:
            if isinstance(step, VerifyNextDocument):
                _verify_documents(session, self.dossier_id, self.permit, self.stages, self.now, step.every)
            else:
                _fill_fields(session, self.dossier_id, self.permit, step.every)
            after = _snapshot(session, self.dossier_id)
            assert after == before, "documents and fields do not move a dossier"
        previous_time = self.timeline[-1][0]
        self.timeline.append((self.now, after.status))
        events = _check_invariants(
            session, self.dossier_id, self.stages, self.permit.stages[0].id, self.moves, self.timeline
        )
        # A returned dossier's clock doesn't run: over the time since the last step (all of it at
        # the status the dossier had before this step) the SLA clock, with the history's pauses,
        # counts nothing if the dossier was returned and every working minute otherwise.
        counted = working_minutes(CALENDAR, previous_time, self.now, return_pauses(events))
        if before.status == RETURNED:
            assert counted == 0, f"{counted} working minutes counted while returned"
        else:
            assert counted == working_minutes(CALENDAR, previous_time, self.now)
        self.before = after
        return moved

    def check_the_whole_clock(self) -> None:
        """Over the whole history: clock time = working time - working time while returned."""
        pauses = return_pauses(_history(self.session, self.dossier_id))
        returned = sum(working_minutes(CALENDAR, start, end or self.now) for start, end in pauses)
        assert working_minutes(CALENDAR, SUBMITTED, self.now, pauses) == (
            working_minutes(CALENDAR, SUBMITTED, self.now) - returned
        )


@PROPERTY_SETTINGS
@given(head_start=st.integers(min_value=0, max_value=15), plan=st.lists(steps, max_size=50))
# Regression, found by this test: an officer holding Kasi Perizinan and Front Office could reject
# at BERKAS, a Front Office stage, though the Front Office may not reject and Kasi does not own it.
@example(head_start=0, plan=[Move(Action.REJECT, frozenset({FRONT_OFFICE, KASI_PERIZINAN}), "0", 1)])
def test_random_moves_by_random_roles_keep_the_sop_invariants(engine, head_start, plan):
    with Session(engine) as session, changes_by(session, reason="penyiapan data uji"):
        run = Run(session)
        run.head_start(head_start)
        for step in plan:
            run.step(step)
        run.check_the_whole_clock()
        final = session.get(Dossier, run.dossier_id)
        event(f"ended at stage {run.stages[final.stage_id].seq:02d}, {final.status}")
        actions = {e.action for e in _history(session, run.dossier_id)}
        event("moves made: " + ", ".join(sorted(actions - {SUBMIT_ACTION})))


def _verify_documents(session: Session, dossier_id: int, permit: PermitType, stages: dict, now: dt.datetime,
                      every: bool) -> None:
    """The first requirement without a document (mandatory first, earliest due first), or every
    mandatory one due by the current stage."""
    have = set(session.scalars(select(Document.requirement_type_id).where(Document.dossier_id == dossier_id)))
    waiting = sorted(
        (r for r in permit.requirements if r.id not in have),
        key=lambda r: (not r.is_mandatory, stages[r.due_stage_id].seq, r.seq),
    )
    if every:
        current = stages[session.get(Dossier, dossier_id).stage_id]
        waiting = [r for r in waiting if r.is_mandatory and stages[r.due_stage_id].seq <= current.seq]
    for requirement in waiting if every else waiting[:1]:
        session.add(Document(
            dossier_id=dossier_id, requirement_type_id=requirement.id, original_filename=f"{requirement.code}.pdf",
            storage_key="x" * 64, size_bytes=1, sha256="x" * 64, verified_at=now,
        ))
    session.commit()


def _fill_fields(session: Session, dossier_id: int, permit: PermitType, every: bool) -> None:
    """The first empty field any stage needs, or every field the current stage needs."""
    dossier = session.get(Dossier, dossier_id)
    stages = [dossier.stage] if every else permit.stages
    empty = [
        name for stage in stages for name in (stage.required_fields or ())
        if FIELD_CHECKS[name].read(dossier) in (None, "")
    ]
    for name in empty if every else empty[:1]:
        owner, attribute = name.split(".")
        setattr(dossier if owner == "dossier" else getattr(dossier, owner), attribute, FILL_VALUES[name])
    session.commit()


# --- the helpers the property leans on, pinned on a hand-made history ---------------------------

def test_pauses_come_from_return_resume_pairs_and_stay_open_while_returned():
    at = [SUBMITTED + dt.timedelta(hours=h) for h in range(6)]
    history = [
        StageEvent(action="submit", occurred_at=at[0]),
        StageEvent(action="return", occurred_at=at[1]),
        StageEvent(action="resume", occurred_at=at[2]),
        StageEvent(action="advance", occurred_at=at[3]),
        StageEvent(action="return", occurred_at=at[4]),
    ]
    assert pauses_from_history(history) == [(at[1], at[2]), (at[4], None)]
    timeline = [(at[0], "in_progress"), (at[1], RETURNED), (at[2], "in_progress"), (at[3], "in_progress"),
                (at[4], RETURNED), (at[5], RETURNED)]
    assert returned_periods(timeline) == [(at[1], at[2]), (at[4], None)]

"""The SOP as a state machine: which moves a role may make on a dossier, and making them.

Rows of data drive it: a dossier's permit type lists its stages in order, each worked by one
role, with who may reject there and who takes returned files back; requirements say by which
stage a document must be verified. Nothing here names SOP 76 or a role. judge() has no side
effects; apply() is the one place that moves a dossier and writes history.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload

from app.audit import Change, write
from app.audit.trail import jsonable
from app.models import (
    Account,
    AuditAction,
    Document,
    Dossier,
    DossierStatus,
    Permit,
    PermitType,
    RequirementType,
    Stage,
    StageEvent,
)
from app.sop.calendar import WorkingCalendar, as_utc
from app.sop.guards import missing_items
from app.sop.numbering import DescribePermit, issue_permit, lock_counters, numbering_year
from app.sop.sla import due_at, return_pauses


class Action(str, enum.Enum):
    ADVANCE = "advance"  # Lanjutkan
    RETURN = "return"  # Kembalikan ke Pemohon
    RESUME = "resume"  # Lanjutkan Kembali
    REJECT = "reject"  # Tolak


NEEDS_REASON = frozenset({Action.RETURN, Action.REJECT})
FINAL_STATUSES = frozenset({DossierStatus.REJECTED.value, DossierStatus.ARCHIVED.value})
_STATUS_WORDS = {
    DossierStatus.REJECTED.value: "ditolak",
    DossierStatus.ARCHIVED.value: "selesai dan diarsipkan",
}


@dataclass(frozen=True)
class Verdict:
    action: Action
    allowed: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Situation:
    """Everything judge() looks at, loaded once."""

    dossier: Dossier
    stages: tuple[Stage, ...]  # in SOP order
    requirements: tuple[RequirementType, ...]
    verified_requirement_ids: frozenset[int]
    permit_number: str | None = None  # the dossier's permit, once numbered
    # A correction: the permit that already replaced the revoked one it corrects (it cannot be
    # replaced twice).
    superseded_by: str | None = None

    @cached_property
    def stage(self) -> Stage:
        return next(s for s in self.stages if s.id == self.dossier.stage_id)

    @cached_property
    def next_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.seq > self.stage.seq), None)

    def missing(self) -> list[str]:
        return missing_items(self.dossier, self.stage, self.requirements, set(self.verified_requirement_ids))


@dataclass(frozen=True)
class Outcome:
    dossier_id: int
    receipt_number: str
    action: Action
    moved: bool
    reasons: tuple[str, ...] = ()
    from_stage: str = ""
    to_stage: str = ""
    permit_number: str = ""  # set when this move issued the permit


def _not_your_stage(stage: Stage) -> str:
    return f"Tahap {stage.name} dikerjakan oleh {stage.role_name}, bukan oleh peran Anda."


def judge(situation: Situation, action: Action, roles: Iterable[str]) -> Verdict:
    """May a user with these roles make this move now? If not, every reason why."""
    roles = set(roles)
    dossier, stage = situation.dossier, situation.stage
    if dossier.status in FINAL_STATUSES:
        return Verdict(action, False, (f"Berkas sudah {_STATUS_WORDS[dossier.status]}; tidak dapat dipindahkan lagi.",))
    reasons: list[str] = []
    returned = dossier.status == DossierStatus.RETURNED.value
    if action is Action.RESUME:
        if not returned:
            reasons.append("Berkas tidak sedang dikembalikan ke pemohon.")
        if stage.resume_role not in roles:
            reasons.append(f"Hanya {stage.resume_role} yang menerima kembali berkas dari pemohon.")
        return Verdict(action, not reasons, tuple(reasons))
    if returned:
        reasons.append("Berkas sedang dikembalikan ke pemohon; lanjutkan kembali dulu setelah berkas dilengkapi.")
    if action in (Action.RETURN, Action.REJECT) and situation.permit_number:
        # A numbered permit is a legal act: it stands until the Kepala Dinas revokes it.
        reasons.append(f"Izin {situation.permit_number} sudah terbit; berkas tidak dapat lagi dikembalikan atau "
                       "ditolak. Izin yang sudah terbit hanya dapat dicabut oleh Kepala Dinas.")
    elif action is Action.RETURN and dossier.status == DossierStatus.ISSUED.value:
        reasons.append("Izin sudah terbit dan bernomor; berkas tidak dapat dikembalikan ke pemohon.")
    if action is Action.REJECT:
        # The SOP says who may reject at which stage (Stage.reject_role); no stage, no rejection.
        # A numbered permit is revoked, never rejected (said above).
        if not situation.permit_number and stage.reject_role is None:
            where = ", ".join(s.name for s in situation.stages if s.reject_role) or "tidak ada tahap"
            reasons.append(f"Berkas pada tahap {stage.name} tidak dapat ditolak; menurut SOP penolakan dilakukan "
                           f"pada tahap: {where}.")
        elif not situation.permit_number and stage.reject_role not in roles:
            reasons.append(f"Pada tahap {stage.name} hanya {stage.reject_role} yang dapat menolak berkas.")
    elif stage.role_name not in roles:
        reasons.append(_not_your_stage(stage))
    if action is Action.ADVANCE:
        reasons += situation.missing()
        if situation.superseded_by and _issues(situation.next_stage):
            reasons.append(f"Izin yang diperbaiki berkas ini sudah digantikan oleh izin {situation.superseded_by}; "
                           "satu izin yang dicabut hanya diganti satu kali.")
    return Verdict(action, not reasons, tuple(reasons))


def allowed_actions(situation: Situation, roles: Iterable[str]) -> list[Verdict]:
    """Every action with its verdict, so the screen offers only what is possible and says why not."""
    roles = set(roles)
    return [judge(situation, action, roles) for action in Action]


def load_situation(session: Session, dossier_id: int) -> Situation | None:
    return load_situations(session, [dossier_id]).get(dossier_id)


def load_situations(
    session: Session,
    dossier_ids: Sequence[int],
    sop_rows: dict[int, tuple[tuple[Stage, ...], tuple[RequirementType, ...]]] | None = None,
) -> dict[int, Situation]:
    """Situations of several dossiers with four queries, plus two per permit type not yet in
    `sop_rows` (a cache the caller may keep across calls). Unknown ids are left out."""
    sop_rows = {} if sop_rows is None else sop_rows
    dossiers = session.scalars(
        select(Dossier)
        .where(Dossier.id.in_(dossier_ids))
        .options(selectinload(Dossier.company), selectinload(Dossier.applicant))
    ).all()
    permits = dict(session.execute(select(Permit.dossier_id, Permit.number).where(Permit.dossier_id.in_(dossier_ids))).all())
    corrected = {d.corrects_permit_id for d in dossiers if d.corrects_permit_id is not None}
    successors = dict(session.execute(
        select(Permit.supersedes_id, Permit.number).where(Permit.supersedes_id.in_(corrected))
    ).all()) if corrected else {}
    verified: dict[int, set[int]] = {}
    for dossier_id, requirement_id in session.execute(
        select(Document.dossier_id, Document.requirement_type_id).where(
            Document.dossier_id.in_(dossier_ids), Document.verified_at.is_not(None)
        )
    ):
        verified.setdefault(dossier_id, set()).add(requirement_id)
    situations = {}
    for dossier in dossiers:
        if dossier.permit_type_id not in sop_rows:
            sop_rows[dossier.permit_type_id] = _sop_rows(session, dossier.permit_type_id)
        stages, requirements = sop_rows[dossier.permit_type_id]
        situations[dossier.id] = Situation(
            dossier, stages, requirements, frozenset(verified.get(dossier.id, ())), permits.get(dossier.id),
            successors.get(dossier.corrects_permit_id),
        )
    return situations


# Matches the dossier only as it was judged; built once, bound per move.
_GUARDED_UPDATE = (
    update(Dossier)
    .where(
        Dossier.id == bindparam("dossier_id"),
        Dossier.stage_id == bindparam("seen_stage"),
        Dossier.version == bindparam("seen_version"),
        Dossier.status == bindparam("seen_status"),
    )
    .values(
        stage_id=bindparam("new_stage"),
        status=bindparam("new_status"),
        due_at=bindparam("new_due"),
        version=Dossier.version + 1,
    )
    .execution_options(synchronize_session=False)
)


def move(session: Session, dossier_id: int, action: Action, **kwargs) -> Outcome:  # noqa: ANN003
    """Loads the dossier as it is now and applies the action (see apply)."""
    situation = load_situation(session, dossier_id)
    if situation is None:
        return Outcome(dossier_id, "", action, False, ("Berkas tidak ditemukan.",))
    return apply(session, situation, action, **kwargs)


def apply(
    session: Session,
    situation: Situation,
    action: Action,
    *,
    actor_id: int | None,
    roles: Iterable[str],
    note: str | None,
    now: dt.datetime,
    timezone: str = "Asia/Jakarta",
    calendar: WorkingCalendar | None = None,
    describe_permit: DescribePermit | None = None,
    history: list[dict] | None = None,
    trail: list[Change] | None = None,
) -> Outcome:
    """Makes one move in the caller's transaction: a guarded UPDATE, then the history row and
    the audit row.

    The UPDATE only matches the dossier as it was judged (same stage, status and version); if
    another officer moved it in between, nothing is written and the outcome says who and when.
    A move into the numbering stage numbers the permit, which `describe_permit` says the content
    of (required then). The caller commits (or rolls back) the transaction. With `history` and
    `trail` given, the rows are appended there for the caller to insert with others (apply_many).
    """
    dossier, stage = situation.dossier, situation.stage
    dossier_id = dossier.id
    now = as_utc(now)  # SQLite keeps no zone: every stored instant is UTC
    receipt, version, status = dossier.receipt_number, dossier.version, dossier.status

    def refused(*reasons: str) -> Outcome:
        return Outcome(dossier_id, receipt, action, False, tuple(reasons), stage.name)

    verdict = judge(situation, action, roles)
    if not verdict.allowed:
        return refused(*verdict.reasons)
    note = (note or "").strip()
    if action in NEEDS_REASON and not note:
        return refused("Alasan wajib diisi.")

    to_stage, new_status = _destination(situation, action)
    # Only moving forward into the numbering stage numbers, and only once.
    numbers = action is Action.ADVANCE and _issues(to_stage)
    if numbers and history is None:  # a batch locked its counters already (apply_many)
        lock_counters(session, _series(session, [situation]), numbering_year(now, timezone))
    if action is Action.RETURN:
        missing = situation.missing()
        note = note + ("\nKekurangan: " + "; ".join(missing) if missing else "")

    new_due = _due_after(session, situation, action, calendar, now)
    # Core on the session's connection: the ORM's bulk-UPDATE bookkeeping is not needed here.
    moved = session.connection().execute(
        _GUARDED_UPDATE,
        {
            "dossier_id": dossier_id, "seen_stage": stage.id, "seen_version": version, "seen_status": status,
            "new_stage": (to_stage or stage).id, "new_status": new_status, "new_due": new_due,
        },
    )
    if moved.rowcount != 1:
        return refused(_moved_by_someone_else(session, dossier_id, timezone))
    event = dict(
        dossier_id=dossier_id,
        from_stage_id=stage.id,
        to_stage_id=to_stage.id if to_stage else None,
        action=action.value,
        actor_id=actor_id,
        occurred_at=now,
        note=note or None,
    )
    change = Change("dossier", dossier_id, AuditAction.MOVE, _moved_fields(
        stage, to_stage, status, new_status, dossier.due_at, new_due), dossier_id, note or None)
    if history is None:
        session.execute(insert(StageEvent), [event])
        write(session, [change], now=now)
    else:
        assert trail is not None, "a batched move batches its audit row too"
        history.append(event)
        trail.append(change)
    # Numbered in this same transaction: if the caller rolls back, the number was never taken.
    assert not (numbers and situation.permit_number), "a dossier is numbered once"
    assert describe_permit is not None or not numbers, "numbering needs what the permit prints"
    permit_number = issue_permit(session, dossier, now, timezone, describe_permit).permit_number if numbers else ""
    session.expire(dossier)
    return Outcome(
        dossier_id, receipt, action, True, (), stage.name, to_stage.name if to_stage else "", permit_number
    )


BULK_CHUNK = 500


def apply_many(
    session: Session,
    dossier_ids: Sequence[int],
    action: Action,
    *,
    actor_id: int | None,
    roles: Iterable[str],
    note: str | None,
    now: dt.datetime,
    timezone: str = "Asia/Jakarta",
    calendar: WorkingCalendar | None = None,
    describe_permit: DescribePermit | None = None,
) -> list[Outcome]:
    """One action on many dossiers (a bulk move): every row judged on its own, one Outcome each.

    Rows are loaded in chunks with their SOP rows and verified documents (a few queries per
    chunk, not per row); each move is still its own guarded UPDATE, and the history rows of a
    chunk go in with one INSERT, and so do their audit rows. The caller commits.
    """
    roles = set(roles)
    sop_rows: dict[int, tuple[tuple[Stage, ...], tuple[RequirementType, ...]]] = {}
    outcomes: list[Outcome] = []
    unique_ids = list(dict.fromkeys(dossier_ids))
    for start in range(0, len(unique_ids), BULK_CHUNK):
        chunk = unique_ids[start : start + BULK_CHUNK]
        situations = load_situations(session, chunk, sop_rows)
        if action is Action.ADVANCE:
            numbered = [s for s in situations.values() if _issues(s.next_stage)]
            if numbered:  # the counters before any dossier of the chunk (see lock_counters)
                lock_counters(session, _series(session, numbered), numbering_year(now, timezone))
        events: list[dict] = []
        trail: list[Change] = []
        for dossier_id in chunk:
            situation = situations.get(dossier_id)
            if situation is None:
                outcomes.append(Outcome(dossier_id, "", action, False, ("Berkas tidak ditemukan.",)))
                continue
            outcomes.append(
                apply(session, situation, action, actor_id=actor_id, roles=roles, note=note, now=now,
                      timezone=timezone, calendar=calendar, describe_permit=describe_permit, history=events,
                      trail=trail)
            )
        if events:
            session.execute(insert(StageEvent), events)
            write(session, trail, now=now)
    return outcomes


def _sop_rows(session: Session, permit_type_id: int) -> tuple[tuple[Stage, ...], tuple[RequirementType, ...]]:
    stages = tuple(session.scalars(select(Stage).where(Stage.permit_type_id == permit_type_id).order_by(Stage.seq)))
    requirements = tuple(
        session.scalars(
            select(RequirementType)
            .where(RequirementType.permit_type_id == permit_type_id)
            .options(selectinload(RequirementType.due_stage))
        )
    )
    return stages, requirements


def _due_after(
    session: Session, situation: Situation, action: Action, calendar: WorkingCalendar | None, now: dt.datetime
) -> dt.datetime | None:
    """The promise after this move: a resume pushes it later by the working time spent returned."""
    dossier = situation.dossier
    if action is not Action.RESUME or calendar is None or dossier.submitted_at is None:
        return dossier.due_at
    history = list(
        session.scalars(
            select(StageEvent).where(StageEvent.dossier_id == dossier.id).order_by(StageEvent.occurred_at, StageEvent.id)
        )
    )
    pauses = [(start, end or now) for start, end in return_pauses(history)]
    service_days = session.scalar(select(PermitType.service_days).where(PermitType.id == dossier.permit_type_id))
    return due_at(calendar, dossier.submitted_at, service_days, pauses)


def _destination(situation: Situation, action: Action) -> tuple[Stage | None, str]:
    """(stage after the move, or None when the SOP is finished; status after the move)."""
    stage = situation.stage
    if action is Action.ADVANCE:
        following = situation.next_stage
        if following is None:
            return None, DossierStatus.ARCHIVED.value
        # An issued permit stays issued through handover; only the last stage archives it.
        if _issues(following) or situation.dossier.status == DossierStatus.ISSUED.value:
            return following, DossierStatus.ISSUED.value
        return following, DossierStatus.IN_PROGRESS.value
    if action is Action.RETURN:
        return stage, DossierStatus.RETURNED.value
    if action is Action.RESUME:
        return stage, DossierStatus.IN_PROGRESS.value
    return stage, DossierStatus.REJECTED.value


def _series(session: Session, situations: Iterable[Situation]) -> list[str]:
    """The number series (permit type codes) these dossiers are numbered in."""
    type_ids = {s.dossier.permit_type_id for s in situations}
    return list(session.scalars(select(PermitType.code).where(PermitType.id.in_(type_ids))))


def _moved_fields(
    stage: Stage, to_stage: Stage | None, status: str, new_status: str,
    due: dt.datetime | None, new_due: dt.datetime | None,
) -> dict[str, list]:
    """A move as the audit trail records it: {field: [before, after]}."""
    fields = {"stage": [stage.code, to_stage.code if to_stage else None], "status": [status, new_status]}
    if due != new_due:
        fields["due_at"] = [jsonable(due), jsonable(new_due)]
    return {key: values for key, values in fields.items() if values[0] != values[1]}


def _issues(stage: Stage | None) -> bool:
    return stage is not None and stage.issues_permit


def _moved_by_someone_else(session: Session, dossier_id: int, timezone: str) -> str:
    row = session.execute(
        select(Account.first_name, Account.last_name, StageEvent.occurred_at)
        .select_from(StageEvent)
        .outerjoin(Account, Account.id == StageEvent.actor_id)
        .where(StageEvent.dossier_id == dossier_id)
        .order_by(StageEvent.occurred_at.desc(), StageEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return "Berkas sudah dipindahkan oleh petugas lain."
    who = " ".join(part for part in (row.first_name, row.last_name) if part) or "petugas lain"
    return f"Berkas sudah dipindahkan oleh {who} pada {as_utc(row.occurred_at).astimezone(ZoneInfo(timezone)):%H:%M}."


def replay(
    events: Sequence[StageEvent], first_stage_id: int, issuing_stage_ids: frozenset[int] = frozenset()
) -> tuple[int, str]:
    """The (stage id, status) a dossier's history leads to; must equal what the dossier says."""
    stage_id, status = first_stage_id, DossierStatus.IN_PROGRESS.value
    for event in events:
        if event.action == Action.ADVANCE.value and event.to_stage_id is None:
            status = DossierStatus.ARCHIVED.value
        elif event.action == Action.ADVANCE.value and event.to_stage_id in issuing_stage_ids:
            status = DossierStatus.ISSUED.value
        elif event.action == Action.RETURN.value:
            status = DossierStatus.RETURNED.value
        elif event.action == Action.RESUME.value:
            status = DossierStatus.IN_PROGRESS.value
        elif event.action == Action.REJECT.value:
            status = DossierStatus.REJECTED.value
        if event.to_stage_id is not None:
            stage_id = event.to_stage_id
    return stage_id, status

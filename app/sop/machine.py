"""The SOP as a state machine: which moves a role may make on a dossier, and making them.

Rows of data drive it: a dossier's permit type lists its stages in order, each worked by one
role, with who may reject there and who takes returned files back; requirements say by which
stage a document must be verified. Nothing here names SOP 76 or a role. judge() has no side
effects; _step() is the one place that moves dossiers and writes history (apply and apply_many
call it).
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from app.audit import Actor, Change, actor_name, actor_of, changes_by, write
from app.audit.trail import jsonable
from app.models import (
    Account,
    Applicant,
    AuditAction,
    Company,
    Document,
    Dossier,
    DossierStatus,
    Permit,
    PermitType,
    RequirementType,
    Stage,
    StageEvent,
)
from app.sop.calendar import UTC, WorkingCalendar, as_utc
from app.sop.guards import missing_items
from app.sop.numbering import DescribePermit, issue_permit, lock_counters, numbering_year
from app.sop.schema import ONLINE_EVENTS
from app.sop.sla import due_at, return_pauses


class Action(str, enum.Enum):
    ADVANCE = "advance"  # Lanjutkan
    RETURN = "return"  # Kembalikan ke Pemohon
    RESUME = "resume"  # Lanjutkan Kembali
    REJECT = "reject"  # Tolak


NEEDS_REASON = frozenset({Action.RETURN, Action.REJECT})
# A return's note: the officer's reason, then this mark and the gate's missing items ("a; b"),
# which the return letter and the public status page split apart again.
MISSING_MARK = "\nKekurangan: "
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
    requirements: tuple[RequirementType, ...]  # in SOP order
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
    through: tuple[str, ...] = ()  # stages a carried ADVANCE passed between from_stage and to_stage


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
    dossiers = session.scalars(select(Dossier).where(Dossier.id.in_(dossier_ids))).all()
    for dossier in dossiers:
        if dossier.permit_type_id not in sop_rows:
            sop_rows[dossier.permit_type_id] = _sop_rows(session, dossier.permit_type_id)
    _load_parties_read_by_the_gate(session, dossiers, sop_rows)
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
        stages, requirements = sop_rows[dossier.permit_type_id]
        situations[dossier.id] = Situation(
            dossier, stages, requirements, frozenset(verified.get(dossier.id, ())), permits.get(dossier.id),
            successors.get(dossier.corrects_permit_id),
        )
    return situations


def _load_parties_read_by_the_gate(
    session: Session, dossiers: Sequence[Dossier], sop_rows: dict[int, tuple[tuple[Stage, ...], tuple]]
) -> None:
    """Loads, in one query each, the companies and applicants whose fields the dossiers' current
    stages demand (Stage.required_fields); the gate then finds them in the session, with no query
    per dossier. A stage that demands none of their fields costs nothing."""
    wanted: dict[str, set[int]] = {"company": set(), "applicant": set()}
    for dossier in dossiers:
        stage = next(s for s in sop_rows[dossier.permit_type_id][0] if s.id == dossier.stage_id)
        for field in stage.required_fields or ():
            party = field.partition(".")[0]
            if party in wanted:
                wanted[party].add(dossier.company_id if party == "company" else dossier.applicant_id)
    for model, ids in ((Company, wanted["company"]), (Applicant, wanted["applicant"])):
        if ids:
            session.scalars(select(model).where(model.id.in_(ids))).all()


_ACCOUNTS = Account.__table__


@dataclass(frozen=True)
class OnlineApplicant:
    """The portal account of the applicant of a dossier applied for online: the SOP steps its own
    events did (Stage.online_event) are recorded as this account's, dated by those events."""

    account_id: int
    name: str  # as the audit trail names an account
    done_at: dict[str, dt.datetime | None]  # online event -> when (UTC)

    def note(self, event: str, timezone: str) -> str:
        """e.g. "Dilakukan pemohon secara daring: akun terverifikasi 03-12-2026 09.12 WIB"."""
        when = self.done_at.get(event)
        text = f"Dilakukan pemohon secara daring: {ONLINE_EVENTS[event]}"
        if when is None:
            return text
        local = when.astimezone(ZoneInfo(timezone))
        return f"{text} {local:%d-%m-%Y %H.%M} {local.tzname()}"

    def actor(self, clerk: Actor) -> Actor:
        """The audit trail's actor of such a step: the applicant, through the channel the clerk's
        move came by; not the clerk's address, which is not where the applicant acted."""
        return Actor(self.account_id, self.name, None, clerk.origin)


def _account_instant(value: dt.datetime | None) -> dt.datetime | None:
    """FAB stamps accounts with the server's naive local time (datetime.now()), not UTC."""
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo is None else as_utc(value)


def online_applicants(session: Session, situations: Iterable[Situation]) -> dict[int, OnlineApplicant]:
    """Dossier id -> its applicant's account, for those of these dossiers applied for online whose
    applicant has an account: one query, none when no dossier was applied for online."""
    online = [s.dossier for s in situations if s.dossier.submitted_online]
    if not online:
        return {}
    accounts = {row.applicant_id: row for row in session.execute(
        select(Applicant.id.label("applicant_id"), _ACCOUNTS.c.id, _ACCOUNTS.c.username, _ACCOUNTS.c.first_name,
               _ACCOUNTS.c.last_name, _ACCOUNTS.c.created_on, _ACCOUNTS.c.last_login)
        .join(_ACCOUNTS, _ACCOUNTS.c.id == Applicant.account_id)
        .where(Applicant.id.in_({d.applicant_id for d in online}))
    )}
    found: dict[int, OnlineApplicant] = {}
    for dossier in online:
        row = accounts.get(dossier.applicant_id)
        if row is None:
            continue
        submitted = as_utc(dossier.submitted_at)
        signed_in = _account_instant(row.last_login)
        full_name = " ".join(part for part in (row.first_name, row.last_name) if part and part != "-")
        found[dossier.id] = OnlineApplicant(row.id, actor_name(row.username, full_name), {
            "account_verified": _account_instant(row.created_on),
            # The sign-in the application was made in: a later one (checking its status) is not it.
            "signed_in": signed_in if signed_in is not None and signed_in <= submitted else submitted,
            "data_filled": submitted,
        })
    return found


@dataclass(frozen=True)
class _Move:
    """A move judged allowed and not yet written: where the dossier goes and what is recorded."""

    situation: Situation
    action: Action
    to_stage: Stage | None
    new_status: str
    new_due: dt.datetime | None
    note: str
    numbers: bool  # into the numbering stage: takes the permit's number
    # Leaving a stage the applicant's own online event did: recorded as the applicant's step.
    by_applicant: OnlineApplicant | None = None

    def refused(self, *reasons: str) -> Outcome:
        return _refused(self.situation, self.action, reasons)


def _refused(situation: Situation, action: Action, reasons: Sequence[str]) -> Outcome:
    dossier = situation.dossier
    return Outcome(dossier.id, dossier.receipt_number, action, False, tuple(reasons), situation.stage.name)


def _plan(
    session: Session, situation: Situation, action: Action, *, roles: set[str], note: str | None,
    now: dt.datetime, calendar: WorkingCalendar | None, online: OnlineApplicant | None = None,
    timezone: str = "Asia/Jakarta",
) -> _Move | Outcome:
    """The move this action makes on this dossier, or the refusal saying why not. Writes nothing."""
    verdict = judge(situation, action, roles)
    if not verdict.allowed:
        return _refused(situation, action, verdict.reasons)
    note = (note or "").strip()
    if action in NEEDS_REASON and not note:
        return _refused(situation, action, ("Alasan wajib diisi.",))
    to_stage, new_status = _destination(situation, action)
    if action is Action.RETURN:
        missing = situation.missing()
        note = note + (MISSING_MARK + "; ".join(missing) if missing else "")
    # Only moving forward into the numbering stage numbers, and only once.
    numbers = action is Action.ADVANCE and _issues(to_stage)
    assert not (numbers and situation.permit_number), "a dossier is numbered once"
    # A step the applicant already did online (still behind the gate above, like any other).
    event = situation.stage.online_event if action is Action.ADVANCE and online is not None else None
    by_applicant = online if event in ONLINE_EVENTS else None
    if by_applicant is not None:
        note = by_applicant.note(event, timezone) + (f"\n{note}" if note else "")
    return _Move(situation, action, to_stage, new_status, _due_after(session, situation, action, calendar, now),
                 note, numbers, by_applicant)


_UNCHANGED = object()
_DOSSIERS = Dossier.__table__


def _write_moves(session: Session, moves: Sequence[_Move]) -> set[int]:
    """The guarded UPDATEs of these moves; returns the ids that moved.

    Each row matches only as it was judged (same id, stage, status and version), so a dossier
    another officer moved in between is left alone. Moves alike (same stage and status before
    and after, promise unchanged) share one statement; Core on the session's connection, as the
    ORM's bulk-UPDATE bookkeeping is not needed here.
    """
    alike: dict[tuple, list[_Move]] = {}
    for planned in moves:
        dossier = planned.situation.dossier
        due = _UNCHANGED if planned.new_due == dossier.due_at else planned.new_due
        to_stage_id = (planned.to_stage or planned.situation.stage).id
        key = (planned.action, dossier.stage_id, dossier.status, to_stage_id, planned.new_status, due)
        alike.setdefault(key, []).append(planned)
    moved: set[int] = set()
    connection = session.connection()
    for (action, seen_stage, seen_status, to_stage_id, new_status, due), group in alike.items():
        values = {"stage_id": to_stage_id, "status": new_status, "version": _DOSSIERS.c.version + 1}
        if due is not _UNCHANGED:
            values["due_at"] = due
        if action is Action.RESUME:  # the papers the applicant sent from the portal are taken in
            values["resubmitted_at"] = None
        seen = [(m.situation.dossier.id, m.situation.dossier.version) for m in group]
        moved.update(connection.execute(
            update(_DOSSIERS)
            .where(_DOSSIERS.c.stage_id == seen_stage, _DOSSIERS.c.status == seen_status,
                   tuple_(_DOSSIERS.c.id, _DOSSIERS.c.version).in_(seen))
            .values(values)
            .returning(_DOSSIERS.c.id)
        ).scalars())
    return moved


def _record(planned: _Move, actor_id: int | None, now: dt.datetime) -> tuple[dict, Change]:
    """The history row and the audit row of a move that was written (an applicant's online step
    is the applicant's account's)."""
    situation, to_stage = planned.situation, planned.to_stage
    dossier, stage = situation.dossier, situation.stage
    note = planned.note or None
    if planned.by_applicant is not None:
        actor_id = planned.by_applicant.account_id
    event = dict(dossier_id=dossier.id, from_stage_id=stage.id, to_stage_id=to_stage.id if to_stage else None,
                 action=planned.action.value, actor_id=actor_id, occurred_at=now, note=note)
    fields = _moved_fields(stage, to_stage, dossier.status, planned.new_status, dossier.due_at, planned.new_due)
    if planned.action is Action.RESUME and dossier.resubmitted_at is not None:
        fields["resubmitted_at"] = [jsonable(dossier.resubmitted_at), None]
    change = Change("dossier", dossier.id, AuditAction.MOVE, fields, dossier.id, note)
    return event, change


def _moved(
    session: Session, planned: _Move, now: dt.datetime, timezone: str, describe_permit: DescribePermit | None
) -> Outcome:
    """After the UPDATE: numbers the permit when the move issues it, in the same transaction (if
    the caller rolls back, the number was never taken)."""
    situation, to_stage = planned.situation, planned.to_stage
    dossier = situation.dossier
    assert describe_permit is not None or not planned.numbers, "numbering needs what the permit prints"
    permit_number = (
        issue_permit(session, dossier, now, timezone, describe_permit).permit_number if planned.numbers else ""
    )
    dossier_id, receipt = dossier.id, dossier.receipt_number
    # What the UPDATE changed is read again from the database when next used.
    session.expire(dossier, ["stage_id", "stage", "status", "due_at", "version", "resubmitted_at"])
    return Outcome(dossier_id, receipt, planned.action, True, (), situation.stage.name,
                   to_stage.name if to_stage else "", permit_number)


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
    carry: bool = False,
) -> Outcome:
    """Makes one move in the caller's transaction: a guarded UPDATE, then the history row and
    the audit row.

    The UPDATE only matches the dossier as it was judged (same stage, status and version); if
    another officer moved it in between, nothing is written and the outcome says who and when.
    A move into the numbering stage numbers the permit, which `describe_permit` says the content
    of (required then). With `carry`, an ADVANCE goes on through the following stages of the same
    role while their gates hold (see _carries_on). On a dossier applied for online, an ADVANCE out
    of a stage its applicant's own event did (Stage.online_event) is recorded as the applicant's
    account's, dated by that event (see OnlineApplicant). The caller commits (or rolls back).
    """
    dossier_id = situation.dossier.id
    return _apply_chunk(session, [dossier_id], {dossier_id: situation}, action, actor_id=actor_id, roles=set(roles),
                        note=note, now=as_utc(now), timezone=timezone, calendar=calendar,
                        describe_permit=describe_permit, carry=carry, sop_rows={})[0]


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
    carry: bool = False,
) -> list[Outcome]:
    """One action on many dossiers (a bulk move): every row judged on its own, one Outcome each.

    Per chunk: the rows loaded with their SOP rows and verified documents (a few queries, not
    per row), each judged, the allowed moves written by one guarded UPDATE per kind of move (see
    _write_moves), then the chunk's history rows in one INSERT and its audit rows in another.
    The caller commits.
    """
    sop_rows: dict[int, tuple[tuple[Stage, ...], tuple[RequirementType, ...]]] = {}
    outcomes: list[Outcome] = []
    unique_ids = list(dict.fromkeys(dossier_ids))
    for start in range(0, len(unique_ids), BULK_CHUNK):
        chunk = unique_ids[start : start + BULK_CHUNK]
        outcomes += _apply_chunk(
            session, chunk, load_situations(session, chunk, sop_rows), action, actor_id=actor_id, roles=set(roles),
            note=note, now=as_utc(now), timezone=timezone, calendar=calendar, describe_permit=describe_permit,
            carry=carry, sop_rows=sop_rows,
        )
    return outcomes


def _apply_chunk(
    session: Session, dossier_ids: Sequence[int], situations: dict[int, Situation], action: Action, *,
    carry: bool, sop_rows: dict, **step: object,
) -> list[Outcome]:
    """One step for these dossiers, then, when carrying, the next steps of those that carry on:
    each step judged and written on its own, with its own history row."""
    # The role that moves each dossier, read before the move changes its stage.
    worker = {i: s.stage.role_name for i, s in situations.items()} if carry else {}
    # The accounts of applicants who applied online, once per chunk: their steps are theirs.
    step["online"] = online_applicants(session, situations.values()) if action is Action.ADVANCE else {}
    outcomes = _step(session, dossier_ids, situations, action, **step)
    if not (carry and action is Action.ADVANCE):
        return outcomes
    by_id = {o.dossier_id: i for i, o in enumerate(outcomes)}
    going = [o.dossier_id for o in outcomes if o.moved]
    while going:
        here = load_situations(session, going, sop_rows)
        onward = [i for i in going if i in here and _carries_on(here[i], worker[i], step["roles"])]
        if not onward:
            break
        going = []
        for hop in _step(session, onward, here, action, **step):
            if hop.moved:
                index = by_id[hop.dossier_id]
                outcomes[index] = _carried(outcomes[index], hop)
                going.append(hop.dossier_id)
    return outcomes


def _carries_on(situation: Situation, worker: str, roles: set[str]) -> bool:
    """Whether a dossier just advanced goes on at once: it reached another stage of the role that
    moved it, and that stage's gate holds. A number once taken ends the carry (the permit is a
    legal act of its own), as does a dossier no longer in progress."""
    return (
        situation.dossier.status == DossierStatus.IN_PROGRESS.value
        and situation.stage.role_name == worker
        and situation.next_stage is not None
        and judge(situation, Action.ADVANCE, roles).allowed
    )


def _carried(first: Outcome, hop: Outcome) -> Outcome:
    """A carried move as one outcome: from the first stage to the last, through the ones between."""
    return replace(first, to_stage=hop.to_stage, through=(*first.through, first.to_stage),
                   permit_number=hop.permit_number or first.permit_number)


def _step(
    session: Session, dossier_ids: Sequence[int], situations: dict[int, Situation], action: Action, *,
    actor_id: int | None, roles: set[str], note: str | None, now: dt.datetime, timezone: str,
    calendar: WorkingCalendar | None, describe_permit: DescribePermit | None, online: dict[int, OnlineApplicant],
) -> list[Outcome]:
    plans: list[_Move | Outcome] = [
        _plan(session, situations[dossier_id], action, roles=roles, note=note, now=now, calendar=calendar,
              online=online.get(dossier_id), timezone=timezone)
        if dossier_id in situations
        else Outcome(dossier_id, "", action, False, ("Berkas tidak ditemukan.",))
        for dossier_id in dossier_ids
    ]
    moves = [p for p in plans if isinstance(p, _Move)]
    numbered = [m.situation for m in moves if m.numbers]
    if numbered:  # the counters before any dossier (see lock_counters)
        lock_counters(session, _series(session, numbered), numbering_year(now, timezone))
    written = _write_moves(session, moves)
    outcomes: list[Outcome] = []
    events: list[dict] = []
    trail: list[Change] = []
    # An applicant's online steps go to the trail under the applicant's account (one write per account).
    trail_of: dict[int, tuple[OnlineApplicant, list[Change]]] = {}
    for planned in plans:
        if isinstance(planned, Outcome):
            outcomes.append(planned)
        elif planned.situation.dossier.id not in written:
            outcomes.append(planned.refused(_moved_by_someone_else(session, planned.situation.dossier.id, timezone)))
        else:
            event, change = _record(planned, actor_id, now)
            events.append(event)
            by = planned.by_applicant
            (trail if by is None else trail_of.setdefault(by.account_id, (by, []))[1]).append(change)
            outcomes.append(_moved(session, planned, now, timezone, describe_permit))
    if events:
        session.execute(insert(StageEvent), events)
        write(session, trail, now=now)
        for applicant, changes in trail_of.values():
            with changes_by(session, actor=applicant.actor(actor_of(session))):
                write(session, changes, now=now)
    return outcomes


def _sop_rows(session: Session, permit_type_id: int) -> tuple[tuple[Stage, ...], tuple[RequirementType, ...]]:
    stages = tuple(session.scalars(select(Stage).where(Stage.permit_type_id == permit_type_id).order_by(Stage.seq)))
    requirements = tuple(
        session.scalars(
            select(RequirementType)
            .where(RequirementType.permit_type_id == permit_type_id)
            .options(selectinload(RequirementType.due_stage))
            .order_by(RequirementType.seq)
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

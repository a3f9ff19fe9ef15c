"""What the dossier's show page adds to FAB's: the moves open to the signed-in officer, the SLA
clock and the history in working time (stage visits against each stage's time standard).

The helpers are Jinja globals so the template only lays things out; every decision (which moves,
how late, which visit exceeded its standard) is made here, from app.sop.machine and app.sop.sla.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.formatting import format_moment, format_working_time
from app.labels import AUDIT_ACTIONS, AUDIT_ENTITIES, STAGE_ACTIONS, label
from app.models import AuditAction, AuditEntry, DossierStatus, Permit, Stage, StageEvent
from app.office import office_calendar
from app.people import full_name
from app.security import roles as resources
from app.sop.calendar import as_utc
from app.sop.machine import FINAL_STATUSES, Action, allowed_actions
from app.sop.sla import is_overdue, return_pauses, stage_durations, working_time_left
from app.views.audit import describe_changes
from app.views.dossier_page import dossier_page
from app.views.dossiers import ACTION_LABELS


def register_dossier_page_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        dossier_moves=dossier_moves,
        dossier_timeline=dossier_timeline,
        dossier_history=dossier_history,
        dossier_clock=dossier_clock,
        dossier_permit=dossier_permit,
    )


# --------------------------------------------------------------------------- shared


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _events(dossier_id: int) -> list[StageEvent]:
    """The dossier's history in time order (ties in insertion order), officers loaded; stages come
    from the page's permit type. Read once per request with the rest of the page (dossier_page)."""
    page = dossier_page(dossier_id)
    return list(page.events) if page is not None else []


# --------------------------------------------------------------------------- moves


class MoveOption(NamedTuple):
    action: Action
    label: str
    allowed: bool
    reasons: tuple[str, ...]


def dossier_moves(pk: int | str) -> list[MoveOption]:
    """Every SOP action for the signed-in officer on this dossier: allowed or not, and why not."""
    page = dossier_page(pk)
    if page is None or not current_user.is_authenticated:
        return []
    situation = page.situation
    user_roles = {role.name for role in current_app.appbuilder.sm.get_user_roles(current_user)}
    may_move = current_app.appbuilder.sm.has_access("can_move", resources.DOSSIER_MOVE)
    options = []
    for verdict in allowed_actions(situation, user_roles):
        reasons = verdict.reasons
        if not may_move:
            reasons = (str(_l("Your role may not move dossiers.")), *reasons)
        options.append(MoveOption(verdict.action, str(ACTION_LABELS[verdict.action]), verdict.allowed and may_move,
                                  tuple(reasons)))
    return options


# --------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class VisitRow:
    """One stay at a stage, as the timeline shows it."""

    seq: int
    stage: str
    entered_at: str
    entered_by: str
    left_at: str  # "" while the dossier is still at this stage
    left_by: str
    working_minutes: int
    working_time: str
    paused_time: str  # "" if the dossier was not returned meanwhile
    time_standard: str
    exceeded: bool
    current: bool


def _moves_stage(event: StageEvent, current: int | None) -> tuple[bool, int | None]:
    """(does this event start or end a stage visit, the stage after it), as sla.stage_durations counts."""
    if event.action == Action.REJECT.value or (event.action == Action.ADVANCE.value and event.to_stage_id is None):
        target = None
    else:
        target = event.to_stage_id if event.to_stage_id is not None else current
    return target != current, target


def _visit_events(events: Sequence[StageEvent]) -> list[tuple[StageEvent, StageEvent | None]]:
    """(event that brought the dossier to the stage, event that took it away or None), per visit."""
    spans: list[list] = []
    current: int | None = None
    for event in events:
        changes, target = _moves_stage(event, current)
        if not changes:
            continue
        if spans and spans[-1][1] is None and current is not None:
            spans[-1][1] = event
        if target is not None:
            spans.append([event, None])
        current = target
    return [(entered, left) for entered, left in spans]


def dossier_timeline(pk: int | str) -> list[VisitRow]:
    """One row per stage visit: who moved it in and out, when, working time against the standard."""
    events = _events(int(pk))
    if not events:
        return []
    now = _now()
    visits = stage_durations(office_calendar(), events, now)
    stages = {s.id: s for s in dossier_page(pk).stages}
    if missing := {v.stage_id for v in visits} - stages.keys():  # a stage of another permit type
        stages |= {s.id: s for s in db.session.scalars(select(Stage).where(Stage.id.in_(missing)))}
    movers = _visit_events(events)
    if len(movers) != len(visits) or any(e.to_stage_id != v.stage_id for (e, _), v in zip(movers, visits)):
        movers = [(None, None)] * len(visits)  # cannot happen with one rule; never name the wrong officer
    rows = []
    for visit, (entered, left) in zip(visits, movers):
        stage = stages[visit.stage_id]
        rows.append(VisitRow(
            seq=stage.seq,
            stage=stage.name,
            entered_at=format_moment(visit.entered_at),
            entered_by=full_name(entered.actor) if entered is not None else "",
            left_at=format_moment(visit.left_at),
            left_by=full_name(left.actor) if left is not None else "",
            working_minutes=visit.working_minutes,
            working_time=format_working_time(visit.working_minutes),
            paused_time=format_working_time(visit.paused_minutes) if visit.paused_minutes else "",
            time_standard=stage.time_standard_text,
            exceeded=visit.exceeds(stage.time_standard_minutes),
            current=visit.left_at is None,
        ))
    return rows


@dataclass(frozen=True)
class HistoryRow:
    occurred_at: str
    action: str
    from_stage: str
    to_stage: str
    officer: str
    note: str
    kind: str = "move"  # a move through the SOP (StageEvent), or a "change" of the records (audit trail)


def dossier_history(pk: int | str) -> list[HistoryRow]:
    """The dossier's moves (StageEvents) and every recorded change of it, its documents, its
    permit and its register line (the audit trail), in one timeline, oldest first."""
    timed = [
        (as_utc(e.occurred_at), 0, HistoryRow(
            occurred_at=format_moment(as_utc(e.occurred_at)),
            action=str(STAGE_ACTIONS.get(e.action, e.action)),
            from_stage=e.from_stage.name if e.from_stage else "",
            to_stage=e.to_stage.name if e.to_stage else "",
            officer=full_name(e.actor),
            note=e.note or "",
        ))
        for e in _events(int(pk))
    ]
    changes = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.dossier_id == int(pk), AuditEntry.action != AuditAction.MOVE.value)
        .order_by(AuditEntry.id)
    )
    for entry in changes:
        if entry.entity == "dossier" and entry.action == AuditAction.CREATE.value:
            continue  # its submit row opens the history
        described = describe_changes(entry.entity, entry.action, entry.changes)
        reason = f"\n{_l('Reason')}: {entry.reason}" if entry.reason else ""
        timed.append((as_utc(entry.occurred_at), 1, HistoryRow(
            occurred_at=format_moment(as_utc(entry.occurred_at)),
            action=f"{label(AUDIT_ENTITIES, entry.entity)} · {label(AUDIT_ACTIONS, entry.action)}",
            from_stage="", to_stage="", officer=entry.actor_name, note=described + reason, kind="change",
        )))
    timed.sort(key=lambda row: row[:2])
    return [row for _, _, row in timed]


def dossier_permit(pk: int | str) -> Permit | None:
    """The dossier's permit, once numbered (the page says what is frozen from then on)."""
    page = dossier_page(pk)
    return page.permit if page is not None else None


# --------------------------------------------------------------------------- clock


@dataclass(frozen=True)
class Clock:
    due: str  # the promise (Dossier.due_at: set at intake, pushed later by each resume)
    minutes_left: int  # working minutes; negative: late by that much
    time_left: str  # formatted, sign dropped (see overdue)
    overdue: bool
    paused: bool  # returned to the applicant: the clock does not run
    stopped: bool  # rejected or archived: the clock stopped at the final move


def dossier_clock(pk: int | str) -> Clock | None:
    """The SLA clock: due date, working time left (or late by), paused while returned.

    Counted as the dossier grid counts it (app.views.grid): Dossier.due_at already includes the
    returns that ended (a resume pushes it), so only a return still open stops the clock here.
    A finished dossier (rejected or archived) is read at its final move, so the page keeps
    saying whether it was finished on time.
    """
    page = dossier_page(pk)
    if page is None or page.dossier.due_at is None:
        return None
    dossier = page.dossier
    events = _events(dossier.id)
    stopped = dossier.status in FINAL_STATUSES
    at = as_utc(events[-1].occurred_at) if stopped and events else _now()
    calendar = office_calendar()
    pauses = [(start, end) for start, end in return_pauses(events) if end is None]  # the open return, if any
    left = working_time_left(calendar, dossier.due_at, at, pauses)
    return Clock(
        due=format_moment(as_utc(dossier.due_at)),
        minutes_left=left,
        time_left=format_working_time(left),
        overdue=is_overdue(calendar, dossier.due_at, at, pauses),
        paused=dossier.status == DossierStatus.RETURNED.value,
        stopped=stopped,
    )

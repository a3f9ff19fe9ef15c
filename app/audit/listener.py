"""The trail of every change made through the ORM (forms, the API, uploads, FAB's user screens).

Before a flush, each pending update and delete of an audited record is checked against
app.changes (frozen after issue, a reason after receipt, nothing deleted while in use): a
refusal raises ChangeRefused and nothing is written. After the flush (ids are known), one trail
row per created, updated and deleted record goes in, in the same transaction.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.relationships import RelationshipDirection

from app.audit.context import reason_of
from app.audit.trail import AUDITED, SECRET, Audited, Change, jsonable, write
from app.changes import ChangeRefused, ReasonRequired, frozen_refusal, in_use_refusal, needs_reason, reason_refusal
from app.models import AuditAction, Dossier

_PENDING = "audit_pending_updates"  # before_flush -> after_flush, per flush


def _value(spec: Audited, key: str, value: Any) -> Any:  # noqa: ANN401
    return SECRET if key in spec.secret and value is not None else jsonable(value)


def _members(names: Any, items: Any) -> list[str]:  # noqa: ANN401
    return sorted(names(item) for item in items)


def updated_fields(session: Session, record: object, spec: Audited) -> dict[str, list[Any]]:
    """{attribute: [old, new]} of a pending or just-flushed update. An attribute set without its
    old value loaded (the record expired after a commit) gets its old value from the database."""
    state = inspect(record)
    changes: dict[str, list[Any]] = {}
    unknown: set[str] = set()
    for attr in state.mapper.column_attrs:
        if attr.key in spec.skip:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if not history.deleted and not history.unchanged:
            unknown.add(attr.key)
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        changes[attr.key] = [jsonable(old), jsonable(new)]
    for relation in state.mapper.relationships:
        history = state.attrs[relation.key].history
        if not history.has_changes():
            continue
        if relation.direction is RelationshipDirection.MANYTOONE:
            # Set through the relationship: recorded on its foreign key column, as ids.
            (column,) = relation.local_columns
            if column.key in spec.skip or column.key in changes:
                continue
            if not history.deleted and not history.unchanged:
                unknown.add(column.key)
            old = history.deleted[0].id if history.deleted and history.deleted[0] is not None else None
            new = history.added[0].id if history.added and history.added[0] is not None else None
            changes[column.key] = [old, new]
        elif relation.key in spec.collections:
            names = spec.collections[relation.key]
            before = _members(names, [*history.unchanged, *history.deleted])
            after = _members(names, [*history.unchanged, *history.added])
            if before != after:
                changes[relation.key] = [before, after]
    if unknown and state.key is not None:
        table = state.mapper.local_table
        stored = session.connection().execute(
            select(table).where(table.c.id == state.identity[0])).mappings().first() or {}
        for key in unknown:
            changes[key][0] = jsonable(stored.get(key))
    return {
        key: [SECRET, SECRET] if key in spec.secret else values
        for key, values in changes.items() if values[0] != values[1]
    }


def _values(record: object, spec: Audited, created: bool) -> dict[str, Any]:
    """A created record's filled values, or every value of a deleted one."""
    state = inspect(record)
    return {
        attr.key: _value(spec, attr.key, state.dict.get(attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in spec.skip and attr.key != "id" and not (created and state.dict.get(attr.key) is None)
    } | {
        key: _members(names, state.dict.get(key) or ()) for key, names in spec.collections.items()
    }


def _dossier_id(record: object, spec: Audited) -> int | None:
    return getattr(record, spec.dossier_key) if spec.dossier_key else None


def update_refusal(session: Session, record: object, changed: dict[str, Any]) -> ChangeRefused | None:
    """Why this pending update may not be written (app.changes), or None. The session's reason
    is the one given for it."""
    if not changed:
        return None
    if isinstance(record, Dossier):
        refusal = frozen_refusal(session, record.id, changed)
        if refusal:
            return ChangeRefused(refusal)
    if needs_reason(session, record):
        refusal = reason_refusal(reason_of(session))
        if refusal:
            return ReasonRequired(refusal)
    return None


def pending_refusal(session: Session, record: object) -> ChangeRefused | None:
    """update_refusal of a record changed in this session and not flushed yet (a form or the API
    asks before saving, to answer with the reason)."""
    spec = AUDITED.get(type(record))
    if spec is None:
        return None
    with session.no_autoflush:
        return update_refusal(session, record, updated_fields(session, record, spec))


@event.listens_for(Session, "before_flush")
def _refuse_what_the_rules_refuse(session: Session, _context, _instances) -> None:  # noqa: ANN001
    pending = session.info[_PENDING] = {}
    with session.no_autoflush:
        for record in session.dirty:
            spec = AUDITED.get(type(record))
            if spec is not None and session.is_modified(record):
                changed = pending[id(record)] = updated_fields(session, record, spec)
                refusal = update_refusal(session, record, changed)
                if refusal is not None:
                    raise refusal
        for record in session.deleted:
            if type(record) in AUDITED:
                refusal = in_use_refusal(session, record)
                if refusal:
                    raise ChangeRefused(refusal)


@event.listens_for(Session, "after_flush")
def _write_the_trail(session: Session, _context) -> None:  # noqa: ANN001
    changes = []
    for record in session.new:
        spec = AUDITED.get(type(record))
        if spec is not None:
            changes.append(Change(spec.entity, record.id, AuditAction.CREATE, _values(record, spec, created=True),
                                  _dossier_id(record, spec)))
    pending = session.info.pop(_PENDING, {})
    for record in session.dirty:
        spec = AUDITED.get(type(record))
        if spec is not None:
            # As checked before the flush (old values read then); new related rows have ids now.
            changed = updated_fields(session, record, spec) if id(record) not in pending else {
                key: [old, new if key in spec.collections else _value(spec, key, getattr(record, key, new))]
                for key, (old, new) in pending[id(record)].items()
            }
            if changed:
                changes.append(Change(spec.entity, record.id, AuditAction.UPDATE, changed, _dossier_id(record, spec)))
    for record in session.deleted:
        spec = AUDITED.get(type(record))
        if spec is not None:
            changes.append(Change(spec.entity, record.id, AuditAction.DELETE, _values(record, spec, created=False),
                                  _dossier_id(record, spec)))
    write(session, changes)

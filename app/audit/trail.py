"""Writing the audit trail: which records are audited, and one row per change of one of them.

Changes made through the ORM are written by app.audit.listener; code that writes with Core
statements for speed (the SOP engine, numbering, imports, undo) writes its rows here itself, in
the same transaction: a rolled-back change leaves no trail, a committed one always does.
"""
from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, func, insert, literal, null, select
from sqlalchemy.orm import Session

from app.audit.context import actor_of, import_batch_of, reason_of
from app.models import (
    Applicant,
    AuditAction,
    AuditEntry,
    Company,
    Document,
    Dossier,
    LocalHoliday,
    Permit,
    RegisterEntry,
    SigningCertificate,
)

CHUNK = 900  # ids per IN (...): below SQLite's default variable limit


@dataclass(frozen=True)
class Audited:
    """How one model is audited."""

    entity: str  # its table name, as the trail names it
    skip: frozenset[str] = frozenset()  # bookkeeping columns not recorded
    secret: frozenset[str] = frozenset()  # recorded as changed, never the value (a password hash)
    dossier_key: str | None = None  # the attribute holding the id of the dossier it belongs to
    # Many-to-many collections recorded as the sorted names of their members.
    collections: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)


AUDITED: dict[type, Audited] = {}


def audit(model: type, spec: Audited) -> None:
    AUDITED[model] = spec


audit(Company, Audited("company", skip=frozenset({"created_at"})))
audit(Applicant, Audited("applicant", skip=frozenset({"created_at"})))
# A move's stage, status, promise and version are the engine's (written by apply() as a move).
audit(Dossier, Audited("dossier", dossier_key="id"))
audit(Document, Audited("document", dossier_key="dossier_id"))
audit(RegisterEntry, Audited("register_entry", dossier_key="dossier_id"))
audit(Permit, Audited("permit", dossier_key="dossier_id", skip=frozenset({"snapshot"})))
audit(LocalHoliday, Audited("local_holiday"))
# A signer's certificate: who uploaded, replaced or removed it and when; never its sealed bytes.
audit(SigningCertificate, Audited("signing_certificate", secret=frozenset({"sealed_p12"})))

SECRET = "(diubah)"


@dataclass(frozen=True)
class Change:
    entity: str
    record_id: int
    action: AuditAction
    changes: dict[str, Any]
    dossier_id: int | None = None
    reason: str | None = None  # this row's own reason, else the session's


def jsonable(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def write(session: Session, changes: Sequence[Change], *, now: dt.datetime | None = None,
          reason: str | None = None) -> None:
    """One trail row per change, with the session's actor, reason and import batch."""
    if not changes:
        return
    actor = actor_of(session)
    base = dict(
        occurred_at=now or dt.datetime.now(dt.UTC), actor_id=actor.id, actor_name=actor.name,
        address=actor.address, origin=actor.origin, reason=reason if reason is not None else reason_of(session),
        import_batch_id=import_batch_of(session),
    )
    session.connection().execute(insert(AuditEntry.__table__), [
        {**base, "entity": c.entity, "record_id": c.record_id, "action": c.action.value,
         "dossier_id": c.dossier_id, "changes": c.changes, **({"reason": c.reason} if c.reason else {})}
        for c in changes
    ])


def record_rows(session: Session, model: type, ids: Sequence[int], action: AuditAction,
                now: dt.datetime | None = None, given: Sequence[str] | None = None) -> None:
    """A create (after the INSERT) or a delete (before the DELETE) of many rows, their values
    read by the database itself: one INSERT ... SELECT per chunk, no row through Python. A create
    records the columns it was `given` (the others are empty in a new row), a delete every one."""
    spec = AUDITED[model]
    assert action in (AuditAction.CREATE, AuditAction.DELETE) and not spec.secret
    table = model.__table__
    columns = [c for c in table.columns if c.key != "id" and c.key not in spec.skip
               and (given is None or c.key in given)]
    build = func.json_build_object if session.get_bind().dialect.name == "postgresql" else func.json_object
    values = build(*[part for c in columns for part in (literal(c.key, String), c)])
    actor = actor_of(session)
    batch, reason = import_batch_of(session), reason_of(session)
    target = AuditEntry.__table__
    # Ids that fill a range exactly (a bulk INSERT's, usually) are selected by the range: one
    # statement for the lot; otherwise by IN lists in chunks.
    if ids and max(ids) - min(ids) + 1 == len(set(ids)) == len(ids):
        selections = [table.c.id.between(min(ids), max(ids))]
    else:
        selections = [table.c.id.in_(ids[start : start + CHUNK]) for start in range(0, len(ids), CHUNK)]
    for where in selections:
        query = select(
            literal(now or dt.datetime.now(dt.UTC), DateTime(timezone=True)),
            literal(actor.id, Integer) if actor.id is not None else null(),
            literal(actor.name, String), literal(actor.address, String), literal(actor.origin, String),
            literal(spec.entity, String), table.c.id, literal(action.value, String),
            table.c[spec.dossier_key] if spec.dossier_key else null(),
            values, literal(reason, Text) if reason is not None else null(),
            literal(batch, Integer) if batch is not None else null(),
        ).where(where)
        session.connection().execute(target.insert().from_select(
            ["occurred_at", "actor_id", "actor_name", "address", "origin", "entity", "record_id", "action",
             "dossier_id", "changes", "reason", "import_batch_id"],
            query,
        ))

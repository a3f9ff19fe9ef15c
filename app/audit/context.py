"""Who is changing the records, from where and why: kept on the SQLAlchemy session, so the
trail (app.audit.trail) reads it whichever code path writes. No Flask: the web app sets a
resolver per request (app.audit_web), a job or a command sets its own actor."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str  # as the trail keeps it: "username (Full Name)"
    address: str | None = None
    origin: str = "system"  # web, api, import, job, cli, system


SYSTEM = Actor(None, "sistem")


def actor_name(username: str, full_name: str | None) -> str:
    """How the trail names an account: its username, and the person's name as it is today."""
    return f"{username} ({full_name})" if full_name else username

_ACTOR, _REASON, _BATCH = "audit_actor", "audit_reason", "audit_import_batch"


def set_actor(session: Session, actor: Actor | Callable[[], Actor]) -> None:
    """The actor of every change this session writes from now on; a callable is asked at write
    time (a web request knows its user only once the login or token is checked)."""
    session.info[_ACTOR] = actor


def actor_of(session: Session) -> Actor:
    actor = session.info.get(_ACTOR, SYSTEM)
    return actor() if callable(actor) else actor


def set_reason(session: Session, reason: str | None) -> None:
    """Why the changes written next are made (until cleared or replaced)."""
    session.info[_REASON] = (reason or "").strip() or None


def reason_of(session: Session) -> str | None:
    return session.info.get(_REASON)


def import_batch_of(session: Session) -> int | None:
    return session.info.get(_BATCH)


@contextmanager
def changes_by(session: Session, *, reason: str | None = None, import_batch_id: int | None = None,
               actor: Actor | None = None) -> Iterator[None]:
    """Within the block, changes carry this reason (and import batch, and actor)."""
    saved = {key: session.info.get(key) for key in (_ACTOR, _REASON, _BATCH)}
    if reason is not None:
        set_reason(session, reason)
    if import_batch_id is not None:
        session.info[_BATCH] = import_batch_id
    if actor is not None:
        session.info[_ACTOR] = actor
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                session.info.pop(key, None)
            else:
                session.info[key] = value

"""Moving many dossiers without holding the office up: short transactions, retried when the
database gives one up. No Flask: the move screen and the bulk-move job call this.

Each chunk is judged, moved and committed on its own (app.sop.machine.apply_many), so a single
move waits at most for one chunk; numbering takes its counters before its dossiers in every
transaction (app.sop.numbering.lock_counters), so no move waits for another in a circle. Should
the database still give a transaction up (a deadlock, a serialization failure, SQLite busy past
its timeout), the chunk is rolled back and judged again from what the database says now.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.sop.machine import Action, Outcome, apply_many

# Dossiers per transaction: a chunk that numbers holds the counters until it commits (about
# 15 ms a permit on PostgreSQL), and a single move into numbering waits for that much at most.
CHUNK = 20
ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})


def given_up_by_the_database(exc: DBAPIError) -> bool:
    """A transaction the database broke off for the others' sake: running it again may work."""
    state = getattr(exc.orig, "sqlstate", None)
    return state in _RETRY_SQLSTATES or "database is locked" in str(exc.orig)


def move_in_chunks(
    session: Session,
    dossier_ids: Sequence[int],
    action: Action,
    *,
    clock: Callable[[], dt.datetime],
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    **move: object,
) -> list[Outcome]:
    """apply_many on `chunk` dossiers at a time, each committed at the time `clock` says then;
    `move` are its other keyword arguments (actor, roles, note ...). progress(done) after each."""
    outcomes: list[Outcome] = []
    ids = list(dict.fromkeys(dossier_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                done = apply_many(session, part, action, now=clock(), **move)
                session.commit()
            except DBAPIError as exc:
                session.rollback()
                if attempt == ATTEMPTS or not given_up_by_the_database(exc):
                    raise
            else:
                break
        outcomes += done
        if progress is not None:
            progress(len(outcomes))
    return outcomes

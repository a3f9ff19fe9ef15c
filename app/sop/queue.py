"""An officer's queue: the dossiers waiting at the stages their roles work. No Flask.

The order is app.sop.worklist's (the promise that runs out first on top), so the move screens'
"next dossier" is the top of the queue the home page shows.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Dossier, Stage
from app.sop.worklist import queue_select


def next_in_queue(session: Session, roles: Iterable[str], exclude_id: int | None = None) -> int | None:
    """The id of the dossier these roles should work next: open (in progress or issued, not with
    the applicant, not finished) at a stage one of the roles works, due soonest (no due date last,
    then the oldest id), other than exclude_id. None when nothing waits."""
    roles = set(roles)
    stage_ids = session.scalars(select(Stage.id).where(Stage.role_name.in_(roles))).all() if roles else []
    if not stage_ids:
        return None
    query = queue_select(stage_ids)
    if exclude_id is not None:
        query = query.where(Dossier.id != exclude_id)
    return session.scalar(query.limit(1))

"""What a move would do, said before anything is written: the verdict of every dossier. No Flask.

The confirmation screen shows it, then offers to move only the dossiers judged movable, each with
the version it saw; a dossier moved since (changed_since) is left where it is, and apply judges
the others again when it writes.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Dossier, RequirementType, Stage
from app.sop.machine import Action, judge, load_situations

# Dossiers loaded at a time: a few queries each, and a bounded number of rows in memory.
CHUNK = 500


@dataclass(frozen=True)
class Judged:
    dossier_id: int
    receipt_number: str
    stage: str  # the stage's name now
    version: int  # Dossier.version: bumped by every move
    reasons: tuple[str, ...] = ()  # empty: may move


@dataclass
class Forecast:
    movable: list[Judged] = field(default_factory=list)
    refused: list[Judged] = field(default_factory=list)

    @property
    def movable_seen(self) -> dict[int, int]:
        """The movable dossiers' ids with the version judged."""
        return {row.dossier_id: row.version for row in self.movable}

    def by_reason(self) -> list[tuple[str, list[Judged]]]:
        """Each reason with the refused dossiers it holds back, the most common first (a dossier
        held back for two reasons is under both)."""
        groups: dict[str, list[Judged]] = {}
        for row in self.refused:
            for reason in row.reasons:
                groups.setdefault(reason, []).append(row)
        return sorted(groups.items(), key=lambda item: -len(item[1]))


def forecast(session: Session, dossier_ids: Sequence[int], action: Action, roles: Iterable[str],
             *, chunk: int = CHUNK) -> Forecast:
    """judge() of this action on every dossier (ids not found are left out), in chunks; writes nothing."""
    roles = set(roles)
    sop_rows: dict[int, tuple[tuple[Stage, ...], tuple[RequirementType, ...]]] = {}
    result = Forecast()
    ids = list(dict.fromkeys(dossier_ids))
    for start in range(0, len(ids), chunk):
        situations = load_situations(session, ids[start : start + chunk], sop_rows)
        for dossier_id in ids[start : start + chunk]:
            situation = situations.get(dossier_id)
            if situation is None:
                continue
            verdict = judge(situation, action, roles)
            dossier = situation.dossier
            row = Judged(dossier_id, dossier.receipt_number, situation.stage.name, dossier.version, verdict.reasons)
            (result.movable if verdict.allowed else result.refused).append(row)
    return result


def changed_since(session: Session, seen: dict[int, int], *, chunk: int = CHUNK) -> list[Judged]:
    """The dossiers of `seen` (id -> version judged) moved since: each with its stage now. A dossier
    no longer there is left out (the move reports it not found)."""
    ids = list(seen)
    changed: list[Judged] = []
    for start in range(0, len(ids), chunk):
        rows = session.execute(
            select(Dossier.id, Dossier.receipt_number, Stage.name, Dossier.version)
            .join(Stage, Stage.id == Dossier.stage_id)
            .where(Dossier.id.in_(ids[start : start + chunk]))
        )
        changed += [Judged(*row) for row in rows if row.version != seen[row.id]]
    return changed

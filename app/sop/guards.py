"""The completeness gate: what a dossier still lacks before it may leave a stage.

Named checks without side effects. Each returns the missing items in Indonesian, ready to show.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from app.models import Dossier, RequirementType, Stage
from app.sop.calendar import as_utc
from app.sop.fields import FIELD_CHECKS


def missing_documents(
    stage: Stage, requirements: Iterable[RequirementType], verified_requirement_ids: set[int],
    submitted_at: dt.datetime | None = None,
) -> list[str]:
    """What unverified_requirements finds, as the gate says it."""
    return [f"Dokumen belum ada atau belum diverifikasi: {req.name}"
            for req in unverified_requirements(stage, requirements, verified_requirement_ids, submitted_at)]


def unverified_requirements(
    stage: Stage, requirements: Iterable[RequirementType], verified_requirement_ids: set[int],
    submitted_at: dt.datetime | None = None,
) -> list[RequirementType]:
    """Mandatory requirements due by this stage without a verified document, in the order given
    (the SOP's: callers pass requirements ordered by seq).

    A requirement added to the SOP later (required_since) is not asked of a dossier submitted
    before it that is already past its due stage: any dossier that left that stage afterwards was
    held there until it had the document, so such a dossier left it before the rule existed.
    """
    seq = stage.seq
    return [
        req for req in requirements
        if req.id not in verified_requirement_ids and req.is_mandatory and req.due_stage.seq <= seq
        and not _older_than(req, submitted_at, seq)
    ]


def _older_than(requirement: RequirementType, submitted_at: dt.datetime | None, seq: int) -> bool:
    return (
        requirement.required_since is not None and submitted_at is not None and requirement.due_stage.seq < seq
        and as_utc(submitted_at) < as_utc(requirement.required_since)
    )


def empty_fields(stage: Stage, dossier: Dossier) -> list[str]:
    """Names (FIELD_CHECKS keys) of the fields the stage names in its SOP file (e.g. the company's
    legality at ENTRY_DATA) that are still empty."""
    empty = []
    for name in stage.required_fields or ():
        value = FIELD_CHECKS[name].read(dossier)
        if value is None or (isinstance(value, str) and not value.strip()):
            empty.append(name)
    return empty


def missing_fields(stage: Stage, dossier: Dossier) -> list[str]:
    return [f"Isian belum diisi: {FIELD_CHECKS[name].label}" for name in empty_fields(stage, dossier)]


def missing_items(
    dossier: Dossier,
    stage: Stage,
    requirements: Sequence[RequirementType],
    verified_requirement_ids: set[int],
) -> list[str]:
    return (missing_documents(stage, requirements, verified_requirement_ids, dossier.submitted_at)
            + missing_fields(stage, dossier))

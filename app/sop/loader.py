"""Upserts SOP files into PermitType, Stage and RequirementType.

All files are parsed before anything is written, and everything is written in one
transaction: a broken file changes nothing, and loading the same files again is a no-op.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.models import Document, Dossier, PermitType, RequirementType, Stage, StageEvent
from app.sop.schema import SopDefinition, SopFileError, parse_sop


@dataclass(frozen=True)
class LoadResult:
    code: str
    path: str
    changed: bool


def parse_sop_dir(directory: str | Path, roles: frozenset[str], working_day_minutes: int) -> list[SopDefinition]:
    paths = sorted(Path(directory).glob("*.yaml"))
    definitions = [parse_sop(p, roles, working_day_minutes) for p in paths]
    seen: dict[str, str] = {}
    for d in definitions:
        for key in (f"code:{d.code}", f"prefix:{d.receipt_prefix}"):
            if key in seen:
                raise SopFileError(d.path, f"{key.split(':')[0]} '{key.split(':')[1]}' sudah dipakai {Path(seen[key]).name}")
            seen[key] = d.path
    return definitions


def load_sops(session: Session, definitions: list[SopDefinition]) -> list[LoadResult]:
    """Writes and commits every definition, or rolls back and re-raises on the first problem."""
    try:
        results = [_upsert(session, d) for d in definitions]
        session.commit()
    except Exception:
        session.rollback()
        raise
    return results


def _upsert(session: Session, d: SopDefinition) -> LoadResult:
    permit = session.scalar(select(PermitType).where(PermitType.code == d.code))
    if permit is not None and permit.source_hash == d.content_hash:
        return LoadResult(d.code, d.path, changed=False)
    if permit is None:
        permit = PermitType(code=d.code)
        session.add(permit)
    permit.name = d.name
    permit.sop_number = d.sop_number
    permit.receipt_prefix = d.receipt_prefix
    permit.legal_bases = list(d.legal_bases)
    permit.executor_qualifications = list(d.executor_qualifications)
    permit.equipment = list(d.equipment)
    permit.related_sops = list(d.related_sops)
    permit.recording = list(d.recording)
    permit.service_days = d.service_days
    permit.fee = d.fee
    permit.output_document = d.output_document
    permit.validity_months = d.validity_months
    permit.permit_number_format = d.permit_number_format
    permit.source_file = Path(d.path).name
    permit.source_hash = d.content_hash
    session.flush()

    stages = _upsert_stages(session, permit, d)
    _upsert_requirements(session, permit, d, stages)
    return LoadResult(d.code, d.path, changed=True)


def _upsert_stages(session: Session, permit: PermitType, d: SopDefinition) -> dict[str, Stage]:
    existing = {s.code: s for s in session.scalars(select(Stage).where(Stage.permit_type_id == permit.id))}
    wanted = {step.code for step in d.steps}
    for code, stage in existing.items():
        if code not in wanted:
            if _stage_in_use(session, stage.id):
                raise SopFileError(d.path, f"tahapan '{code}' masih dipakai berkas, tidak dapat dihapus dari SOP")
            session.delete(stage)
    # Park the kept stages on negative numbers first so reordering never trips uq_stage_seq.
    for stage in existing.values():
        stage.seq = -stage.id
    session.flush()

    stages: dict[str, Stage] = {}
    for step in d.steps:
        stage = existing.get(step.code) or Stage(permit_type_id=permit.id, code=step.code)
        stage.seq = step.no
        stage.name = step.name
        stage.activity = step.activity
        stage.actor = step.actor
        stage.role_name = step.role
        stage.time_standard_minutes = step.time_minutes
        stage.time_standard_text = step.time_text
        stage.inputs = step.inputs
        stage.output = step.output
        stage.is_applicant_step = step.applicant_step
        stage.is_office_continuation = step.office_continuation
        stage.required_fields = list(step.required_fields)
        stage.issues_permit = step.issues_permit
        stage.invites_survey = step.invites_survey
        stage.online_event = step.online_event
        stage.reject_role = step.reject_role
        stage.resume_role = step.resume_role
        session.add(stage)
        stages[step.code] = stage
    session.flush()
    return stages


def _upsert_requirements(session: Session, permit: PermitType, d: SopDefinition, stages: dict[str, Stage]) -> None:
    existing = {
        r.code: r for r in session.scalars(select(RequirementType).where(RequirementType.permit_type_id == permit.id))
    }
    wanted = {r.code for r in d.requirements}
    for code, requirement in existing.items():
        if code not in wanted:
            if session.scalar(select(exists().where(Document.requirement_type_id == requirement.id))):
                raise SopFileError(d.path, f"persyaratan '{code}' masih dipakai dokumen, tidak dapat dihapus dari SOP")
            session.delete(requirement)
    # A requirement new to an SOP already in use binds only dossiers still before its due stage.
    in_use = session.scalar(select(exists().where(Dossier.permit_type_id == permit.id)))
    for req in d.requirements:
        requirement = existing.get(req.code)
        if requirement is None:
            requirement = RequirementType(permit_type_id=permit.id, code=req.code,
                                          required_since=dt.datetime.now(dt.UTC) if in_use else None)
        requirement.seq = req.seq
        requirement.name = req.name
        requirement.is_mandatory = req.mandatory
        requirement.due_stage_id = stages[req.due_stage].id
        session.add(requirement)
    session.flush()


def _stage_in_use(session: Session, stage_id: int) -> bool:
    return bool(
        session.scalar(select(exists().where(Dossier.stage_id == stage_id)))
        or session.scalar(
            select(exists().where(or_(StageEvent.from_stage_id == stage_id, StageEvent.to_stage_id == stage_id)))
        )
    )

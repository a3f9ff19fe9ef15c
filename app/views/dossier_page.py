"""Everything the dossier's show page reads, loaded once per request.

The page's parts (FAB's fields and related lists, the moves, the clock, the checklist, the papers,
the timeline and the history) all read from one DossierPage: the dossier with its parties, its
permit type's stages and requirements, its documents, its history with the officers and its permit,
in seven queries. The page holds the rows, so SQLAlchemy's identity map (which keeps rows only while
something refers to them) answers the many-to-one lookups of the templates without a query.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.formatting import format_moment
from app.models import Document, Dossier, DossierStatus, Permit, RequirementType, Stage, StageEvent
from app.request_cache import request_cache
from app.sop.machine import Situation


@dataclass(frozen=True)
class DossierPage:
    dossier: Dossier
    stages: tuple[Stage, ...]  # the permit type's, in SOP order
    requirements: tuple[RequirementType, ...]  # in SOP order
    documents: tuple[Document, ...]  # oldest first
    events: tuple[StageEvent, ...]  # the history in time order (ties in insertion order)
    permit: Permit | None
    superseded_by: str | None  # a correction: the number of the permit that replaced the corrected one

    @cached_property
    def situation(self) -> Situation:
        """What app.sop.machine judges the moves by, as load_situation would load it."""
        verified = frozenset(d.requirement_type_id for d in self.documents if d.verified_at is not None)
        return Situation(self.dossier, self.stages, self.requirements, verified,
                         self.permit.number if self.permit else None, self.superseded_by)

    def events_of(self, action: str) -> list[StageEvent]:
        return [e for e in self.events if e.action == action]


def dossier_page(pk: int | str) -> DossierPage | None:
    """The page's rows for dossier pk, read once per request; None for an unknown dossier."""
    try:
        dossier_id = int(pk)
    except (TypeError, ValueError):
        return None
    cache = request_cache("dossier_page")
    if dossier_id not in cache:
        cache[dossier_id] = load_dossier_page(dossier_id)
    return cache[dossier_id]


@dataclass(frozen=True)
class ApplicantSide:
    """What the applicant did on the portal that the Front Office must see on the dossier page."""

    online: bool  # applied for on the portal ("Permohonan daring")
    # Returned, and the applicant has since sent the missing papers from the portal (office time):
    # ready to resume. A counter dossier linked to an account can be answered there too.
    resubmitted_at: str | None


def dossier_applicant_side(pk: int | str) -> ApplicantSide | None:
    """None for an unknown dossier or one the applicant did nothing on the portal for."""
    page = dossier_page(pk)
    if page is None:
        return None
    dossier = page.dossier
    ready = dossier.status == DossierStatus.RETURNED.value and dossier.resubmitted_at is not None
    if not (dossier.submitted_online or ready):
        return None
    return ApplicantSide(bool(dossier.submitted_online), format_moment(dossier.resubmitted_at) if ready else None)


def register_applicant_side_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(dossier_applicant_side=dossier_applicant_side)


def load_dossier_page(dossier_id: int) -> DossierPage | None:
    session = db.session
    dossier = session.scalar(
        select(Dossier).where(Dossier.id == dossier_id).options(
            joinedload(Dossier.permit_type), joinedload(Dossier.stage), joinedload(Dossier.company),
            joinedload(Dossier.applicant), joinedload(Dossier.corrects_permit),
        )
    )
    if dossier is None:
        return None
    stages = tuple(session.scalars(
        select(Stage).where(Stage.permit_type_id == dossier.permit_type_id).order_by(Stage.seq)
    ))
    # Their due stages are among the stages above: the identity map answers, no query.
    requirements = tuple(session.scalars(
        select(RequirementType).where(RequirementType.permit_type_id == dossier.permit_type_id)
        .order_by(RequirementType.seq)
    ))
    documents = tuple(session.scalars(
        select(Document).where(Document.dossier_id == dossier_id)
        .options(joinedload(Document.uploaded_by), joinedload(Document.verified_by))
        .order_by(Document.uploaded_at, Document.id)
    ))
    events = tuple(session.scalars(
        select(StageEvent).where(StageEvent.dossier_id == dossier_id)
        .options(joinedload(StageEvent.actor))
        .order_by(StageEvent.occurred_at, StageEvent.id)
    ))
    permit = session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
    superseded_by = session.scalar(
        select(Permit.number).where(Permit.supersedes_id == dossier.corrects_permit_id)
    ) if dossier.corrects_permit_id is not None else None
    return DossierPage(dossier, stages, requirements, documents, events, permit, superseded_by)

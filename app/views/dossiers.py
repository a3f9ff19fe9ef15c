"""Dossiers and what hangs off them: documents and history."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import DOSSIER_STATUSES, Document, Dossier, StageEvent
from app.security import roles
from app.sop.calendar import WorkingCalendar
from app.sop.intake import NoStagesError, open_dossier
from app.views.base import LoketModelView

DOSSIER_LABELS = {
    "receipt_number": _l("Receipt no."),
    "permit_type": _l("Permit type"),
    "permit_type.name": _l("Permit type"),
    "company": _l("Company"),
    "company.name": _l("Company"),
    "applicant": _l("Applicant"),
    "applicant.full_name": _l("Applicant"),
    "stage": _l("Stage"),
    "stage.name": _l("Stage"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "submitted_at": _l("Submitted at"),
    "due_at": _l("Due at"),
    "notes": _l("Notes"),
    "version": _l("Version"),
}


def office_calendar() -> WorkingCalendar:
    return WorkingCalendar(timezone=current_app.config["OFFICE_TIMEZONE"])


class DocumentView(LoketModelView):
    datamodel = SQLAInterface(Document)
    class_permission_name = roles.DOCUMENT
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete"]
    list_title = _l("Documents")
    show_title = _l("Document")
    edit_title = _l("Edit document note")
    label_columns = {
        "dossier": _l("Dossier"),
        "dossier.receipt_number": _l("Dossier"),
        "requirement_type": _l("Requirement"),
        "requirement_type.name": _l("Requirement"),
        "original_filename": _l("File name"),
        "size_bytes": _l("Size (bytes)"),
        "sha256": _l("Content hash (SHA-256)"),
        "uploaded_at": _l("Uploaded at"),
        "uploaded_by": _l("Uploaded by"),
        "verified_by": _l("Verified by"),
        "verified_at": _l("Verified at"),
        "note": _l("Note"),
    }
    list_columns = ["dossier.receipt_number", "requirement_type.name", "original_filename", "uploaded_at", "verified_at"]
    show_columns = [
        "dossier", "requirement_type", "original_filename", "size_bytes", "sha256",
        "uploaded_at", "uploaded_by", "verified_by", "verified_at", "note",
    ]
    edit_columns = ["note"]
    search_columns = ["dossier", "requirement_type", "original_filename", "verified_at"]
    base_order = ("uploaded_at", "desc")
    moment_columns = ("uploaded_at", "verified_at")


class StageEventView(LoketModelView):
    """History is append-only: no add, edit or delete, for anyone."""

    datamodel = SQLAInterface(StageEvent)
    class_permission_name = roles.STAGE_EVENT
    base_permissions = ["can_list", "can_show"]
    list_title = _l("History")
    show_title = _l("History entry")
    label_columns = {
        "dossier": _l("Dossier"),
        "dossier.receipt_number": _l("Dossier"),
        "from_stage": _l("From stage"),
        "from_stage.name": _l("From stage"),
        "to_stage": _l("To stage"),
        "to_stage.name": _l("To stage"),
        "action": _l("Action"),
        "actor": _l("Officer"),
        "occurred_at": _l("Time"),
        "note": _l("Note"),
    }
    list_columns = ["occurred_at", "dossier.receipt_number", "action", "from_stage.name", "to_stage.name", "actor"]
    show_columns = ["dossier", "occurred_at", "action", "from_stage", "to_stage", "actor", "note"]
    search_columns = ["dossier", "action", "occurred_at", "actor"]
    base_order = ("occurred_at", "desc")
    moment_columns = ("occurred_at",)


class DossierView(LoketModelView):
    datamodel = SQLAInterface(Dossier)
    class_permission_name = roles.DOSSIER
    # No delete: a registered dossier is rejected or archived, never erased.
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_title = _l("Dossiers")
    show_title = _l("Dossier")
    add_title = _l("Open a dossier")
    edit_title = _l("Edit dossier")
    label_columns = DOSSIER_LABELS
    list_columns = [
        "receipt_number", "submitted_at", "permit_type.name", "company.name",
        "applicant.full_name", "stage.name", "status", "due_at",
    ]
    show_fieldsets = [
        (_l("Dossier"), {"fields": ["receipt_number", "permit_type", "stage", "status_label", "version"]}),
        (_l("Parties"), {"fields": ["company", "applicant"]}),
        (_l("Time"), {"fields": ["submitted_at", "due_at"]}),
        (_l("Notes"), {"fields": ["notes"]}),
    ]
    add_columns = ["permit_type", "company", "applicant", "notes"]
    # Stage and status move only through SOP actions, never by editing.
    edit_columns = ["company", "applicant", "notes"]
    search_columns = ["receipt_number", "permit_type", "company", "applicant", "stage", "status", "submitted_at", "due_at"]
    order_columns = ["receipt_number", "submitted_at", "due_at", "status"]
    base_order = ("submitted_at", "desc")
    moment_columns = ("submitted_at", "due_at")
    formatters_columns = {"status": lambda value: str(DOSSIER_STATUSES.get(value, value))}
    related_views = [DocumentView, StageEventView]

    def pre_add(self, item: Dossier) -> None:
        actor_id = current_user.id if current_user.is_authenticated else None
        try:
            with db.session.no_autoflush:
                open_dossier(item, item.permit_type, dt.datetime.now(dt.timezone.utc), office_calendar(), actor_id)
        except NoStagesError as exc:
            # FAB flashes the message of an exception raised here and saves nothing.
            raise ValueError(str(_l("This permit type has no stages; load its SOP first."))) from exc

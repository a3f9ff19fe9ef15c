"""Dossiers and what hangs off them: documents and history."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

from flask import abort, current_app, g, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, DateTimePickerWidget
from flask_appbuilder.urltools import get_order_args, get_page_args, get_page_size_args
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.extensions import db
from app.forms import Normalized, Registered, UnchangedAfterIssue
from app.labels import STAGE_ACTIONS
from app.models import Applicant, Company, Document, Dossier, PermitType, Stage, StageEvent
from app.office import office_calendar
from app.security import roles
from app.sop.intake import NoStagesError, open_dossier
from app.sop.machine import Action
from app.validators import normalize_nib, normalize_nik
from app.views.base import LoketModelView
from app.views.dossier_page import dossier_page
from app.views.grid import (
    DossierGridInterface,
    LeanSelect2Widget,
    LoketInterface,
    grid_moment,
    grid_status,
    search_select,
    status_choices,
)

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
    "submitted_at": _l("Submitted at"),
    "due_at": _l("Due at"),
    "notes": _l("Notes"),
    "version": _l("Version"),
    "time_left": _l("Working time left"),
    "overdue": _l("Overdue"),
    "site_address": _l("Pool site address"),
    "site_area_m2": _l("Site area (m²)"),
    "vehicle_capacity": _l("Vehicle capacity"),
    "corrects_permit": _l("Corrects permit"),
}


class DocumentView(LoketModelView):
    datamodel = LoketInterface(Document)
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
    # The dossier by its receipt number: contains (_flt_0_dossier) or equal to (_flt_1_dossier).
    search_form_extra_fields = datamodel.text_search_fields(label_columns)
    base_order = ("uploaded_at", "desc")
    moment_columns = ("uploaded_at", "verified_at")


class StageEventView(LoketModelView):
    """History is append-only: no add, edit or delete, for anyone."""

    datamodel = LoketInterface(StageEvent)
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
    # The dossier by its receipt number, the officer by name or user name (contains / equal to).
    search_form_extra_fields = datamodel.text_search_fields(label_columns)
    base_order = ("occurred_at", "desc")
    moment_columns = ("occurred_at",)
    formatters_columns = {"action": lambda code: str(STAGE_ACTIONS.get(code, code))}


ACTION_LABELS: dict[Action, object] = {
    Action.ADVANCE: _l("Move on"),
    Action.RETURN: _l("Return to applicant"),
    Action.RESUME: _l("Resume"),
    Action.REJECT: _l("Reject"),
}
_ACTION_ICONS = {
    Action.ADVANCE: "fa-arrow-right", Action.RETURN: "fa-undo", Action.RESUME: "fa-play", Action.REJECT: "fa-ban",
}


def _to_confirmation(action: Action, items: Dossier | list[Dossier]):  # noqa: ANN202
    """A grid action only names the dossiers; DossierMoveView confirms, judges and moves them."""
    items = items if isinstance(items, list) else [items]
    return redirect(url_for("DossierMoveView.confirm", action=action.value, ids=[item.id for item in items]))


class DossierView(LoketModelView):
    datamodel = DossierGridInterface(Dossier)
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
        "applicant.full_name", "stage.name", "status", "due_at", "time_left", "overdue",
    ]
    show_fieldsets = [
        (_l("Dossier"), {"fields": ["receipt_number", "permit_type", "stage", "status", "version", "corrects_permit"]}),
        (_l("Parties"), {"fields": ["company", "applicant"]}),
        (_l("Pool site"), {"fields": ["site_address", "site_area_m2", "vehicle_capacity"]}),
        (_l("Time"), {"fields": ["submitted_at", "due_at"]}),
        (_l("Notes"), {"fields": ["notes"]}),
    ]
    # At the counter the clerk types the NIB and NIK from the papers; a pick-list of every
    # registered company and applicant would not scale.
    add_columns = ["permit_type", "company_nib", "applicant_nik", "site_address", "site_area_m2", "vehicle_capacity",
                   "notes"]
    # What the permit prints keeps its value once the permit is numbered (checked first: Optional
    # ends the checks of an emptied field).
    validators_columns = {
        "site_address": [UnchangedAfterIssue()],
        "site_area_m2": [UnchangedAfterIssue(), Optional(), NumberRange(min=1, max=10_000_000)],
        "vehicle_capacity": [UnchangedAfterIssue(), Optional(), NumberRange(min=1, max=100_000)],
    }
    add_form_extra_fields = {
        "company_nib": StringField(
            _l("Company NIB"),
            validators=[
                DataRequired(),
                Normalized(normalize_nib),
                Registered(Company, "nib", _l("No company is registered with this NIB; register the company first.")),
            ],
            widget=BS3TextFieldWidget(),
        ),
        "applicant_nik": StringField(
            _l("Applicant NIK"),
            validators=[
                DataRequired(),
                Normalized(normalize_nik),
                Registered(Applicant, "nik", _l("No applicant is registered with this NIK; register the applicant first.")),
            ],
            widget=BS3TextFieldWidget(),
        ),
    }
    # Stage and status move only through SOP actions; parties are fixed by the receipt.
    edit_columns = ["site_address", "site_area_m2", "vehicle_capacity", "notes"]
    asks_reason = True
    search_columns = ["receipt_number", "permit_type", "company", "applicant", "stage", "status", "submitted_at", "due_at"]
    # Company and applicant are searched by text (see GRID_TEXT_FILTERS), not picked from a list.
    search_form_extra_fields = {
        "company": StringField(DOSSIER_LABELS["company"], widget=BS3TextFieldWidget()),
        "applicant": StringField(DOSSIER_LABELS["applicant"], widget=BS3TextFieldWidget()),
        "permit_type": search_select(DOSSIER_LABELS["permit_type"], (PermitType.name,), "{}", PermitType.name),
        "stage": search_select(
            DOSSIER_LABELS["stage"], (Stage.seq, Stage.name), "{}. {}", Stage.permit_type_id, Stage.seq
        ),
        # Plain text fields with FAB's picker: WTForms' DateTimeField warns on every form build.
        "submitted_at": StringField(DOSSIER_LABELS["submitted_at"], widget=DateTimePickerWidget()),
        "due_at": StringField(DOSSIER_LABELS["due_at"], widget=DateTimePickerWidget()),
        "status": SelectField(
            DOSSIER_LABELS["status"],
            choices=status_choices,
            widget=LeanSelect2Widget(),
        ),
    }
    order_columns = ["receipt_number", "submitted_at", "due_at", "status"]
    base_order = ("submitted_at", "desc")
    moment_columns = ("submitted_at", "due_at")
    formatters_columns = {
        "status": grid_status, "submitted_at": grid_moment, "due_at": grid_moment, "notes": lambda v: v or "",
        "corrects_permit": lambda permit: str(permit or ""),
    }
    related_views = [DocumentView, StageEventView]
    list_template = "loket/dossier_list.html"
    show_template = "loket/dossier_show.html"
    # Bulk only: the dossier page has its own move panel, with the reasons a move is not possible.
    # Starting a move only leads to its confirmation page, which has its own permission
    # (DossierMove: can_move) and judges every row; so starting one needs no more than listing.
    method_permission_name = {f"move_{a.value}": "list" for a in Action}

    @action("move_advance", ACTION_LABELS[Action.ADVANCE], None, _ACTION_ICONS[Action.ADVANCE], single=False)
    def move_advance(self, items):  # noqa: ANN001, ANN201
        return _to_confirmation(Action.ADVANCE, items)

    @action("move_return", ACTION_LABELS[Action.RETURN], None, _ACTION_ICONS[Action.RETURN], single=False)
    def move_return(self, items):  # noqa: ANN001, ANN201
        return _to_confirmation(Action.RETURN, items)

    @action("move_resume", ACTION_LABELS[Action.RESUME], None, _ACTION_ICONS[Action.RESUME], single=False)
    def move_resume(self, items):  # noqa: ANN001, ANN201
        return _to_confirmation(Action.RESUME, items)

    @action("move_reject", ACTION_LABELS[Action.REJECT], None, _ACTION_ICONS[Action.REJECT], single=False)
    def move_reject(self, items):  # noqa: ANN001, ANN201
        return _to_confirmation(Action.REJECT, items)

    # ------------------------------------------------------------------ the show page
    # Every part of the page reads the rows app.views.dossier_page loaded once for the request.

    def _show(self, pk):  # noqa: ANN001, ANN202
        if self._base_filters.get_filters_values():
            return super()._show(pk)
        page = dossier_page(pk)
        if page is None:
            abort(404)
        widgets = self._get_show_widget(pk, page.dossier)
        self.update_redirect()
        return self._get_related_views_widgets(
            page.dossier, orders=get_order_args(), pages=get_page_args(), page_sizes=get_page_size_args(),
            widgets=widgets,
        )

    def _get_related_view_widget(  # noqa: PLR0913
        self, item, related_view, order_column="", order_direction="", page=None, page_size=None,  # noqa: ANN001
    ):  # noqa: ANN202
        """The Documents and History tabs from the page's rows, when they show their first page in
        their own order (as FAB's query would); any other page or order is FAB's query."""
        rows = _page_rows(item, related_view)
        if rows is None or order_column or page or page_size or related_view._base_filters.get_filters_values():  # noqa: SLF001
            return super()._get_related_view_widget(item, related_view, order_column, order_direction, page,
                                                    page_size)
        filters = related_view.datamodel.get_filters()
        filters.add_filter_related_view(
            related_view.datamodel.get_related_fk(self.datamodel.obj), self.datamodel.FilterRelationOneToManyEqual,
            item.id,
        )
        column, direction = related_view.base_order
        size = min(related_view.page_size, current_app.config["GRID_MAX_PAGE_SIZE"])
        shown = sorted(rows, key=lambda row: (getattr(row, column), row.id), reverse=direction == "desc")[:size]
        return related_view.list_widget(
            label_columns=related_view.label_columns,
            include_columns=related_view.list_columns,
            value_columns=related_view.datamodel.get_values(shown, related_view.list_columns),
            order_columns=related_view.order_columns,
            formatters_columns=related_view.formatters_columns,
            page=None,
            page_size=size,
            count=len(rows),
            pks=related_view.datamodel.get_keys(shown),
            actions=related_view.actions,
            filters=filters,
            modelview_name=related_view.__class__.__name__,
        )

    def post_add(self, item: Dossier) -> None:
        g.added_dossier_id = item.id

    def post_add_redirect(self):  # noqa: ANN201
        """A new dossier opens on its own page, with its receipt number and the receipt to print:
        the clerk's next steps (its papers, its move) are there."""
        added = g.pop("added_dossier_id", None)
        if added is None:
            return super().post_add_redirect()
        return redirect(url_for(".show", pk=added, baru=1))

    def pre_add(self, item: Dossier) -> None:
        actor_id = current_user.id if current_user.is_authenticated else None
        try:
            with db.session.no_autoflush:
                item.company = db.session.scalar(select(Company).where(Company.nib == item.company_nib))
                item.applicant = db.session.scalar(select(Applicant).where(Applicant.nik == item.applicant_nik))
                open_dossier(item, item.permit_type, dt.datetime.now(dt.timezone.utc), office_calendar(), actor_id)
        except NoStagesError as exc:
            # FAB flashes the message of an exception raised here and saves nothing.
            raise ValueError(str(_l("This permit type has no stages; load its SOP first."))) from exc


def _page_rows(item: Dossier, related_view: object) -> tuple | None:
    page = dossier_page(item.id)
    if page is None or page.dossier is not item:
        return None
    if isinstance(related_view, DocumentView):
        return page.documents
    if isinstance(related_view, StageEventView):
        return page.events
    return None


def dossier_filter_query(filter_args: str) -> Select:
    """SELECT Dossier.id for a grid filter given as its query string (_flt_0_stage=3&...), applied
    exactly as the Dossier grid applies it; unknown or malformed filter names are ignored."""
    datamodel = DossierView.datamodel
    filters = datamodel.get_filters(DossierView.search_columns)
    args = MultiDict(parse_qs(filter_args, keep_blank_values=True))
    for name in args:
        if name.startswith("_flt_") and "_" in name[5:]:
            index, column = name[5:].split("_", 1)
            if index.isdigit() and column in filters.get_search_filters():
                filters.add_filter_index(column, int(index), args.getlist(name))
    return datamodel.apply_filters(select(Dossier.id), filters)

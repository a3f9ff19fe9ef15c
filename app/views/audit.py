"""The audit trail on screen: the grid for supervisors and Admin (read and export only), and the
changes of one record on its own page (company, applicant; the dossier page merges them into its
history, app.views.timeline)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField

from app.extensions import db
from app.formatting import format_moment
from app.labels import AUDIT_ACTIONS, AUDIT_ENTITIES, AUDIT_ORIGINS, label
from app.models import AuditEntry
from app.request_cache import request_cache
from app.security import roles
from app.views.base import LoketModelView
from app.views.grid import LeanSelect2Widget

_EMPTY = "—"


_SCREENS = {
    "company": "CompanyView", "applicant": "ApplicantView", "dossier": "DossierView", "document": "DocumentView",
    "register_entry": "RegisterEntryView", "permit": "PermitView", "local_holiday": "LocalHolidayView",
    "ab_user": "UserDBModelView", "ab_role": "RoleModelView", "signing_certificate": "SigningCertificateView",
}


def _field_labels() -> dict[str, dict[str, object]]:
    """Each audited table's field names as its own screen labels them (once per request)."""
    memo = request_cache("audit_field_labels")
    if "labels" not in memo:
        views = {type(v).__name__: v for v in current_app.appbuilder.baseviews}
        memo["labels"] = {entity: dict(getattr(views.get(view), "label_columns", {}) or {})
                          for entity, view in _SCREENS.items()}
    return memo["labels"]


# What a created or deleted record is named by in one line (every value stays in the trail row).
SUMMARY_FIELDS = {
    "company": ("name", "nib"), "applicant": ("full_name", "nik"), "dossier": ("receipt_number",),
    "document": ("original_filename", "verified_at"), "register_entry": ("register_number", "permit_number"),
    "permit": ("number", "issued_on"), "local_holiday": ("date", "name"), "ab_user": ("username", "roles"),
    "ab_role": ("name",), "signing_certificate": ("user_id", "subject", "not_after"),
}


def _field(labels: dict[str, object], key: str) -> str:
    # company_id is labelled as its relation ("Perusahaan"), not as FAB's "Company Id".
    found = (labels.get(key.removesuffix("_id")) if key.endswith("_id") else None) or labels.get(key)
    return str(found) if found else key


SHOWN_MEMBERS = 8  # members of a long list named in one line (a role's permissions ...)


def _value(value: Any, full: bool = False) -> str:  # noqa: ANN401
    if value is None or value == "":
        return _EMPTY
    if isinstance(value, list):
        shown = value if full or len(value) <= SHOWN_MEMBERS else value[:SHOWN_MEMBERS]
        more = str(_l("and %(count)s more", count=len(value) - len(shown))) if len(shown) < len(value) else ""
        return ", ".join([*(str(v) for v in shown), *([more] if more else [])]) or _EMPTY
    return str(value)


def _change(field: str, old: Any, new: Any, full: bool) -> str:  # noqa: ANN401
    if isinstance(old, list) and isinstance(new, list):
        # A collection (a user's roles, a role's permissions): what joined and what left.
        added, removed = [v for v in new if v not in old], [v for v in old if v not in new]
        parts = [*(["+ " + _value(added, full)] if added else []), *(["− " + _value(removed, full)] if removed else [])]
        return f"{field}: {'; '.join(parts)}"
    return f"{field}: {_value(old, full)} → {_value(new, full)}"


def describe_changes(entity: str, action: str, changes: dict[str, Any] | None, full: bool = False) -> str:
    """A trail row's changes as one line: "Alamat: Jl. A → Jl. B; Kapasitas: 25 → 99". A created
    or deleted record is named by its summary fields, or by every value when `full`; a long list
    is cut short unless `full`."""
    labels = _field_labels().get(entity, {})
    changes = changes or {}
    if action in ("update", "move"):
        return "; ".join(_change(_field(labels, key), old, new, full) for key, (old, new) in changes.items())
    shown = tuple(changes) if full else SUMMARY_FIELDS.get(entity) or tuple(changes)
    return "; ".join(f"{_field(labels, key)}: {_value(changes[key], full)}"
                     for key in shown if changes.get(key) not in (None, "", []))


@dataclass(frozen=True)
class TrailRow:
    occurred_at: str
    officer: str
    address: str
    action: str
    entity: str
    changes: str
    reason: str


def trail_rows(entries: list[AuditEntry]) -> list[TrailRow]:
    return [
        TrailRow(format_moment(e.occurred_at), e.actor_name, e.address or "", label(AUDIT_ACTIONS, e.action),
                 label(AUDIT_ENTITIES, e.entity), describe_changes(e.entity, e.action, e.changes), e.reason or "")
        for e in entries
    ]


def record_trail(endpoint: str, pk: int | str) -> list[TrailRow]:
    """Every trail row of the record a show page (endpoint "CompanyView.show") shows, oldest first."""
    view = next((v for v in current_app.appbuilder.baseviews if type(v).__name__ == endpoint.split(".")[0]), None)
    if view is None:
        return []
    entity = view.datamodel.obj.__table__.name
    return trail_rows(list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.record_id == int(pk)).order_by(AuditEntry.id)
    )))


def register_audit_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(record_trail=record_trail)


# Codes searched by picking their label: equal or not equal.
CODED_COLUMNS = {"entity": AUDIT_ENTITIES, "action": AUDIT_ACTIONS, "origin": AUDIT_ORIGINS}


class _AuditFilterConverter(SQLAFilterConverter):
    def convert(self, col_name: str) -> list:
        if col_name in CODED_COLUMNS:
            return [FilterEqual(col_name, self.datamodel), FilterNotEqual(col_name, self.datamodel)]
        return super().convert(col_name)


def _coded_select(column: str, title: object) -> SelectField:
    labels = CODED_COLUMNS[column]
    return SelectField(title, choices=lambda: [(code, str(text)) for code, text in labels.items()],
                       widget=LeanSelect2Widget())


class AuditInterface(SQLAInterface):
    """The changes cell reads as a sentence; it needs its row's table and action, which FAB's
    per-value formatters do not get, so the rows' values are described here."""

    filter_converter_class = _AuditFilterConverter

    def _described(self, item: AuditEntry, values: dict[str, Any]) -> dict[str, Any]:
        if "changes" in values:
            values["changes"] = describe_changes(item.entity, item.action, item.changes)
        return values

    def get_values(self, lst: list, list_columns: list[str]) -> list[dict[str, Any]]:
        return [self._described(item, values) for item, values in zip(lst, super().get_values(lst, list_columns))]

    def get_values_item(self, item: AuditEntry, show_columns: list[str]) -> list[Any]:
        values = super().get_values_item(item, show_columns)
        if "changes" in show_columns:
            values[show_columns.index("changes")] = describe_changes(item.entity, item.action, item.changes, full=True)
        return values


AUDIT_LABELS = {
    "id": _l("No."),
    "occurred_at": _l("Time"),
    "actor_name": _l("Officer"),
    "actor": _l("Officer"),
    "address": _l("Address (IP)"),
    "origin": _l("Through"),
    "entity": _l("Record"),
    "record_id": _l("Record no."),
    "action": _l("Action"),
    "dossier_id": _l("Dossier no."),
    "changes": _l("Changes"),
    "reason": _l("Reason"),
    "import_batch_id": _l("Import no."),
}


class AuditEntryView(LoketModelView):
    """Nobody adds, edits or deletes here (no such permission exists); the database refuses it too."""

    datamodel = AuditInterface(AuditEntry)
    class_permission_name = roles.AUDIT_ENTRY
    base_permissions = ["can_list", "can_show"]
    list_title = _l("Audit trail")
    show_title = _l("Audit trail entry")
    label_columns = AUDIT_LABELS
    list_columns = ["occurred_at", "actor_name", "address", "origin", "entity", "record_id", "action", "changes",
                    "reason"]
    show_columns = ["id", "occurred_at", "actor_name", "address", "origin", "entity", "record_id", "action",
                    "dossier_id", "changes", "reason", "import_batch_id"]
    search_columns = ["occurred_at", "actor_name", "address", "origin", "entity", "record_id", "action",
                      "dossier_id", "reason", "import_batch_id"]
    order_columns = ["occurred_at", "actor_name", "entity", "record_id", "action"]
    base_order = ("id", "desc")
    moment_columns = ("occurred_at",)
    formatters_columns = {
        **{column: (lambda code, labels=labels: label(labels, code)) for column, labels in CODED_COLUMNS.items()},
        "address": lambda value: value or "", "reason": lambda value: value or "",
        "dossier_id": lambda value: value or "", "import_batch_id": lambda value: value or "",
    }
    search_form_extra_fields = {column: _coded_select(column, AUDIT_LABELS[column]) for column in CODED_COLUMNS}

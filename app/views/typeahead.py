"""Choosing one row of a big table (BIG_TABLES: companies, applicants, dossiers, officers) in a
form without listing the table: a type-ahead.

The page carries only the current row; as the officer types, the browser asks the table's own
grid for at most LOOKUP_LIMIT matches (GET <grid>/lookup?q=..., allowed to whoever may list that
grid) and posts the chosen row's id, which the server resolves again.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field
from wtforms.widgets import html_params

from app.extensions import db
from app.views.base import MAX_DATABASE_INTEGER, whole_number
from app.views.grid import BIG_TABLES

LOOKUP_LIMIT = 20
MAX_QUERY_LENGTH = 100


def row_label(row: object) -> str:
    """A row as the type-ahead shows it: its name, and its code (NIB, NIK) when it has one."""
    match = BIG_TABLES[type(row)]
    parts = [getattr(row, c) for c in (match.names[0], *match.codes[:1])]
    return " · ".join(str(part) for part in parts if part)


def lookup_rows(model: type, text: str) -> list[object]:
    """At most LOOKUP_LIMIT rows whose name has every typed word, or whose code (NIB, NIK)
    starts with the typed digits; in name order."""
    text = text.strip()[:MAX_QUERY_LENGTH]
    if not text:
        return []
    match = BIG_TABLES[model]
    return list(db.session.scalars(
        select(model).where(match.typed(model, text)).order_by(getattr(model, match.names[0]), model.id)
        .limit(LOOKUP_LIMIT)
    ))


class TypeAheadLookup:
    """For the grid of a big table (before LoketModelView in the bases): GET <grid>/lookup?q=
    answers {"results": [{"id", "text"}]} (select2's format) with at most LOOKUP_LIMIT matches.
    Whoever may list the grid may look up its rows, nobody else."""

    method_permission_name = {"lookup": "list"}

    @expose("/lookup", methods=["GET"])
    @has_access
    def lookup(self):  # noqa: ANN201
        rows = lookup_rows(self.datamodel.obj, request.args.get("q", ""))
        return jsonify(results=[{"id": row.id, "text": row_label(row)} for row in rows])


class TypeAheadWidget:
    """A select holding only the current row; app/static/loket/typeahead.js makes it a select2
    that fetches matches as the officer types."""

    def __call__(self, field: TypeAheadField, **kwargs: Any) -> Markup:  # noqa: ANN401
        kwargs.setdefault("id", field.id)
        kwargs["class"] = f"{kwargs.get('class', '')} form-control loket-typeahead".strip()
        kwargs.update({
            "data-lookup-url": url_for(field.endpoint),
            "data-placeholder": str(field.placeholder),
            "data-msg-too-short": str(_l("Type a name or a number")),
            "data-msg-searching": str(_l("Searching…")),
            "data-msg-no-results": str(_l("Nothing found")),
            "data-msg-error": str(_l("The search did not answer; try again.")),
        })
        current = field.data
        options = '<option value=""></option>'
        if current is not None:
            options += f'<option value="{current.id}" selected>{escape(row_label(current))}</option>'
        script = url_for("static", filename="loket/typeahead.js")
        return Markup(
            f"<select {html_params(name=field.name, **kwargs)}>{options}</select>"
            f'<script src="{escape(script)}"></script>'
        )


class TypeAheadField(Field):
    """A form field for a many-to-one relation to a big table. Its data is the related row (or
    None); what is posted is the row's id, resolved on the server: an id that names no row is a
    form error, never a 500. `endpoint`: the lookup of the table's grid ("CompanyView.lookup")."""

    widget = TypeAheadWidget()

    def __init__(self, label: object, model: type, endpoint: str, placeholder: object = "",
                 validators: list | None = None, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(label, validators, **kwargs)
        self.model, self.endpoint, self.placeholder = model, endpoint, placeholder

    def _value(self) -> str:
        return "" if self.data is None else str(self.data.id)

    def process_formdata(self, valuelist: list) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        pk = whole_number(text, 1, MAX_DATABASE_INTEGER)
        row = db.session.get(self.model, pk) if pk is not None else None
        if row is None:
            raise ValueError(str(_l("No such record; type a few letters or digits and choose one from the list.")))
        self.data = row

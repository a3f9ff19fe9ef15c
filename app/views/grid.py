"""The dossier grid at scale: one SELECT per page, text filters on big related tables.

A busy office has tens of thousands of companies and applicants: the grid must neither load
them all into its search form nor fetch them one row at a time.
"""
from __future__ import annotations

import datetime as dt
import re

from babel import dates as babel_dates
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterContains,
    FilterEndsWith,
    FilterEqual,
    FilterGreater,
    FilterNotEqual,
    FilterRelationOneToManyEqual,
    FilterRelationOneToManyNotEqual,
    FilterSmaller,
    FilterStartsWith,
    SQLAFilterConverter,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import false, func, or_, select
from wtforms import SelectField
from wtforms.widgets import html_params

from app.extensions import db
from app.formatting import format_working_time
from app.labels import DOSSIER_STATUSES
from app.models import Applicant, Company, Dossier, DossierStatus, PermitType, Stage, StageEvent
from app.office import office_calendar
from app.request_cache import request_cache
from app.sop.calendar import as_utc
from app.sop.sla import clock

_SEPARATORS = re.compile(r"[\s.\-/]")


def _related_text_filter(base: type[BaseFilter], columns: tuple[str, ...]) -> type[BaseFilter]:
    """A filter on a many-to-one relation that matches text of the related row (name, NIB, NIK),
    instead of FAB's relation filter, whose search field lists every related row."""

    class RelatedTextFilter(base):  # type: ignore[misc, valid-type]
        arg_name = f"rel_{base.arg_name}"

        def apply(self, query, value):  # noqa: ANN001, ANN201
            value = str(value or "").strip()
            if not value:
                return query
            relation = getattr(self.model, self.column_name).property
            target = relation.mapper.class_
            if base is FilterContains:
                match = or_(*(getattr(target, c).ilike(f"%{value}%") for c in columns))
            else:
                digits = _SEPARATORS.sub("", value)
                match = or_(*(getattr(target, c) == (digits if i else value) for i, c in enumerate(columns)))
            (foreign_key,) = relation.local_columns
            return query.filter(foreign_key.in_(select(relation.mapper.primary_key[0]).where(match)))

    RelatedTextFilter.__name__ = f"Related{base.__name__}"
    return RelatedTextFilter


# Company: name contains / name or NIB equal; applicant: name contains / name or NIK equal.
# Labels are FAB's own "Contains" and "Equal to", already in the catalog.
GRID_TEXT_FILTERS = {
    "company": [_related_text_filter(FilterContains, ("name",)), _related_text_filter(FilterEqual, ("name", "nib"))],
    "applicant": [
        _related_text_filter(FilterContains, ("full_name",)),
        _related_text_filter(FilterEqual, ("full_name", "nik")),
    ],
}


def _foreign_key_value(filter_: BaseFilter, value: object):  # noqa: ANN202
    (foreign_key,) = getattr(filter_.model, filter_.column_name).property.local_columns
    try:
        return foreign_key, int(str(value))
    except ValueError:
        return foreign_key, None


class _RelationIdEqual(FilterRelationOneToManyEqual):
    """FAB's "Relation" filter (same name, same `_flt_0_stage=<id>` URLs) comparing the foreign
    key with the id, without first loading the related row."""

    def apply(self, query, value):  # noqa: ANN001, ANN201
        foreign_key, pk = _foreign_key_value(self, value)
        return query.filter(false() if pk is None else foreign_key == pk)


class _RelationIdNotEqual(FilterRelationOneToManyNotEqual):
    def apply(self, query, value):  # noqa: ANN001, ANN201
        foreign_key, pk = _foreign_key_value(self, value)
        return query if pk is None else query.filter(or_(foreign_key != pk, foreign_key.is_(None)))


# Fewer, useful operators: the receipt number keeps FAB's first four (same _flt_ indexes),
# the status is picked from its labels.
def _stored_instant(filter_: BaseFilter, value: dt.datetime):  # noqa: ANN202
    """An instant as the database compares it: SQLite stores naive UTC, PostgreSQL knows zones."""
    value = value.astimezone(dt.timezone.utc)
    dialect = filter_.datamodel.session.get_bind().dialect.name
    return value.replace(tzinfo=None) if dialect == "sqlite" else value


class FilterOverdue(BaseFilter):
    """Terlambat: in progress and past its promised date (a returned dossier's clock is stopped)."""

    name = _l("Overdue")
    arg_name = "overdue"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        now = _stored_instant(self, dt.datetime.now(dt.timezone.utc))
        return query.filter(Dossier.status == DossierStatus.IN_PROGRESS.value, Dossier.due_at < now)


class FilterDueToday(BaseFilter):
    """Jatuh tempo hari ini: in progress and due later today, in the office's time zone."""

    name = _l("Due today")
    arg_name = "due_today"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        calendar = office_calendar()
        now = dt.datetime.now(dt.timezone.utc)
        tomorrow = dt.datetime.combine(calendar.local_date(now) + dt.timedelta(days=1), dt.time(), tzinfo=calendar.tz)
        return query.filter(
            Dossier.status == DossierStatus.IN_PROGRESS.value,
            Dossier.due_at >= _stored_instant(self, now),
            Dossier.due_at < _stored_instant(self, tomorrow),
        )


# Indexes of the due-date filters, for links such as ?_flt_2_due_at=1 (see dossier_list.html).
DUE_FILTERS = [FilterGreater, FilterSmaller, FilterOverdue, FilterDueToday]

GRID_FILTERS = {
    **GRID_TEXT_FILTERS,
    "receipt_number": [FilterStartsWith, FilterEndsWith, FilterContains, FilterEqual],
    "status": [FilterEqual, FilterNotEqual],
    "due_at": DUE_FILTERS,
}


class _GridFilterConverter(SQLAFilterConverter):
    def convert(self, col_name: str) -> list[BaseFilter]:
        if col_name in GRID_FILTERS:
            return [flt(col_name, self.datamodel) for flt in GRID_FILTERS[col_name]]
        if self.datamodel.is_relation_many_to_one(col_name):
            return [_RelationIdEqual(col_name, self.datamodel), _RelationIdNotEqual(col_name, self.datamodel)]
        return super().convert(col_name)


class _Named:
    """A related row as the grid shows it: its name only."""

    __slots__ = ("name", "full_name")

    def __init__(self, name: str | None) -> None:
        self.name = self.full_name = name

    def __str__(self) -> str:
        return self.name or ""


class GridRow:
    """One grid line: the dossier's own columns, and the related rows' names both as
    ``row.company.name`` and under the list column's own key ``"company.name"``. Any other
    attribute comes from the full Dossier, loaded on first use."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str):  # noqa: ANN204 - only called for attributes not set
        if name.startswith("_") or "." in name:
            raise AttributeError(name)
        dossier = self.__dict__.get("_dossier") or db.session.get(Dossier, self.__dict__["id"])
        self.__dict__["_dossier"] = dossier
        return getattr(dossier, name)


_CLOCK_RUNS = (DossierStatus.IN_PROGRESS.value, DossierStatus.RETURNED.value)


def _add_clock_cells(connection, rows: list[GridRow]) -> None:  # noqa: ANN001
    """The SLA cells of a page: working time left and the overdue flag, with one query for the
    open pauses (a returned dossier's clock stands still since its last return)."""
    calendar = office_calendar()
    now = dt.datetime.now(dt.timezone.utc)
    returned = [row.id for row in rows if row.status == DossierStatus.RETURNED.value]
    returned_at = dict(
        connection.execute(
            select(StageEvent.dossier_id, func.max(StageEvent.occurred_at))
            .where(StageEvent.dossier_id.in_(returned), StageEvent.action == "return")
            .group_by(StageEvent.dossier_id)
        ).all()
    ) if returned else {}
    # Dossiers of one day share a due time: each distinct clock is read once per page.
    cells_for: dict[tuple, dict[str, str]] = {}
    for row in rows:
        cells = {"time_left": "", "overdue": ""}
        if row.status in _CLOCK_RUNS and row.due_at is not None:
            key = (row.due_at, returned_at.get(row.id))
            if key not in cells_for:
                pauses = [(key[1], None)] if key[1] is not None else []
                left, late = clock(calendar, row.due_at, now, pauses)
                cells_for[key] = {
                    "time_left": ("-" if late else "") + format_working_time(left),
                    "overdue": str(_l("Overdue")) if late else "",
                }
            cells = cells_for[key]
        row.__dict__.update(cells)


class DossierGridInterface(SQLAInterface):
    """SQLAInterface for the dossier grid: one SELECT for the page, one COUNT.

    FAB's list query loads the page's dossiers as ORM objects, then each row's company and
    applicant on their own (N+1). Here one SELECT reads the listed columns with the four
    related names (many-to-one outer joins: the LIMIT still applies to dossiers, and the
    (submitted_at, id) and (stage_id, submitted_at, id) indexes still serve the order) into
    light GridRow objects; the count stays join-free.
    """

    filter_converter_class = _GridFilterConverter
    own_columns = ("id", "receipt_number", "submitted_at", "status", "due_at", "version")
    related_names = (
        ("permit_type", Dossier.permit_type, PermitType.name),
        ("company", Dossier.company, Company.name),
        ("applicant", Dossier.applicant, Applicant.full_name),
        ("stage", Dossier.stage, Stage.name),
    )

    def get_related_interface(self, col_name: str) -> SQLAInterface:
        # FAB builds related interfaces with self.__class__; the grid's logic is Dossier's only.
        return SQLAInterface(self.get_related_model(col_name), self.session)

    def query(  # noqa: PLR0913
        self,
        filters=None,  # noqa: ANN001
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns: list[str] | None = None,
        outer_default_load: bool = False,
    ):  # noqa: ANN201
        if select_columns or self.obj is not Dossier:
            return super().query(filters, order_column, order_direction, page, page_size, select_columns, outer_default_load)
        # count(*), not count(id): SQLite answers an unfiltered count(*) from the b-tree directly.
        # Plain SELECTs run on the session's connection: rows, not objects, so no ORM loading.
        connection = self.session.connection()
        count_query = self.apply_filters(select(func.count()).select_from(self.obj), filters)
        count = connection.execute(count_query).scalar()
        columns = [getattr(self.obj, c) for c in self.own_columns]
        query = select(*columns, *(name for _, _, name in self.related_names)).select_from(self.obj)
        for _, relation, _ in self.related_names:
            query = query.outerjoin(relation)
        # FAB's apply_all would also rebuild every column's filter list to sort "inner" filters
        # from dotted ones; the grid has no dotted filters.
        query = self.apply_filters(query, filters)
        query = self.apply_order_by(query, order_column, order_direction, add_pk=True)
        query = self.apply_pagination(query, page, page_size)
        n = len(self.own_columns)
        rows = []
        for row in connection.execute(query):
            values = dict(zip(self.own_columns, row[:n]))
            for (key, _, name_column), name in zip(self.related_names, row[n:]):
                values[key] = _Named(name)
                values[f"{key}.{name_column.key}"] = name
            rows.append(GridRow(values))
        _add_clock_cells(connection, rows)
        return count, rows

    def get_values(self, lst: list, list_columns: list[str]) -> list[dict]:
        """The grid's cells straight from its rows; FAB's generic walk for anything else."""
        if lst and all(isinstance(item, GridRow) for item in lst):
            missing = [c for c in list_columns if c not in lst[0].__dict__]
            if not missing:
                return [{c: item.__dict__[c] for c in list_columns} for item in lst]
        return super().get_values(lst, list_columns)


try:  # WTForms 3.3 warns (slowly) on every (value, label) tuple; SelectChoice is its own type.
    from wtforms import SelectChoice as _choice
except ImportError:  # older WTForms

    def _choice(value: str, label: str) -> tuple[str, str]:
        return (value, label)


class LeanSelect2Widget(Select2Widget):
    """FAB's Select2Widget markup, with the options written directly (WTForms' option widgets
    cost ~50 us each, and a grid page renders a search select for every stage)."""

    def __call__(self, field, **kwargs):  # noqa: ANN001, ANN003, ANN204
        if "name_" in kwargs:
            field.name = kwargs.pop("name_")
        kwargs.setdefault("id", field.id)
        kwargs["class"] = "my_select2 form-control"
        kwargs["data-placeholder"] = _l("Select Value")
        options = "".join(
            f'<option{" selected" if choice.selected else ""} value="{escape(choice.value)}">'
            f"{escape(choice.label)}</option>"
            for choice in field.iter_choices()
        )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def status_choices() -> list:
    return [_choice(code, str(label)) for code, label in DOSSIER_STATUSES.items()]


def search_select(label: object, label_columns: tuple, template: str, *order_by) -> SelectField:  # noqa: ANN002
    """The search form's select for a small related table: ids and labels in one SELECT, in
    reading order. (FAB's QuerySelectField runs a COUNT, loads whole rows in id order, and
    trips a WTForms deprecation warning per option.)"""
    model = label_columns[0].class_

    def choices() -> list:
        rows = db.session.connection().execute(select(model.id, *label_columns).order_by(*order_by))
        return [_choice(str(row[0]), template.format(*row[1:])) for row in rows]

    return SelectField(label, choices=choices, widget=LeanSelect2Widget())


# app.formatting.format_moment's pattern "d MMMM yyyy HH.mm", split in a date part (Babel,
# once per day shown) and the time (digits only); tests check both agree.
_DAY_PATTERN = "d MMMM yyyy"


def _request_babel() -> tuple:
    """Locale, timezone and a day-label cache, once per request (Flask-Babel's lookups cost
    more than the formatting itself, 50 times per grid page)."""
    memo = request_cache("grid_babel")
    if "babel" not in memo:
        memo["babel"] = (get_locale(), get_timezone(), {})
    return memo["babel"]


def grid_moment(value: dt.datetime | None) -> str:
    """format_moment for grid cells: "28 November 2026 03.30" in the user's timezone."""
    if value is None:
        return ""
    locale, tz, days = _request_babel()
    local = as_utc(value).astimezone(tz)
    day = days.get(local.date())
    if day is None:
        day = days[local.date()] = babel_dates.format_date(local.date(), _DAY_PATTERN, locale=locale)
    return f"{day} {local.hour:02d}.{local.minute:02d}"


def grid_status(value: str) -> str:
    labels = request_cache("grid_status")
    if not labels:
        labels.update((key, str(label)) for key, label in DOSSIER_STATUSES.items())
    return labels.get(value, value)

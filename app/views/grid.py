"""Grids at scale: text filters on big related tables (every grid), and the dossier grid's one
SELECT per page.

A busy office has hundreds of thousands of companies, applicants and dossiers: no grid may load
them all into its search form, and the dossier grid does not fetch them one row at a time.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from babel import dates as babel_dates
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterContains,
    FilterEndsWith,
    FilterEqual,
    FilterGreater,
    FilterIn,
    FilterNotEqual,
    FilterRelationOneToManyEqual,
    FilterRelationOneToManyNotEqual,
    FilterSmaller,
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from wtforms import SelectField, StringField
from wtforms.widgets import html_params

from app.alerts import due_soon_condition, due_soon_horizon, overdue_condition
from app.extensions import db
from app.formatting import format_working_time
from app.labels import DOSSIER_STATUSES
from app.models import Applicant, Company, Dossier, DossierStatus, PermitType, Stage, StageEvent
from app.models.account import Account
from app.office import office_calendar
from app.request_cache import request_cache
from app.sop.calendar import as_utc
from app.sop.sla import clock
from app.views.paging import list_page
from app.views.period_filters import (
    FilterIssuedInMonth,
    FilterReceivedInMonth,
    FilterRejectedInMonth,
    FilterReturnedInMonth,
)

_SEPARATORS = re.compile(r"[\s.\-/]")
_LIKE_SPECIAL = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class TextMatch:
    """How a row of a big table is found by what a person types: every word in one of its name
    columns ("contains"), or the whole text equal to a name or, without separators, to a code
    such as the NIB or NIK ("equal to")."""

    names: tuple[str, ...]
    codes: tuple[str, ...] = ()

    def contains(self, model: type, text: str) -> ColumnElement[bool]:
        words = [_LIKE_SPECIAL.sub(r"\\\1", word) for word in text.split()]
        return and_(*(or_(*(getattr(model, c).ilike(f"%{w}%", escape="\\") for c in self.names)) for w in words))

    def equals(self, model: type, text: str) -> ColumnElement[bool]:
        digits = _SEPARATORS.sub("", text)
        return or_(*(getattr(model, c) == text for c in self.names), *(getattr(model, c) == digits for c in self.codes))

    def typed(self, model: type, text: str) -> ColumnElement[bool]:
        """What a type-ahead offers: the name contains every word, or a code starts with the digits."""
        digits = _SEPARATORS.sub("", text)
        prefix = [getattr(model, c).startswith(digits, autoescape=True) for c in self.codes] if digits.isdigit() else []
        return or_(self.contains(model, text), *prefix)


# The tables too big for a pick-list, with how their rows are found. A search form or add/edit
# form never lists one of these whole: filters on a relation to one are text filters (below),
# a form field choosing one is a type-ahead (app.views.typeahead).
BIG_TABLES: dict[type, TextMatch] = {
    Company: TextMatch(("name",), ("nib",)),
    Applicant: TextMatch(("full_name",), ("nik",)),
    Dossier: TextMatch(("receipt_number",)),
    Account: TextMatch(("first_name", "last_name", "username")),
}


def _related_text_filter(base: type[BaseFilter]) -> type[BaseFilter]:
    """A filter on a many-to-one relation to a big table that matches the text of the related
    row (BIG_TABLES), instead of FAB's relation filter, whose search field lists every row."""

    class RelatedTextFilter(base):  # type: ignore[misc, valid-type]
        arg_name = f"rel_{base.arg_name}"

        def apply(self, query, value):  # noqa: ANN001, ANN201
            value = str(value or "").strip()
            if not value:
                return query
            relation = getattr(self.model, self.column_name).property
            target = relation.mapper.class_
            matcher = BIG_TABLES[target]
            match = matcher.contains(target, value) if base is FilterContains else matcher.equals(target, value)
            (foreign_key,) = relation.local_columns
            return query.filter(foreign_key.in_(select(relation.mapper.primary_key[0]).where(match)))

    RelatedTextFilter.__name__ = f"Related{base.__name__}"
    return RelatedTextFilter


# "Contains" (_flt_0_<relation>) and "Equal to" (_flt_1_<relation>): FAB's own labels, already in
# the catalog.
RELATED_TEXT_FILTERS = [_related_text_filter(FilterContains), _related_text_filter(FilterEqual)]


def is_big_relation(datamodel: SQLAInterface, col_name: str) -> bool:
    return datamodel.is_relation_many_to_one(col_name) and datamodel.get_related_model(col_name) in BIG_TABLES


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


class _RelationIdIn(BaseFilter):
    """One of several related rows by id (_flt_2_stage=3&_flt_2_stage=7: FAB hands "in" filters
    the whole list), e.g. every stage a role works, for the home page's links."""

    name = _l("In")
    arg_name = "in"

    def apply(self, query, value):  # noqa: ANN001, ANN201
        values = value if isinstance(value, list) else [value]
        (foreign_key,) = getattr(self.model, self.column_name).property.local_columns
        ids = [int(v) for v in map(str, values) if v.isdigit() and len(v) <= 18]
        return query.filter(foreign_key.in_(ids) if ids else false())


class FilterPrefix(FilterStartsWith):
    """Starts with (FAB's "sw", same label and link), as lower(column) LIKE 'value%': on
    PostgreSQL a range scan of the column's prefix_index, where FAB's ILIKE made the planner walk
    the whole sort index of a big table filtering row by row."""

    def apply(self, query, value):  # noqa: ANN001, ANN201
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(func.lower(field).startswith(str(value).lower(), autoescape=True))


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


class FilterOnTime(BaseFilter):
    """Tepat waktu: open work that is neither overdue nor due today (an issued permit kept its promise)."""

    name = _l("On time")
    arg_name = "on_time"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        calendar = office_calendar()
        now = dt.datetime.now(dt.timezone.utc)
        tomorrow = dt.datetime.combine(calendar.local_date(now) + dt.timedelta(days=1), dt.time(), tzinfo=calendar.tz)
        in_progress = and_(Dossier.status == DossierStatus.IN_PROGRESS.value,
                           or_(Dossier.due_at.is_(None), Dossier.due_at >= _stored_instant(self, tomorrow)))
        return query.filter(or_(Dossier.status == DossierStatus.ISSUED.value, in_progress))


class FilterPastSla(BaseFilter):
    """Melewati SLA (app.alerts): no decision and past the promise; a returned dossier counts when
    it was already late at its last return."""

    name = _l("Past SLA")
    arg_name = "past_sla"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        now = _stored_instant(self, dt.datetime.now(dt.timezone.utc))
        return query.filter(overdue_condition(now))


class FilterDueSoon(BaseFilter):
    """Jatuh tempo <= 1 hari kerja (app.alerts): in progress, due within one working day of office time."""

    name = _l("Due within one working day")
    arg_name = "due_soon"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        now = dt.datetime.now(dt.timezone.utc)
        horizon = due_soon_horizon(office_calendar(), now)
        return query.filter(due_soon_condition(_stored_instant(self, now), _stored_instant(self, horizon)))


class FilterOnTrack(BaseFilter):
    """Sesuai jadwal: open work that is neither past its promise nor due within one working day
    (the dashboard's "on time"; an issued permit kept its promise)."""

    name = _l("On track (more than one working day left)")
    arg_name = "on_track"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        horizon = _stored_instant(self, due_soon_horizon(office_calendar(), dt.datetime.now(dt.timezone.utc)))
        in_progress = and_(Dossier.status == DossierStatus.IN_PROGRESS.value,
                           or_(Dossier.due_at.is_(None), Dossier.due_at >= horizon))
        return query.filter(or_(Dossier.status == DossierStatus.ISSUED.value, in_progress))


class FilterReadyToResume(BaseFilter):
    """Siap dilanjutkan: returned to the applicant, who has since sent the missing papers from the
    portal (Dossier.resubmitted_at; the resume clears it)."""

    name = _l("Ready to resume (papers sent by the applicant)")
    arg_name = "ready_to_resume"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        return query.filter(Dossier.status == DossierStatus.RETURNED.value, Dossier.resubmitted_at.is_not(None))


class FilterAppliedOnline(BaseFilter):
    """Permohonan daring: opened by the applicant on the portal, not at the counter."""

    name = _l("Applied online")
    arg_name = "applied_online"

    def apply(self, query, value):  # noqa: ANN001, ANN201, ARG002
        return query.filter(Dossier.submitted_online.is_(True))


# The status column's filters, for links such as ?_flt_3_status=1 (ready to resume). Append only.
STATUS_FILTERS = [FilterEqual, FilterNotEqual, FilterIn, FilterReadyToResume, FilterAppliedOnline]

# Indexes of the due-date filters, for links such as ?_flt_2_due_at=1 (see dossier_list.html and
# the home page). Append only: the indexes are in links.
DUE_FILTERS = [FilterGreater, FilterSmaller, FilterOverdue, FilterDueToday, FilterOnTime, FilterPastSla, FilterDueSoon,
               FilterOnTrack]


class _GridFilterConverter(SQLAFilterConverter):
    """The interface's own column_filters first; a relation to a big table gets the text filters,
    any other many-to-one relation the id filters; other columns FAB's."""

    def convert(self, col_name: str) -> list[BaseFilter]:
        own = self.datamodel.column_filters.get(col_name)
        if own:
            return [flt(col_name, self.datamodel) for flt in own]
        if is_big_relation(self.datamodel, col_name):
            return [flt(col_name, self.datamodel) for flt in RELATED_TEXT_FILTERS]
        if self.datamodel.is_relation_many_to_one(col_name):
            return [_RelationIdEqual(col_name, self.datamodel), _RelationIdNotEqual(col_name, self.datamodel)]
        return [FilterPrefix(col_name, self.datamodel) if type(flt) is FilterStartsWith else flt
                for flt in super().convert(col_name)]


class LoketInterface(SQLAInterface):
    """SQLAInterface for a grid whose search form may name a big table: its relations to one are
    searched by text (BIG_TABLES), never picked from a list. column_filters: a column's filters
    in the grid's own choice and order (their indexes are the _flt_<n>_ in links)."""

    filter_converter_class = _GridFilterConverter
    column_filters: dict[str, list[type[BaseFilter]]] = {}

    def get_related_interface(self, col_name: str) -> SQLAInterface:
        # FAB builds related interfaces with self.__class__; a grid's own logic is its model's only.
        return SQLAInterface(self.get_related_model(col_name), self.session)

    def text_search_fields(self, labels: dict[str, object]) -> dict[str, StringField]:
        """The search form's text boxes for the relations to big tables (for the view's
        search_form_extra_fields: FAB would build a select of every related row)."""
        relations = [c for c in self.get_columns_list() if is_big_relation(self, c)]
        return {c: StringField(labels.get(c, c), widget=BS3TextFieldWidget()) for c in relations}


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
    """The SLA cells of a page: working time left and the overdue flag. A returned dossier's
    clock stands still since its last return: read with the rows (returned_at), else in one query."""
    calendar = office_calendar()
    now = dt.datetime.now(dt.timezone.utc)
    returned = [row.id for row in rows if row.status == DossierStatus.RETURNED.value
                and "returned_at" not in row.__dict__]
    returned_at = {row.id: row.returned_at for row in rows if row.__dict__.get("returned_at") is not None}
    returned_at |= dict(
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


class DossierGridInterface(LoketInterface):
    """SQLAInterface for the dossier grid: the page's ids first, then their rows in one SELECT.

    FAB's list query loads the page's dossiers as ORM objects, then each row's company and
    applicant on their own (N+1); a join before the LIMIT would look the names up for every row
    an OFFSET skips. Here (app.views.paging) the page's ids come from the dossier table alone (an
    index on (order column, id) serves them), then one SELECT reads the listed columns with the
    four related names (many-to-one outer joins) WHERE id IN (those ids) into light GridRow
    objects.
    """

    # Fewer, useful operators: the receipt number keeps FAB's first four (same _flt_ indexes), the
    # status is picked from its labels.
    column_filters = {
        "receipt_number": [FilterPrefix, FilterEndsWith, FilterContains, FilterEqual],
        "status": STATUS_FILTERS,
        # FAB's four, then the months the dashboard's bars link to (app.views.period_filters).
        "submitted_at": [FilterEqual, FilterGreater, FilterSmaller, FilterNotEqual, FilterReceivedInMonth,
                         FilterIssuedInMonth, FilterReturnedInMonth, FilterRejectedInMonth],
        "due_at": DUE_FILTERS,
        "stage": [_RelationIdEqual, _RelationIdNotEqual, _RelationIdIn],
    }
    own_columns = ("id", "receipt_number", "submitted_at", "status", "due_at", "version")
    related_names = (
        ("permit_type", Dossier.permit_type, PermitType.name),
        ("company", Dossier.company, Company.name),
        ("applicant", Dossier.applicant, Applicant.full_name),
        ("stage", Dossier.stage, Stage.name),
    )

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
        if select_columns or self.obj is not Dossier or not page_size:
            return super().query(filters, order_column, order_direction, page, page_size, select_columns, outer_default_load)
        return list_page(self, filters, order_column, order_direction, page, page_size, ())

    def rows_by_ids(self, ids: list[int]) -> list[GridRow]:
        """The grid lines of these dossiers, in this order (app.views.paging reads ids first)."""
        if not ids:
            return []
        # A plain SELECT on the session's connection: rows, not objects, so no ORM loading.
        connection = self.session.connection()
        columns = [getattr(self.obj, c) for c in self.own_columns]
        # The last return of a returned dossier (its clock's pause), in the same statement.
        last_return = case((self.obj.status == DossierStatus.RETURNED.value, (
            select(func.max(StageEvent.occurred_at))
            .where(StageEvent.dossier_id == self.obj.id, StageEvent.action == "return").scalar_subquery()
        )))
        query = select(*columns, *(name for _, _, name in self.related_names), last_return).select_from(self.obj)
        for _, relation, _ in self.related_names:
            query = query.outerjoin(relation)
        n = len(self.own_columns)
        found = {}
        for row in connection.execute(query.where(self.obj.id.in_(ids))).all():
            values = dict(zip(self.own_columns, row[:n]))
            for (key, _, name_column), name in zip(self.related_names, row[n:-1]):
                values[key] = _Named(name)
                values[f"{key}.{name_column.key}"] = name
            values["returned_at"] = row[-1]
            found[values["id"]] = GridRow(values)
        rows = [found[i] for i in ids if i in found]
        _add_clock_cells(connection, rows)
        return rows

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

"""Grid pages and exports at a million rows, for any grid's datamodel.

A page is read in two steps: the page's ids alone (the grid's filters, order and LIMIT/OFFSET on
the grid's own table, which an index on (order column, id) answers), then its rows with whatever
they show WHERE id IN (those ids): the related names are looked up 25 times, not once per row
skipped. The count stops at COUNT_CAP rows (or just past the page asked for): "lebih dari 10.000"
tells as much as an exact count that costs a scan of every matching row.

An export reads the same rows by keyset: batches ordered by (order column, id), each starting
after the last row of the one before, so every batch is an index range, never an OFFSET, and no
batch counts anything.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Query, joinedload

COUNT_CAP = 10_000
EXPORT_BATCH = 1000
# Dialects that sort NULL after every value in ascending order (SQLite and MySQL sort it first).
_NULLS_HIGH = {"postgresql", "oracle"}


class CappedCount(int):
    """A grid's row count; `capped` when more rows match than were counted (at least cap + 1).
    `label` is what the grid shows: the number, or "more than <cap>"."""

    cap: int = 0
    capped: bool = False

    @classmethod
    def of(cls, counted: int, cap: int | None) -> CappedCount:
        count = cls(counted)
        count.cap = cap or counted
        count.capped = cap is not None and counted > cap
        return count

    @property
    def label(self) -> str:
        if self.capped:
            return str(_l("more than %(count)s", count=format_decimal(self.cap)))
        return str(int(self))


def _ids(datamodel: SQLAInterface, filters: Filters | None) -> Query:
    """The grid's rows as a query of their ids, filtered (the grids have no dotted filters)."""
    return datamodel.apply_filters(datamodel.session.query(datamodel.get_pk()), filters)


def count_rows(datamodel: SQLAInterface, filters: Filters | None, cap: int | None = COUNT_CAP) -> CappedCount:
    """The matching rows, counted up to cap + 1 (None: all of them)."""
    query = _ids(datamodel, filters)
    if cap is not None:
        query = query.limit(cap + 1)
    counted = datamodel.session.execute(select(func.count()).select_from(query.subquery())).scalar()
    return CappedCount.of(counted, cap)


def page_ids(  # noqa: PLR0913
    datamodel: SQLAInterface, filters: Filters | None, order_column: str, order_direction: str,
    page: int | None, page_size: int | None,
) -> list[Any]:
    """The ids of one grid page, in the grid's order (FAB's: the order column, then the id)."""
    query = datamodel.apply_order_by(_ids(datamodel, filters), order_column, order_direction,
                                     aliases_mapping={}, add_pk=True)
    return [row[0] for row in datamodel.apply_pagination(query, page, page_size)]


def rows_by_ids(datamodel: SQLAInterface, ids: Sequence[Any], list_columns: Sequence[str]) -> list[Any]:
    """The rows of these ids in this order. A datamodel with its own rows_by_ids (the dossier
    grid's light rows) reads them itself; otherwise ORM objects, with the related rows the list
    shows joined in the same SELECT (a page's few rows: a join costs less than a statement)."""
    own = getattr(datamodel, "rows_by_ids", None)
    if own is not None:
        return own(ids)
    if not ids:
        return []
    pk = datamodel.get_pk()
    query = datamodel.session.query(datamodel.obj).filter(pk.in_(ids))
    for relation in dict.fromkeys(column.split(".")[0] for column in list_columns):
        if datamodel.is_relation_many_to_one(relation) or datamodel.is_relation_one_to_one(relation):
            query = query.options(joinedload(getattr(datamodel.obj, relation)))
    found = {getattr(item, pk.key): item for item in query}
    return [found[i] for i in ids if i in found]


def list_page(  # noqa: PLR0913
    datamodel: SQLAInterface, filters: Filters | None, order_column: str, order_direction: str,
    page: int | None, page_size: int, list_columns: Sequence[str],
) -> tuple[CappedCount, list[Any]]:
    """(count, rows) of one grid page: the count capped at COUNT_CAP, or just past the page asked
    for, so "next" always knows whether there is a next page."""
    count = count_rows(datamodel, filters, max(COUNT_CAP, ((page or 0) + 1) * page_size))
    if not count:
        return count, []
    ids = page_ids(datamodel, filters, order_column, order_direction, page, page_size)
    return count, rows_by_ids(datamodel, ids, list_columns)


def _order_expression(datamodel: SQLAInterface, order_column: str, aliases: dict) -> tuple[Any, bool]:
    """The column a grid sorts by, as FAB's apply_order_by joined it, and whether it can be NULL."""
    if "." in order_column:
        root, leaf = order_column.split(".", 1)
        return getattr(datamodel.get_alias_mapping(root, aliases), leaf), True  # an outer join
    column = getattr(datamodel.obj, order_column)
    return column, bool(getattr(column.property.columns[0], "nullable", True))


def keyset_batches(  # noqa: PLR0913
    datamodel: SQLAInterface, filters: Filters | None, order_column: str, order_direction: str,
    list_columns: Sequence[str], batch: int | None = None,
) -> Iterator[list[Any]]:
    """Every matching row in the grid's order, batch by batch: each batch is the next `batch` ids
    after the last one read, by (order column, id) (NULLs where the database sorts them)."""
    batch = batch or EXPORT_BATCH
    pk = datamodel.get_pk()
    by_id = not order_column or order_column == pk.key
    ascending = order_direction == "asc" or not order_column  # FAB sorts descending unless told "asc"
    after = (lambda a, b: a > b) if ascending else (lambda a, b: a < b)  # noqa: E731
    aliases: dict = {}
    if by_id:
        query = _ids(datamodel, filters).order_by(pk.asc() if ascending else pk.desc())
        expression, nullable = None, False
    else:
        query = datamodel.apply_order_by(_ids(datamodel, filters), order_column, order_direction,
                                         aliases_mapping=aliases, add_pk=True)
        expression, nullable = _order_expression(datamodel, order_column, aliases)
        query = query.add_columns(expression)
    # Rows whose order value is NULL come first or last, as one run ordered by id alone.
    nulls_last = ascending == (datamodel.session.get_bind().dialect.name in _NULLS_HIGH)
    runs = [False] if not nullable else ([False, True] if nulls_last else [True, False])
    for null_run in runs:
        run = query
        if nullable:
            run = run.filter(expression.is_(None) if null_run else expression.is_not(None))
        last = None
        while True:
            step = run
            if last is not None:
                if expression is None or null_run:
                    step = step.filter(after(pk, last[0]))
                else:
                    step = step.filter(after(tuple_(expression, pk), tuple_(last[1], last[0])))
            found = step.limit(batch).all()
            if not found:
                break
            yield rows_by_ids(datamodel, [row[0] for row in found], list_columns)
            last = found[-1]
            if len(found) < batch:
                break

"""Exporting a grid to Excel: exactly the rows of its current filter and sort, in its columns.

The grid's own machinery picks the rows (its search filters from the query string, its base
filters, its order), so an export can never show more than the grid would. They are read by
keyset in one pass (app.views.paging.keyset_batches: no OFFSET, no count per batch), so a job of
866,000 rows reads each row once, in steady memory. Up to EXPORT_INLINE_MAX_ROWS rows the file
comes back in the response; above that it is a report job.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_appbuilder.baseviews import BaseCRUDView
from flask_appbuilder.urltools import get_filter_args, get_order_args
from markupsafe import Markup

from app.sop.calendar import as_utc
from app.views.paging import CappedCount, count_rows, keyset_batches


def grid_query(view: BaseCRUDView) -> tuple[Any, str, str]:
    """(joined filters, order column, order direction) of the grid as the current request asks."""
    filters = view.datamodel.get_filters(view.search_columns)
    get_filter_args(filters)
    order_column, order_direction = get_order_args().get(view.__class__.__name__, ("", ""))
    if not order_column and view.base_order:
        order_column, order_direction = view.base_order
    return filters.get_joined_filters(view._base_filters), order_column, order_direction  # noqa: SLF001


def grid_count(view: BaseCRUDView, cap: int | None = None) -> CappedCount:
    """The grid's matching rows, counted up to cap + 1 (None: exactly)."""
    joined, _, _ = grid_query(view)
    return count_rows(view.datamodel, joined, cap)


def grid_headers(view: BaseCRUDView) -> list[str]:
    return [str(view.label_columns.get(column, column)) for column in view.list_columns]


def grid_rows(view: BaseCRUDView) -> Iterator[list[Any]]:
    """The grid's rows, all of them, in its order, as plain typed values (see plain())."""
    joined, order_column, order_direction = grid_query(view)
    zone = ZoneInfo(current_app.config["OFFICE_TIMEZONE"])
    formatters = view.formatters_columns or {}
    for items in keyset_batches(view.datamodel, joined, order_column, order_direction, view.list_columns):
        for values in view.datamodel.get_values(items, view.list_columns):
            yield [plain(values[column], formatters.get(column), zone) for column in view.list_columns]


def plain(value: Any, formatter: Any, zone: ZoneInfo) -> Any:  # noqa: ANN401
    """A grid value as an Excel cell: dates and numbers keep their type (in office time, without
    a zone, as Excel wants); codes go through the grid's formatter to their labels, as text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dt.datetime):
        return as_utc(value).astimezone(zone).replace(tzinfo=None)  # SQLite keeps no zone: UTC
    if isinstance(value, dt.date):
        return value
    if formatter is not None:
        value = formatter(value)
    return Markup(value).striptags() if isinstance(value, Markup) else str(value)

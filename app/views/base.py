"""Shared grid defaults: Indonesian dates, sensible page size, "Ekspor Excel" on every grid, and
no 500 from a malformed request (ArgsGuard, CrudGuard: also used for FAB's own security screens)."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, send_from_directory, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.exceptions import ApplyFilterException
from flask_appbuilder.filemanager import uuid_originalname
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_order_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from app.audit import set_reason
from app.audit.listener import pending_refusal
from app.changes import ChangeRefused, in_use_refusal
from app.dates import indonesian_dates
from app.extensions import db
from app.formatting import format_day, format_moment
from app.forms import reason_field
from app.jobs.submit import start_job
from app.office import office_now
from app.views.export import grid_count, grid_headers, grid_rows
from app.views.paging import list_page
from reports.grid_export import write_grid

# A page past a million is no office's page: refused, so no offset overflows a database integer.
MAX_PAGE = 1_000_000
_WHOLE = re.compile(r"[0-9]{1,18}")
# The biggest integer a database column holds (BIGINT): no id or number past it names anything.
MAX_DATABASE_INTEGER = 2**63 - 1
# The argument names FAB's urltools read (it searches them anywhere in the name, so do we).
_PAGE_ARG = re.compile("page_")
_SIZE_ARG = re.compile("psize_")
_FILTER_ARG = re.compile(r"_flt_([0-9])_(.+)")


def whole_number(value: object, low: int = 0, high: int | None = None) -> int | None:
    """The value as an int when it is plain digits within [low, high], else None."""
    text = str(value)
    if not _WHOLE.fullmatch(text):
        return None
    number = int(text)
    return number if number >= low and (high is None or number <= high) else None


def well_formed_pk(datamodel: SQLAInterface, pk: object) -> bool:
    """Whether pk can name a row at all. FAB hands the URL's text to the database, where text in an
    integer column (PostgreSQL) or a number past 64 bits (SQLite) is an error, not "not found"."""
    if datamodel.is_pk_composite() or not datamodel.is_integer(datamodel.get_pk_name()):
        return "\x00" not in str(pk)
    return whole_number(pk) is not None


# What a query can raise over a value it was given; unusable_value() tells the request's fault apart.
QUERY_ERRORS = (SQLAlchemyError, ApplyFilterException, OverflowError)


def unusable_value(exc: BaseException) -> bool:
    """A search value the database could not take or compare (text in a number column, a NUL, a
    number past 64 bits): the request's fault. Any other database error is the server's."""
    if isinstance(exc, ApplyFilterException):  # FAB's relation filters: the database refused the value
        return True
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError)
    return isinstance(exc, (StatementError, OverflowError))


@contextmanager
def search_values_checked(session: Session) -> Iterator[None]:
    try:
        yield
    except QUERY_ERRORS as exc:
        if not unusable_value(exc):
            raise
        session.rollback()
        abort(400, description=_l("A search value cannot be used for its column."))


class ArgsGuard:
    """For any FAB model view (grids, charts): the arguments FAB reads from the URL (the row in
    <pk>, page_*, psize_*, _oc_*, _flt_*) are checked before the view runs; FAB itself would
    answer a malformed one with a 500. A malformed row number is a 404, anything else a 400."""

    def create_blueprint(
        self, appbuilder: Any, endpoint: str | None = None, static_folder: str | None = None,  # noqa: ANN401
    ) -> Blueprint:
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        blueprint.before_request(self.refuse_malformed_args)
        return blueprint

    def refuse_malformed_args(self) -> None:
        pk = (request.view_args or {}).get("pk")
        if pk is not None and not well_formed_pk(self.datamodel, pk):
            abort(404, description=_l("No such record."))
        for name, value in request.args.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, description=_l("The address contains a NUL character."))
            if _PAGE_ARG.search(name) and whole_number(value, 0, MAX_PAGE) is None:
                abort(400, description=_l("A page number is a whole number from 0 to %(max)s.", max=MAX_PAGE))
            if _SIZE_ARG.search(name) and whole_number(value, 1) is None:
                abort(400, description=_l("A page size is a whole number of at least 1."))
            if "_flt_" in name:
                self._refuse_unknown_filter(name, value)
        views = {type(self).__name__: self, **{type(v).__name__: v for v in getattr(self, "_related_views", [])}}
        for view_name, (column, _) in get_order_args().items():
            view = views.get(view_name)
            if view is not None and column not in getattr(view, "order_columns", ()):
                abort(400, description=_l("Unknown sort column: %(column)s.", column=column))

    def _refuse_unknown_filter(self, name: str, value: str) -> None:
        match = _FILTER_ARG.fullmatch(name)
        # FAB indexes a column's filters in this list (Filters.add_filter_index).
        column_filters = self._filters._all_filters.get(match.group(2), ()) if match else ()  # noqa: SLF001
        if not match or int(match.group(1)) >= len(column_filters):
            abort(400, description=_l("Unknown filter: %(name)s.", name=name))
        # FAB reads "y" (its checkbox) as yes and hands any other text to the database, which
        # PostgreSQL refuses to compare with a boolean.
        if self.datamodel.is_boolean(match.group(2)) and value != "y":
            abort(400, description=_l("A yes/no filter takes the value y."))


class CrudGuard(ArgsGuard):
    """For FAB ModelViews: ArgsGuard, a capped page size (GRID_MAX_PAGE_SIZE), search values the
    database refuses as a 400, unknown actions and rows as a 404, downloads inside UPLOAD_FOLDER."""

    def _get_list_widget(self, filters: Any, page_size: int | None = None, **kwargs: Any) -> dict:  # noqa: ANN401
        page_size = min(page_size or self.page_size, current_app.config["GRID_MAX_PAGE_SIZE"])
        with search_values_checked(self.datamodel.session):
            return super()._get_list_widget(filters, page_size=page_size, **kwargs)

    def _known_action(self, name: str) -> Any:  # noqa: ANN401
        if name not in self.actions:
            abort(404, description=_l("Unknown action: %(name)s.", name=name))
        return self.actions[name]

    def _may_run(self, name: str) -> bool:
        return self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name)

    def _row(self, pk: str) -> object:
        """The row pk names in this grid (its base filters apply); FAB would hand None on."""
        item = self.datamodel.get(pk, self._base_filters) if well_formed_pk(self.datamodel, pk) else None
        if item is None:
            abort(404, description=_l("No such record."))
        return item

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name: str, pk: str):  # noqa: ANN201
        action = self._known_action(name)
        if not self.is_get_mutation_allowed() or not self._may_run(name):
            return super().action(name, pk)  # FAB's own refusal: a message and back
        return action.func(self._row(pk))

    @expose("/action_post", methods=["POST"])
    def action_post(self):  # noqa: ANN201
        name = request.form.get("action", "")
        action = self._known_action(name)
        if not self._may_run(name):
            return super().action_post()
        return action.func([self._row(pk) for pk in request.form.getlist("rowid")])

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename: str):  # noqa: ANN201
        """FAB's file-column download, kept inside UPLOAD_FOLDER; a name that is not one FAB stores
        (uuid_sep_name), or no such file, is a 404."""
        if "_sep_" not in filename:
            abort(404, description=_l("No such file."))
        return send_from_directory(
            current_app.config["UPLOAD_FOLDER"], filename, as_attachment=True, download_name=uuid_originalname(filename)
        )


class LoketListWidget(ListWidget):
    """FAB's list, whose pagination knows a capped count (app.views.paging.CappedCount)."""

    template = "loket/widgets/list.html"


class PagedList:
    """FAB's _get_list_widget with the page read ids-first and the count capped
    (app.views.paging.list_page), for any grid's datamodel."""

    def _get_list_widget(  # noqa: PLR0913
        self, filters: Any, actions: Any = None, order_column: str = "", order_direction: str = "",  # noqa: ANN401
        page: int | None = None, page_size: int | None = None, widgets: dict | None = None, **kwargs: Any,  # noqa: ANN401
    ) -> dict:
        widgets = widgets or {}
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined_filters = filters.get_joined_filters(self._base_filters)
        count, rows = list_page(self.datamodel, joined_filters, order_column, order_direction, page, page_size,
                                self.list_columns)
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns, include_columns=self.list_columns,
            value_columns=self.datamodel.get_values(rows, self.list_columns), order_columns=self.order_columns,
            formatters_columns=self.formatters_columns, page=page, page_size=page_size, count=count,
            pks=[self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(rows)],
            actions=actions or self.actions, filters=filters, modelview_name=self.__class__.__name__, **kwargs,
        )
        return widgets


class LoketModelView(CrudGuard, PagedList, ModelView):
    page_size = 25
    list_template = "loket/list.html"
    list_widget = LoketListWidget
    # Column name -> formatter; subclasses list their date columns here.
    date_columns: tuple[str, ...] = ()
    moment_columns: tuple[str, ...] = ()
    # Records whose changes after a dossier's receipt need a reason (app.changes): the edit form
    # asks for one, and the audit trail keeps it with the change.
    asks_reason = False

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        formatters = {c: format_day for c in self.date_columns}
        formatters |= {c: format_moment for c in self.moment_columns}
        self.formatters_columns = {**formatters, **(self.formatters_columns or {})}
        # Whoever may list a grid may export what it lists.
        self.method_permission_name = {"export_xlsx": "list", **(self.method_permission_name or {})}
        if self.asks_reason:
            self.edit_form_extra_fields = {
                **(self.edit_form_extra_fields or {}), "change_reason": reason_field(self.datamodel.obj),
            }
            self.edit_columns = [*self.edit_columns, "change_reason"]
        super().__init__(**kwargs)

    def _init_forms(self) -> None:
        super()._init_forms()
        # Dates typed and shown as dd/mm/yyyy in an Indonesian picker (app.dates), not FAB's ISO one.
        indonesian_dates(self.add_form)
        indonesian_dates(self.edit_form)

    def post_edit_redirect(self):  # noqa: ANN201
        """Back where the edit was asked from when the link said so (?kembali=/dossierview/show/7:
        the dossier page's edit buttons), else FAB's history. Only a path of this site."""
        back = request.args.get("kembali", "")
        if back.startswith("/") and not back.startswith(("//", "/\\")):
            return redirect(back)
        return super().post_edit_redirect()

    def pre_update(self, item: object) -> None:
        """The form checked the reason and the frozen fields; the same rules are asked again on
        the record as it will be saved, so nothing reaches the database unexplained."""
        set_reason(db.session, getattr(item, "change_reason", None))
        refusal = pending_refusal(db.session, item)
        if refusal is not None:
            db.session.rollback()
            raise refusal

    def pre_delete(self, item: object) -> None:
        refusal = in_use_refusal(db.session, item)
        if refusal:
            raise ChangeRefused(refusal)

    @expose("/export_xlsx", methods=["GET"])
    @has_access
    def export_xlsx(self):  # noqa: ANN201
        """The grid's current filter and sort, every page: in the response up to
        EXPORT_INLINE_MAX_ROWS rows, else as a report job (its page shows the progress)."""
        name = _file_name(str(self.list_title or self.__class__.__name__))
        with search_values_checked(self.datamodel.session):
            count = grid_count(self, cap=current_app.config["EXPORT_INLINE_MAX_ROWS"])
        if count.capped:
            job = start_job("grid_export", {
                "view": self.__class__.__name__, "args": request.query_string.decode(), "user_id": current_user.id,
                "title": name,
            }, current_user.id)
            flash(str(_l("More than %(max)s rows: the export runs as a report job; this page shows its progress.",
                         max=current_app.config["EXPORT_INLINE_MAX_ROWS"])), "info")
            return redirect(url_for("ReportJobView.show", pk=job.id))
        out = io.BytesIO()
        with search_values_checked(self.datamodel.session):
            write_grid(out, name, grid_headers(self), grid_rows(self))
        out.seek(0)
        stamp = office_now().strftime("%Y%m%d-%H%M")
        response = send_file(out, as_attachment=True, download_name=f"{name}-{stamp}.xlsx",
                             mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _file_name(title: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", title).strip("-").lower() or "data"


def holds_signing_certificate() -> bool:
    """Whether the signed-in user has a TTE certificate (their moves into numbering sign, the grid
    offers them batch signing): read with the user, no query (app.security.manager.load_user)."""
    return current_user.is_authenticated and getattr(current_user, "signing_certificate_id", None) is not None

"""Shared grid defaults: Indonesian dates, sensible page size, and "Ekspor Excel" on every grid."""
from __future__ import annotations

import io
import re

from flask import current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.audit import set_reason
from app.audit.listener import pending_refusal
from app.changes import ChangeRefused, in_use_refusal
from app.extensions import db
from app.formatting import format_day, format_moment
from app.forms import reason_field
from app.jobs.submit import start_job
from app.office import office_now
from app.views.export import grid_count, grid_headers, grid_rows
from reports.grid_export import write_grid


class LoketModelView(ModelView):
    page_size = 25
    list_template = "loket/list.html"
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
        if grid_count(self) > current_app.config["EXPORT_INLINE_MAX_ROWS"]:
            job = start_job("grid_export", {
                "view": self.__class__.__name__, "args": request.query_string.decode(), "user_id": current_user.id,
                "title": name,
            }, current_user.id)
            flash(str(_l("More than %(max)s rows: the export runs as a report job; this page shows its progress.",
                         max=current_app.config["EXPORT_INLINE_MAX_ROWS"])), "info")
            return redirect(url_for("ReportJobView.show", pk=job.id))
        out = io.BytesIO()
        write_grid(out, name, grid_headers(self), grid_rows(self))
        out.seek(0)
        stamp = office_now().strftime("%Y%m%d-%H%M")
        response = send_file(out, as_attachment=True, download_name=f"{name}-{stamp}.xlsx",
                             mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _file_name(title: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", title).strip("-").lower() or "data"

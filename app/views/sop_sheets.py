"""A new SOP from the office's own SOP sheet, and a permit type back out as that sheet.

Thin: app.sop.sheet reads and writes the workbook and runs the same checks as the YAML files;
app.sop.loader writes the permit type, its stages and requirements in one transaction.
"""
from __future__ import annotations

import io
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import PermitType
from app.office import office_calendar
from app.security import roles as resources
from app.security.roles import STAGE_ROLES
from app.sop.loader import load_sops
from app.sop.schema import SopFileError
from app.sop.sheet import read_sop_sheet, write_sop_sheet
from app.spreadsheets.reading import SpreadsheetRefused, check_container
from app.views.imports import XLSX, imports_dir, store_spreadsheet


def _read(path: Path):  # noqa: ANN202
    check_container(path)
    return read_sop_sheet(path, STAGE_ROLES, office_calendar().day_minutes)


class SopSheetView(BaseView):
    route_base = "/sopsheets"
    class_permission_name = resources.SOP_SHEET
    base_permissions = ["can_import", "can_export"]
    method_permission_name = {"form": "export", "preview": "import", "apply": "import", "export": "export"}
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):  # noqa: ANN201
        permit_types = db.session.scalars(select(PermitType).order_by(PermitType.name)).all()
        return self.render_template("loket/sop_sheet_form.html", permit_types=permit_types)

    @expose("/preview", methods=["POST"])
    @has_access
    def preview(self):  # noqa: ANN201
        upload = request.files.get("file")
        stored = store_spreadsheet(upload.stream, current_app.config["IMPORT_MAX_BYTES"]) if upload and upload.filename else None
        if stored is None:
            flash(str(_l("Choose the SOP sheet (.xlsx), at most the import limit.")), "danger")
            return redirect(url_for("SopSheetView.form"))
        sha, path = stored
        try:
            definition = _read(path)
        except (SpreadsheetRefused, SopFileError) as exc:
            path.unlink(missing_ok=True)
            flash(str(exc).replace(str(path), upload.filename), "danger")
            return redirect(url_for("SopSheetView.form"))
        existing = db.session.scalar(select(PermitType).where(PermitType.code == definition.code))
        return self.render_template("loket/sop_sheet_preview.html", sop=definition, sha=sha, existing=existing,
                                    filename=upload.filename)

    @expose("/apply/<sha>", methods=["POST"])
    @has_access
    def apply(self, sha: str):  # noqa: ANN201
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            abort(404)
        path = imports_dir() / f"{sha}.xlsx"
        if not path.is_file():
            abort(404)
        try:
            results = load_sops(db.session, [_read(path)])
        except (SpreadsheetRefused, SopFileError) as exc:
            flash(str(exc).replace(str(path), "berkas SOP"), "danger")
            return redirect(url_for("SopSheetView.form"))
        result = results[0]
        permit_type = db.session.scalar(select(PermitType).where(PermitType.code == result.code))
        flash(str(_l("SOP %(code)s loaded.", code=result.code) if result.changed
                  else _l("SOP %(code)s is unchanged.", code=result.code)), "success")
        return redirect(url_for("PermitTypeView.show", pk=permit_type.id))

    @expose("/export/<int:pk>", methods=["GET"])
    @has_access
    def export(self, pk: int):  # noqa: ANN201
        permit_type = db.session.get(PermitType, pk) or abort(404)
        out = io.BytesIO()
        write_sop_sheet(out, permit_type)
        out.seek(0)
        return send_file(out, as_attachment=True, download_name=f"SOP-{permit_type.sop_number}-{permit_type.code}.xlsx",
                         mimetype=XLSX)

"""Importing spreadsheets: upload, preview (create / update with before -> after / unchanged /
errors), then "Terapkan" in one transaction; the error workbook, templates, and same-day undo.

Thin: app.spreadsheets reads and checks the file, app.imports plans and applies. The uploaded
file is kept under instance/imports/ by its hash, so applying reads exactly what was previewed,
planned again against the database as it is then.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import re
import tempfile
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.imports.planning import CREATE, ERROR, SKIPPED, UPDATE, ImportRefused, apply_plan, plan_import
from app.imports.specs import ImportSpec, applicant_spec, company_spec, dossier_spec, register_spec
from app.imports.undo import undo_batch
from app.models import ImportBatch
from app.office import office_calendar
from app.private_files import FILE_MODE, private_dir
from app.security import roles as resources
from app.spreadsheets.reading import SpreadsheetRefused
from app.spreadsheets.writing import write_error_workbook, write_template

log = logging.getLogger(__name__)
PREVIEW_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _slug(title: str) -> str:
    """A file name from what staff read: "Perusahaan" -> "perusahaan" (templat-perusahaan.xlsx)."""
    return re.sub(r"[^0-9A-Za-z]+", "-", title).strip("-").lower() or "data"


def import_specs() -> dict[str, ImportSpec]:
    specs = (company_spec(current_app.config["OFFICE_REGENCY_CODE"]), applicant_spec(), register_spec(),
             dossier_spec(office_calendar()))
    return {spec.entity: spec for spec in specs}


def imports_dir() -> Path:
    """Kept uploads (0700): the nightly purge (app.jobs.runner) removes them once no preview needs them."""
    return private_dir(Path(current_app.instance_path) / "imports")


def _may_import(spec: ImportSpec) -> bool:
    sm = current_app.appbuilder.sm
    return all(sm.has_access(permission, resource) for permission, resource in spec.needed_permissions)


def _spec_or_404(entity: str) -> ImportSpec:
    spec = import_specs().get(entity)
    if spec is None or not _may_import(spec):
        abort(404)
    return spec


def _own_batch(batch_id: int) -> tuple[ImportBatch, ImportSpec, Path]:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.user_id != current_user.id:
        abort(404)
    return batch, _spec_or_404(batch.entity), imports_dir() / f"{batch.sha256}.xlsx"


class SpreadsheetImportView(BaseView):
    route_base = "/imports"
    class_permission_name = resources.SPREADSHEET_IMPORT
    base_permissions = ["can_import"]
    method_permission_name = {m: "import" for m in ("form", "template", "preview", "apply", "errors", "undo")}
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):  # noqa: ANN201
        specs = [spec for spec in import_specs().values() if _may_import(spec)]
        history = db.session.scalars(
            select(ImportBatch).where(ImportBatch.user_id == current_user.id).order_by(ImportBatch.id.desc()).limit(20)
        ).all()
        return self.render_template("loket/import_form.html", specs=specs, history=history,
                                    titles={s.entity: str(s.title) for s in import_specs().values()})

    @expose("/template/<entity>", methods=["GET"])
    @has_access
    def template(self, entity: str):  # noqa: ANN201
        spec = _spec_or_404(entity)
        out = io.BytesIO()
        write_template(out, spec.columns, title=str(spec.title))
        out.seek(0)
        name = f"templat-{_slug(str(spec.title))}.xlsx"  # templat-perusahaan.xlsx, in the user's language
        return send_file(out, as_attachment=True, download_name=name, mimetype=XLSX)

    @expose("/preview", methods=["POST"])
    @has_access
    def preview(self):  # noqa: ANN201
        spec = _spec_or_404(request.form.get("entity", ""))
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(str(_l("Choose the .xlsx file to import.")), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        stored = store_spreadsheet(upload.stream, current_app.config["IMPORT_MAX_BYTES"])
        if stored is None:
            flash(str(_l("The file is larger than the import limit; split it into smaller files.")), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        sha, path = stored
        try:
            sheet = spec.read(path)
        except SpreadsheetRefused as exc:
            path.unlink(missing_ok=True)
            flash(str(exc), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        plan = plan_import(db.session, spec, sheet)
        needs_reason = plan.updates_needing_reason(db.session)
        db.session.rollback()  # planning reads only
        batch = ImportBatch(entity=spec.entity, filename=upload.filename[:255], sha256=sha, user_id=current_user.id,
                            uploaded_at=dt.datetime.now(dt.UTC), **plan.counts())
        db.session.add(batch)
        db.session.commit()
        return self.render_template(
            "loket/import_preview.html", batch=batch, spec=spec, plan=plan, limit=PREVIEW_ROWS,
            creates=[r for r in plan.rows if r.action == CREATE][:PREVIEW_ROWS],
            updates=[r for r in plan.rows if r.action == UPDATE][:PREVIEW_ROWS],
            skipped=[r for r in plan.rows if r.action == SKIPPED][:PREVIEW_ROWS], ignored=sheet.ignored,
            errors=plan.errors[:PREVIEW_ROWS], ERROR=ERROR, needs_reason=needs_reason,
        )

    @expose("/apply/<int:batch_id>", methods=["POST"])
    @has_access
    def apply(self, batch_id: int):  # noqa: ANN201
        batch, spec, path = _own_batch(batch_id)
        try:
            sheet = spec.read(path)
            plan = plan_import(db.session, spec, sheet)
            apply_plan(db.session, plan, batch, dt.datetime.now(dt.UTC), request.form.get("reason"))
            db.session.commit()
        except (SpreadsheetRefused, ImportRefused) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        except FileNotFoundError:
            db.session.rollback()
            flash(str(_l("The uploaded file is gone; upload it again.")), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        except IntegrityError:
            # Someone wrote a clashing row between the preview and now: nothing of the file is kept.
            db.session.rollback()
            flash(str(_l("The data changed meanwhile and the file now clashes with it; nothing was written. "
                         "Check the file again.")), "danger")
            return redirect(url_for("SpreadsheetImportView.form"))
        flash(str(_l("Import applied: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                     created=batch.created, updated=batch.updated, unchanged=batch.unchanged)), "success")
        if batch.skipped:
            flash(str(_l("%(skipped)s rows were skipped, as the preview listed.", skipped=batch.skipped)), "info")
        return redirect(url_for("SpreadsheetImportView.form"))

    @expose("/errors/<int:batch_id>", methods=["GET"])
    @has_access
    def errors(self, batch_id: int):  # noqa: ANN201
        batch, spec, path = _own_batch(batch_id)
        try:
            sheet = spec.read(path)
        except (SpreadsheetRefused, FileNotFoundError):
            abort(404)
        plan = plan_import(db.session, spec, sheet)
        by_row = {}
        for error in plan.errors:
            by_row.setdefault(error.row, []).append(error)
        out = io.BytesIO()
        write_error_workbook(out, sheet.headers, [(row.raw, by_row[row.row]) for row in sheet.rows if row.row in by_row])
        out.seek(0)
        return send_file(out, as_attachment=True, download_name=f"kesalahan-{Path(batch.filename).stem}.xlsx",
                         mimetype=XLSX)

    @expose("/undo/<int:batch_id>", methods=["POST"])
    @has_access
    def undo(self, batch_id: int):  # noqa: ANN201
        batch, spec, _ = _own_batch(batch_id)
        try:
            undo_batch(db.session, batch, spec, dt.datetime.now(dt.UTC), current_app.config["OFFICE_TIMEZONE"])
            db.session.commit()
        except ImportRefused as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        except IntegrityError as exc:
            # The database's own guard refused what the checks above let through: say so, keep the detail.
            db.session.rollback()
            log.exception("undo of import %s refused by the database", batch_id)
            flash(str(_l("The database refused to undo import #%(id)s (%(problem)s); nothing was changed.",
                         id=batch_id, problem=str(exc.orig).splitlines()[0])), "danger")
        except Exception:  # noqa: BLE001 - a bug: logged in full, told as what it is, nothing half-done
            db.session.rollback()
            log.exception("undo of import %s failed", batch_id)
            flash(str(_l("Undoing import #%(id)s failed with an internal error; nothing was changed. The details "
                         "are in the server log.", id=batch_id)), "danger")
        else:
            flash(str(_l("Import undone.")), "success")
        return redirect(url_for("SpreadsheetImportView.form"))


def store_spreadsheet(stream, max_bytes: int) -> tuple[str, Path] | None:  # noqa: ANN001
    """Copies the upload under its SHA-256, reading at most max_bytes (+1 to know it is over).

    The copy is 0600 whatever the umask; a `.part` a killed request leaves is swept by the purge.
    """
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=imports_dir(), delete=False, suffix=".part") as tmp:
        os.fchmod(tmp.fileno(), FILE_MODE)  # mkstemp's 0o600 already; said here, not assumed
        size = 0
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                tmp.close()
                Path(tmp.name).unlink(missing_ok=True)
                return None
            digest.update(chunk)
            tmp.write(chunk)
    sha = digest.hexdigest()
    final = imports_dir() / f"{sha}.xlsx"
    os.replace(tmp.name, final)  # same folder: a rename, which keeps the mode
    return sha, final

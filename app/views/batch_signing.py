"""Batch signing from the dossier grid: the Kepala Dinas confirms the dossiers at the signing stage
that the grid's filter matches, types the certificate's passphrase once, and a report job signs
and moves them (app.jobs.batch_signing). The passphrase is checked here, before any job starts."""
from __future__ import annotations

import datetime as dt

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.jobs.batch_signing import KIND, MAX_BATCH, awaiting_signature, seal_passphrase
from app.jobs.submit import start_job
from app.security import roles
from app.signing import signing_credentials
from app.sop.machine import Action
from app.sop.preview import forecast
from app.tte import SigningRefused, TrustSettings, sealing_key
from app.views.base import holds_signing_certificate

MAX_FILTER = 2000  # a grid's query string; longer is not one
PREVIEW = 100


class BatchSigningView(BaseView):
    route_base = "/batchsigning"
    class_permission_name = roles.DOSSIER_MOVE  # who may move dossiers; the engine allows only the stage's role
    base_permissions = ["can_move"]
    method_permission_name = {"confirm": "move", "start": "move"}
    default_view = "confirm"

    @expose("/confirm", methods=["GET"])
    @has_access
    def confirm(self):  # noqa: ANN201
        return self._confirm(request.args.get("filter", "")[:MAX_FILTER])

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):  # noqa: ANN201
        filter_args = request.form.get("filter", "")[:MAX_FILTER]
        passphrase = request.form.get("passphrase") or ""
        if not passphrase:
            return self._confirm(filter_args, error=str(_l("Type the passphrase of your certificate.")), status=400)
        now = dt.datetime.now(dt.UTC)
        try:
            credentials = signing_credentials(db.session, current_user.id, passphrase,
                                              trust=TrustSettings.from_config(current_app.config),
                                              key=sealing_key(current_app.config), now=now)
        except SigningRefused as exc:
            db.session.rollback()
            return self._confirm(filter_args, error=str(exc), status=400)
        if credentials is None:
            return self._confirm(filter_args, error=str(_l("You hold no electronic certificate; ask the administrator "
                                                           "to upload yours.")), status=400)
        del credentials  # the job opens the certificate again in its own process
        ids = awaiting_signature(db.session, filter_args)
        if not ids or len(ids) > MAX_BATCH:
            return self._confirm(filter_args)
        job = start_job(KIND, {
            "filter": filter_args, "user_id": current_user.id, "address": request.remote_addr,
            "public_base_url": request.url_root, **seal_passphrase(passphrase, current_app.config, now),
        }, current_user.id)
        flash(str(_l("%(count)s dossiers are signed and moved by a background job; this page shows its progress, "
                     "and its workbook lists what happened to each.", count=len(ids))), "info")
        return redirect(url_for("ReportJobView.show", pk=job.id))

    def _confirm(self, filter_args: str, *, error: str | None = None, status: int = 200):  # noqa: ANN202
        ids = awaiting_signature(db.session, filter_args)
        back_url = url_for("DossierView.list") + (f"?{filter_args}" if filter_args else "")
        if not ids:
            flash(str(_l("No dossier matching the filter waits at the signing stage.")), "warning")
            return redirect(back_url)
        if len(ids) > MAX_BATCH:
            return self.render_template("loket/batch_signing_confirm.html", too_many=True, max_batch=MAX_BATCH,
                                        back_url=back_url), 400
        roles_now = {role.name for role in current_app.appbuilder.sm.get_user_roles(current_user)}
        judged = forecast(db.session, ids, Action.ADVANCE, roles_now)
        has_certificate = holds_signing_certificate()
        return self.render_template(
            "loket/batch_signing_confirm.html", too_many=False, total=len(ids), movable=judged.movable[:PREVIEW],
            movable_count=len(judged.movable), refused=judged.refused[:PREVIEW], refused_count=len(judged.refused),
            has_certificate=has_certificate, filter_args=filter_args, back_url=back_url, error=error,
        ), status


def register_batch_signing_helpers(app) -> None:  # noqa: ANN001
    app.jinja_env.globals.update(holds_signing_certificate=holds_signing_certificate)

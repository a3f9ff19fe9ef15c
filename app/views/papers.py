"""Printing a dossier's papers, the Permits grid with revocation, and what the public may see.

Thin: app.printing gathers and renders, app.permits revokes; these views check the ids, the
permission and the form, and answer in Indonesian.
"""
from __future__ import annotations

import datetime as dt
import io
import logging

from flask import Flask, abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.labels import DOSSIER_STATUSES
from app.models import Dossier, Permit
from app.office import office_now
from app.permits import RevocationRefused, correction_refusal, revoke
from app.printing import FILE_NAMES, Office, Paper, PaperUnavailable, print_paper, refusal
from app.public import (
    CHECK_MAX_BYTES,
    UploadRefused,
    check_dossier,
    check_permit,
    check_upload,
    permit_signature,
    read_upload,
)
from app.security import roles as resources
from app.signing import stored_signed_pdf
from app.sop.calendar import as_utc
from app.sop.machine import Action
from app.tte import SigningRefused, TrustSettings
from app.views.base import LoketModelView
from app.views.documents import documents_dir
from app.views.dossier_page import dossier_page

log = logging.getLogger(__name__)

PAPER_LABELS: dict[Paper, object] = {
    Paper.RECEIPT: _l("File receipt"),
    Paper.RETURN_LETTER: _l("File return letter"),
    Paper.INSPECTION_REPORT: _l("Field inspection report (BAP)"),
    Paper.PERMIT: _l("Permit"),
}


def register_paper_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(dossier_papers=dossier_papers, permit_row=permit_row,
                                 permit_correctable=permit_correctable)


def dossier_papers(pk: int | str) -> list[tuple[str, str]]:
    """The papers the dossier page offers: available_papers, judged from the page's rows."""
    page = dossier_page(pk)
    if page is None:
        return []
    returned = bool(page.events_of(Action.RETURN.value))
    return [(paper.value, str(PAPER_LABELS[paper])) for paper in Paper
            if refusal(page.dossier, paper, returned=returned, permit=page.permit) is None]


def permit_row(pk: int | str) -> Permit | None:
    return db.session.get(Permit, int(pk))


def permit_correctable(permit: Permit) -> bool:
    return correction_refusal(db.session, permit) is None


def current_office() -> Office:
    return Office.from_config(current_app.config, request.url_root)


def pdf_download(pdf: bytes, name: str):  # noqa: ANN201
    """A paper as a download: never rendered in the page, never kept by a cache on the way."""
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


class DossierPaperView(BaseView):
    route_base = "/papers"
    class_permission_name = resources.DOSSIER_PAPER
    base_permissions = ["can_print"]
    method_permission_name = {"pdf": "print"}

    @expose("/<int:dossier_id>/<paper>.pdf", methods=["GET"])
    @has_access
    def pdf(self, dossier_id: int, paper: str):  # noqa: ANN201
        try:
            kind = Paper(paper)
        except ValueError:
            abort(404)
        try:
            pdf = print_paper(db.session, dossier_id, kind, current_office(), current_user.id, dt.datetime.now(dt.UTC))
            db.session.commit()
        except PaperUnavailable as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(url_for("DossierView.show", pk=dossier_id) if db.session.get(Dossier, dossier_id)
                            else url_for("DossierView.list"))
        receipt = db.session.scalar(select(Dossier.receipt_number).where(Dossier.id == dossier_id))
        return pdf_download(pdf, f"{FILE_NAMES[kind]}-{receipt}.pdf")


class PermitView(LoketModelView):
    """Issued permits. Numbering creates them; only the Kepala Dinas revokes one, with a reason."""

    datamodel = SQLAInterface(Permit)
    class_permission_name = resources.PERMIT
    base_permissions = ["can_list", "can_show", "can_revoke"]
    method_permission_name = {"revoke": "revoke"}
    list_title = _l("Permits")
    show_title = _l("Permit")
    label_columns = {
        "number": _l("Permit no."),
        "dossier": _l("Dossier"),
        "dossier.receipt_number": _l("Dossier"),
        "holder_name": _l("Holder"),
        "permit_type": _l("Permit type"),
        "permit_type.name": _l("Permit type"),
        "issued_on": _l("Issue date"),
        "valid_until": _l("Valid until"),
        "revoked_at": _l("Revoked at"),
        "revoked_by": _l("Revoked by"),
        "revocation_reason": _l("Reason for revocation"),
        "year": _l("Year"),
        "supersedes": _l("Replaces (revoked)"),
        "superseded_by": _l("Replaced by"),
    }
    # The holder as printed: the company may have been renamed since.
    list_columns = ["number", "issued_on", "dossier.receipt_number", "holder_name", "permit_type.name",
                    "valid_until", "revoked_at"]
    show_columns = ["number", "holder_name", "dossier", "permit_type", "issued_on", "valid_until", "revoked_at",
                    "revoked_by", "revocation_reason", "supersedes", "superseded_by"]
    search_columns = ["number", "year", "permit_type", "issued_on", "revoked_at"]
    base_order = ("issued_at", "desc")
    date_columns = ("issued_on", "valid_until")
    moment_columns = ("revoked_at",)
    formatters_columns = {key: (lambda value: str(value or "")) for key in
                          ("supersedes", "superseded_by", "revoked_by", "revocation_reason")}
    show_template = "loket/permit_show.html"

    @expose("/revoke/<int:pk>", methods=["GET", "POST"])
    @has_access
    def revoke(self, pk: int):  # noqa: ANN201
        permit = db.session.get(Permit, pk) or abort(404)
        if request.method == "POST":
            try:
                revoke(db.session, permit.id, request.form.get("reason"), current_user.id, dt.datetime.now(dt.UTC))
                db.session.commit()
            except RevocationRefused as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(str(_l("Permit %(number)s is revoked.", number=permit.number)), "success")
                return redirect(url_for("PermitView.show", pk=permit.id))
        return self.render_template("loket/permit_revoke.html", permit=permit, reason=request.form.get("reason", ""))


class PublicView(BaseView):
    """No login: anyone holding a permit or a receipt checks it here (rate limited in app.menu)."""

    route_base = ""
    default_view = "status"

    @expose("/verifikasi/<token>", methods=["GET"])
    def verification(self, token: str):  # noqa: ANN201
        return self._verification_page(token)

    @expose("/verifikasi/<token>/periksa", methods=["POST"])
    def verification_check(self, token: str):  # noqa: ANN201
        """Anyone checks a PDF they were given against the permit: the same file, its signatures,
        and whether the permit still stands. A bad upload is answered on the page, never a 500."""
        if len(token) > 64 or permit_signature(db.session, token) is None:
            return self._verification_page(token)
        try:
            data = read_upload(request.files.get("berkas"), CHECK_MAX_BYTES)
        except UploadRefused as exc:
            return self._verification_page(token, upload_error=str(exc), status=400)
        now = office_now()
        result = check_upload(db.session, token, data, TrustSettings.from_config(current_app.config),
                              now.date(), now.tzinfo)
        return self._verification_page(token, result=result)

    @expose("/verifikasi/<token>/izin.pdf", methods=["GET"])
    def verification_pdf(self, token: str):  # noqa: ANN201
        """The signed permit as issued: the stored bytes, the same file whoever downloads it."""
        signature = permit_signature(db.session, token) if len(token) <= 64 else None
        try:
            data = stored_signed_pdf(db.session, signature.permit_id, documents_dir()) if signature else None
        except SigningRefused:  # signed, but the file is gone or altered: say so, never serve another
            log.exception("signed permit %s: stored file missing or altered", signature.permit_id)
            data = None
        if data is None:
            abort(404)
        return pdf_download(data, f"izin-{signature.permit.number.replace('/', '-')}.pdf")

    def _verification_page(self, token: str, *, status: int | None = None, **extra: object):  # noqa: ANN202
        now = office_now()
        check = check_permit(db.session, token, now.date(), now.tzinfo) if len(token) <= 64 else None
        signature = permit_signature(db.session, token) if check is not None else None
        signed_at = as_utc(signature.signed_at).astimezone(now.tzinfo) if signature is not None else None
        return self.render_template(
            "loket/public_verification.html", check=check, token=token, signature=signature, signed_at=signed_at,
            max_mb=max(1, CHECK_MAX_BYTES // (1024 * 1024)), **extra,
        ), (status or (200 if check else 404))

    @expose("/status", methods=["GET"])
    def status(self):  # noqa: ANN201
        number = (request.args.get("nomor") or "").strip()[:30]
        now = office_now()
        check = check_dossier(db.session, number, now.date(), now.tzinfo) if number else None
        return self.render_template(
            "loket/public_status.html", number=number, check=check,
            status_label=str(DOSSIER_STATUSES.get(check.status, "")) if check else "",
        ), (404 if number and check is None else 200)

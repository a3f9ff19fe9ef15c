"""Document files on the dossier page: upload, download, verify; and the requirement checklist.

Thin: app.uploads checks and stores the bytes, app.documents makes the rows and decides who may
verify. Every id in a URL is looked up again here; nothing is trusted from the page.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.documents import DocumentRefused, attach, verify
from app.extensions import db
from app.formatting import format_moment
from app.models import Document, Dossier
from app.people import full_name
from app.security import roles as resources
from app.uploads import EXTENSIONS, UploadRefused, storage_path, store_upload
from app.views.dossier_page import dossier_page


def documents_dir() -> Path:
    return Path(current_app.config["DOCUMENTS_DIR"])


def document_download(document: Document):  # noqa: ANN201
    """A handed-in paper's stored file, 404 when it is gone. Always an attachment, typed by what
    was sniffed at upload and sandboxed: the browser never renders it here."""
    path = storage_path(documents_dir(), document.storage_key)
    if not path.is_file():
        abort(404)
    download_name = Path(document.original_filename).stem + EXTENSIONS.get(document.media_type, "")
    response = send_file(path, mimetype=document.media_type, as_attachment=True, download_name=download_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to(dossier_id: int):  # noqa: ANN202
    return redirect(url_for("DossierView.show", pk=dossier_id) + "#dossier-documents")


def _user_roles() -> set[str]:
    return {role.name for role in current_app.appbuilder.sm.get_user_roles(current_user)}


class DocumentFileView(BaseView):
    route_base = "/documentfiles"
    class_permission_name = resources.DOCUMENT
    base_permissions = ["can_upload", "can_download", "can_verify"]
    method_permission_name = {"upload": "upload", "download": "download", "verify": "verify"}

    @expose("/upload/<int:dossier_id>", methods=["POST"])
    @has_access
    def upload(self, dossier_id: int):  # noqa: ANN201
        """The papers chosen into their requirements' slots (file_<requirement id>; or one
        requirement_id with one file), all stored or none; verified at once when the officer
        asks and may verify."""
        dossier = db.session.get(Dossier, dossier_id) or abort(404)
        chosen = _chosen_files()
        if not chosen:
            flash(str(_l("Choose the requirement and the file to upload.")), "danger")
            return _back_to(dossier.id)
        and_verify = request.form.get("verify") == "1"
        if and_verify and not current_app.appbuilder.sm.has_access("can_verify", resources.DOCUMENT):
            flash(str(_l("Your role may not verify documents.")), "danger")
            return _back_to(dossier.id)
        names, also_in = [], set()
        try:
            for requirement_id, upload in chosen:
                stored = store_upload(upload.stream, upload.filename, documents_dir(),
                                      current_app.config["DOCUMENT_MAX_BYTES"])
                attached = attach(db.session, dossier, requirement_id, stored, current_user.id)
                if and_verify:
                    verify(db.session, attached.document, _user_roles(), current_user.id, dt.datetime.now(dt.UTC))
                names.append(stored.original_filename)
                also_in.update(attached.also_in)
            db.session.commit()
        except (UploadRefused, DocumentRefused) as exc:
            # Nothing of the lot is kept. Stored bytes (if any) stay: content-addressed, another
            # dossier may hold them too.
            db.session.rollback()
            flash(str(_l("Nothing was uploaded: %(name)s: %(reason)s", name=upload.filename or "", reason=str(exc))),
                  "danger")
            return _back_to(dossier.id)
        if and_verify:
            flash(str(_l("Document uploaded and verified: %(name)s.", name=", ".join(names))), "success")
        else:
            flash(str(_l("Document uploaded: %(name)s.", name=", ".join(names))), "success")
        if also_in:
            flash(str(_l("The same file was also handed in for dossier %(receipts)s.",
                         receipts=", ".join(sorted(also_in)))), "warning")
        return _back_to(dossier.id)

    @expose("/download/<int:document_id>", methods=["GET"])
    @has_access
    def download(self, document_id: int):  # noqa: ANN201
        return document_download(db.session.get(Document, document_id) or abort(404))

    @expose("/verify/<int:document_id>", methods=["POST"])
    @has_access
    def verify(self, document_id: int):  # noqa: ANN201
        document = db.session.get(Document, document_id) or abort(404)
        try:
            verify(db.session, document, _user_roles(), current_user.id, dt.datetime.now(dt.UTC))
            db.session.commit()
        except DocumentRefused as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(str(_l("Document verified: %(name)s.", name=document.original_filename)), "success")
        return _back_to(document.dossier_id)


def _chosen_files() -> list[tuple[int, object]]:
    """(requirement id, file) for every slot a file was chosen into, in the form's order."""
    chosen = []
    for name, upload in request.files.items(multi=True):
        if not upload or not upload.filename:
            continue
        if name == "file":
            requirement_id = request.form.get("requirement_id", type=int)
        else:
            digits = name.removeprefix("file_")
            requirement_id = int(digits) if name.startswith("file_") and digits.isdigit() and len(digits) < 10 else None
        if requirement_id is not None:
            chosen.append((requirement_id, upload))
    return chosen


# --------------------------------------------------------------------------- the page's checklist


@dataclass(frozen=True)
class DocumentRow:
    id: int
    filename: str
    uploaded: str
    uploaded_by: str
    verified: str
    verified_by: str


@dataclass(frozen=True)
class RequirementRow:
    id: int
    name: str
    mandatory: bool
    due_stage: str
    documents: tuple[DocumentRow, ...]

    @property
    def verified(self) -> bool:
        return any(d.verified for d in self.documents)


def dossier_documents(pk: int | str) -> list[RequirementRow]:
    """The permit type's requirements in SOP order, each with the files handed in for it (read
    with the rest of the dossier page, app.views.dossier_page)."""
    page = dossier_page(pk)
    if page is None:
        return []
    by_requirement: dict[int, list[DocumentRow]] = {}
    for doc in page.documents:
        by_requirement.setdefault(doc.requirement_type_id, []).append(DocumentRow(
            doc.id, doc.original_filename, format_moment(doc.uploaded_at), full_name(doc.uploaded_by),
            format_moment(doc.verified_at), full_name(doc.verified_by),
        ))
    return [
        RequirementRow(r.id, r.name, r.is_mandatory, r.due_stage.name, tuple(by_requirement.get(r.id, ())))
        for r in page.requirements
    ]


def register_document_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(dossier_documents=dossier_documents)

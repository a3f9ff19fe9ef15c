"""The applicant's portal: home, online application, tracking (SOP 76 steps 3-4). Thin: app.portal
decides what is whose and opens dossiers through the SOP; the staff's checks are reused as they are
(app.forms, app.validators, app.regions for the company; app.uploads for the files; app.printing for
the papers)."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.documents import DocumentRefused
from app.extensions import db
from app.forms import Normalized, coded_select, desa_field, kecamatan_field
from app.labels import LEGAL_FORMS
from app.models import Dossier, PermitType
from app.office import office_calendar, office_now
from app.portal.applications import (
    Application,
    CompanyData,
    NotTheirs,
    PortalRefused,
    applicant_slots,
    home_rows,
    open_permit_types,
    own_companies,
    own_company_ids,
    own_document,
    own_dossier,
    resubmit,
    submit,
    tracking,
    upload,
)
from app.printing import FILE_NAMES, Paper, PaperUnavailable, print_paper
from app.regions import desa_of, kecamatan_choices
from app.uploads import UploadRefused, store_upload
from app.validators import normalize_email, normalize_nib, normalize_npwp, normalize_phone
from app.views.documents import document_download, documents_dir
from app.views.papers import current_office, pdf_download
from app.views.portal_base import PORTAL_PREFIX, PortalBase, applicant_only, current_applicant

NEW_COMPANY = ""  # the company choice that means "a company I type in"
REQ_PREFIX = "req_"


# A new company's fields, left out of the form when one of the applicant's companies is chosen.
NEW_COMPANY_FIELDS = (
    "company_name", "legal_form", "nib", "npwp", "deed_number", "deed_date", "sk_kemenkumham", "address",
    "kecamatan_code", "desa_code", "company_phone", "company_email",
)


class ApplicationForm(DynamicForm):
    """Field names are the portal's contract (notes/design16.md). The company's checks are the
    staff's (CompanyView): the same normalisers, legal forms, kecamatan and desa of the regency."""

    permit_type_id = SelectField(_l("Permit type"), coerce=int, validate_choice=True)
    company_id = SelectField(_l("Company"), validate_choice=True)
    company_name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    legal_form = coded_select(_l("Legal form"), LEGAL_FORMS)
    nib = StringField(_l("NIB"), validators=[DataRequired(), Normalized(normalize_nib)])
    npwp = StringField(_l("NPWP"), validators=[DataRequired(), Normalized(normalize_npwp)])
    deed_number = StringField(_l("Deed of establishment no."), validators=[Optional(), Length(max=100)])
    deed_date = DateField(_l("Deed date"), validators=[Optional()])
    sk_kemenkumham = StringField(_l("SK Kemenkumham no."), validators=[Optional(), Length(max=100)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    kecamatan_code = kecamatan_field(_l("Kecamatan"))
    desa_code = desa_field(_l("Desa/Kelurahan"))
    company_phone = StringField(_l("Company phone"), validators=[Optional(), Normalized(normalize_phone)])
    company_email = StringField(_l("Company email"), validators=[Optional(), Normalized(normalize_email)])
    position = StringField(_l("Your position in the company"), validators=[Optional(), Length(max=100)])
    site_address = StringField(_l("Pool site address"), validators=[Optional(), Length(max=300)])
    site_area_m2 = IntegerField(_l("Site area (m²)"), validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    vehicle_capacity = IntegerField(_l("Vehicle capacity"), validators=[Optional(), NumberRange(min=1, max=100_000)])

    # The address's region is required here (a staff form may leave it for later).
    def validate_kecamatan_code(self, field) -> None:  # noqa: ANN001
        if not field.data:
            raise ValidationError(str(_l("Choose the kecamatan.")))

    def validate_desa_code(self, field) -> None:  # noqa: ANN001
        if not field.data and not self.kecamatan_code.errors:
            raise ValidationError(str(_l("Choose the desa/kelurahan.")))


def _company_data(form: ApplicationForm) -> CompanyData:
    return CompanyData(
        name=form.company_name.data.strip(), legal_form=form.legal_form.data, nib=form.nib.data, npwp=form.npwp.data,
        address=form.address.data.strip(), kecamatan_code=form.kecamatan_code.data, desa_code=form.desa_code.data,
        deed_number=(form.deed_number.data or "").strip() or None, deed_date=form.deed_date.data,
        sk_kemenkumham=(form.sk_kemenkumham.data or "").strip() or None,
        phone=form.company_phone.data or None, email=form.company_email.data or None,
    )


def _choices(form: ApplicationForm, types: list[PermitType], companies: list) -> None:
    form.permit_type_id.choices = [(t.id, t.name) for t in types]
    form.company_id.choices = [(str(c.id), f"{c.name} (NIB {c.nib})") for c in companies] + [
        (NEW_COMPANY, str(_l("A new company")))]


class PortalView(PortalBase):
    route_base = PORTAL_PREFIX
    default_view = "home"

    @expose("/")
    @applicant_only
    def home(self):  # noqa: ANN201
        applicant = current_applicant()
        if applicant is None:
            return self.render_template("loket/portal/home.html", applicant=None, companies=[], dossiers=[])
        return self.render_template("loket/portal/home.html", applicant=applicant,
                                    companies=own_companies(db.session, applicant),
                                    dossiers=home_rows(db.session, applicant.id))

    # ------------------------------------------------------------------ applying

    @expose("/permohonan/baru", methods=["GET", "POST"])
    @applicant_only
    def apply(self):  # noqa: ANN201
        applicant = current_applicant()
        if applicant is None:
            flash(str(_l("Your applicant record is not ready yet; please contact the Front Office.")), "warning")
            return redirect(url_for(".home"))
        types = open_permit_types(db.session)
        chosen = request.values.get("permit_type_id", type=int) or request.args.get("jenis", type=int)
        if chosen is None and len(types) == 1:
            chosen = types[0].id
        permit_type = next((t for t in types if t.id == chosen), None)
        if permit_type is None:
            return self.render_template("loket/portal/apply.html", types=types, permit_type=None, form=None)
        companies = own_companies(db.session, applicant)
        picked = request.form.get("company_id", NEW_COMPANY)
        if request.method == "POST" and picked != NEW_COMPANY and (
                not picked.isdigit() or int(picked) not in own_company_ids(db.session, applicant)):
            abort(404)  # not one of theirs: as if it did not exist
        if request.method == "POST":
            form = ApplicationForm(request.form)
            if picked != NEW_COMPANY:
                for name in NEW_COMPANY_FIELDS:  # one of theirs is chosen: nothing of a new one is read
                    del form[name]
        else:
            form = ApplicationForm(permit_type_id=permit_type.id, position=applicant.position,
                                   company_id=str(companies[0].id) if companies else NEW_COMPANY)
        _choices(form, types, companies)
        slots = applicant_slots(permit_type)
        file_errors: dict[int, str] = {}
        if request.method == "POST":
            if form.validate():
                outcome = self._submit(applicant, permit_type, form, slots, file_errors)
                if outcome is not None:
                    return outcome
            flash(str(_l("Nothing was submitted. Correct what is marked; files must be chosen again.")), "danger")
            if picked != NEW_COMPANY:  # shown again whole, with what was typed
                shown = ApplicationForm(request.form)
                _choices(shown, types, companies)
                for name, field in form._fields.items():  # noqa: SLF001
                    shown[name].errors = field.errors
                form = shown
        regency = current_app.config["OFFICE_REGENCY_CODE"]
        kecamatan = kecamatan_choices(regency)
        return self.render_template(
            "loket/portal/apply.html", types=types, permit_type=permit_type, form=form, slots=slots,
            file_errors=file_errors, kecamatan=kecamatan,
            desa={code: desa_of(regency, code) for code, _ in kecamatan},
            max_mb=current_app.config["DOCUMENT_MAX_BYTES"] // (1024 * 1024),
            total_mb=current_app.config["APPLICATION_MAX_BYTES"] // (1024 * 1024),
        )

    def _submit(self, applicant, permit_type: PermitType, form: ApplicationForm, slots: list,  # noqa: ANN001, ANN202
                file_errors: dict[int, str]):
        """Stores the chosen files (app.uploads' checks), then opens the dossier; any refusal
        writes no row (stored bytes may stay: content-addressed, shared with other dossiers)."""
        papers = []
        for requirement in slots:
            chosen = request.files.get(f"{REQ_PREFIX}{requirement.id}")
            if not chosen or not chosen.filename:
                continue
            try:
                papers.append((requirement.id, store_upload(chosen.stream, chosen.filename, documents_dir(),
                                                            current_app.config["DOCUMENT_MAX_BYTES"])))
            except UploadRefused as exc:
                file_errors[requirement.id] = str(exc)
        if file_errors:
            return None
        application = Application(
            permit_type_id=permit_type.id,
            company_id=int(form.company_id.data) if form.company_id.data != NEW_COMPANY else None,
            new_company=_company_data(form) if form.company_id.data == NEW_COMPANY else None,
            position=(form.position.data or "").strip() or None,
            site_address=(form.site_address.data or "").strip() or None,
            site_area_m2=form.site_area_m2.data, vehicle_capacity=form.vehicle_capacity.data,
        )
        try:
            done = submit(db.session, applicant, application, papers, now=dt.datetime.now(dt.UTC),
                          calendar=office_calendar())
            db.session.commit()
        except NotTheirs:
            db.session.rollback()
            abort(404)
        except (PortalRefused, DocumentRefused) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return None
        flash(str(_l("Your application is registered with receipt number %(receipt)s.",
                     receipt=done.dossier.receipt_number)), "success")
        if done.missing:
            flash(str(_l("Not uploaded yet (bring them to the counter, or upload them before the Front Office "
                         "checks your file): %(names)s", names="; ".join(done.missing))), "warning")
        return redirect(url_for(".dossier", dossier_id=done.dossier.id))

    # ------------------------------------------------------------------ tracking and answering

    def _own_dossier(self, dossier_id: int) -> tuple:
        applicant = current_applicant()
        if applicant is None:
            abort(404)
        try:
            return applicant, own_dossier(db.session, applicant, dossier_id)
        except NotTheirs:
            abort(404)

    @expose("/berkas/<int:dossier_id>")
    @applicant_only
    def dossier(self, dossier_id: int):  # noqa: ANN201
        _, dossier = self._own_dossier(dossier_id)
        now = office_now()
        return self.render_template("loket/portal/dossier.html",
                                    track=tracking(db.session, dossier, now.date(), now.tzinfo),
                                    max_mb=current_app.config["DOCUMENT_MAX_BYTES"] // (1024 * 1024))

    @expose("/berkas/<int:dossier_id>/unggah", methods=["POST"])
    @applicant_only
    def upload(self, dossier_id: int):  # noqa: ANN201
        applicant, dossier = self._own_dossier(dossier_id)
        back = redirect(url_for(".dossier", dossier_id=dossier.id) + "#portal-papers")
        chosen = request.files.get("file")
        requirement_id = request.form.get("requirement_id", type=int)
        if not chosen or not chosen.filename or requirement_id is None:
            flash(str(_l("Choose the file to upload.")), "danger")
            return back
        try:
            stored = store_upload(chosen.stream, chosen.filename, documents_dir(),
                                  current_app.config["DOCUMENT_MAX_BYTES"])
            upload(db.session, applicant, dossier, requirement_id, stored)
            db.session.commit()
        except (UploadRefused, PortalRefused) as exc:
            db.session.rollback()
            flash(str(_l("Not uploaded: %(name)s: %(reason)s", name=chosen.filename, reason=str(exc))), "danger")
            return back
        flash(str(_l("Uploaded: %(name)s.", name=chosen.filename)), "success")
        return back

    @expose("/berkas/<int:dossier_id>/kirim", methods=["POST"])
    @applicant_only
    def resubmit(self, dossier_id: int):  # noqa: ANN201
        _, dossier = self._own_dossier(dossier_id)
        try:
            resubmit(db.session, dossier, dt.datetime.now(dt.UTC))
            db.session.commit()
        except PortalRefused as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            flash(str(_l("Sent. The Front Office will check your papers and continue; bring the originals to the "
                         "counter with your receipt number.")), "success")
        return redirect(url_for(".dossier", dossier_id=dossier.id))

    def _paper(self, dossier_id: int, paper: Paper):  # noqa: ANN202
        """The same paper the counter prints (app.printing), logged as printed for the applicant's account."""
        applicant, dossier = self._own_dossier(dossier_id)
        try:
            pdf = print_paper(db.session, dossier.id, paper, current_office(), applicant.account_id,
                              dt.datetime.now(dt.UTC))
            db.session.commit()
        except PaperUnavailable as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(url_for(".dossier", dossier_id=dossier_id))
        receipt = db.session.scalar(select(Dossier.receipt_number).where(Dossier.id == dossier_id))
        return pdf_download(pdf, f"{FILE_NAMES[paper]}-{receipt}.pdf")

    @expose("/berkas/<int:dossier_id>/tanda-terima.pdf")
    @applicant_only
    def receipt(self, dossier_id: int):  # noqa: ANN201
        return self._paper(dossier_id, Paper.RECEIPT)

    @expose("/berkas/<int:dossier_id>/izin.pdf")
    @applicant_only
    def permit(self, dossier_id: int):  # noqa: ANN201
        return self._paper(dossier_id, Paper.PERMIT)

    @expose("/dokumen/<int:document_id>")
    @applicant_only
    def document(self, document_id: int):  # noqa: ANN201
        applicant = current_applicant()
        if applicant is None:
            abort(404)
        try:
            return document_download(own_document(db.session, applicant, document_id))
        except NotTheirs:
            abort(404)

"""Correcting an issued permit: after the Kepala Dinas revokes it, the Front Office opens a new
dossier from it, pre-filled with what the permit said. The new dossier goes through the SOP, and
its permit supersedes the revoked one (each names the other on its verification page).

Thin: app.permits decides whether a correction may be opened and opens it.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.extensions import db
from app.forms import Normalized, Registered
from app.models import Applicant, Company, Permit
from app.office import office_calendar
from app.permits import CorrectionRefused, correction_refusal, open_correction
from app.security import roles
from app.validators import normalize_nib, normalize_nik
from app.views.dossiers import DOSSIER_LABELS


class CorrectionForm(DynamicForm):
    company_nib = StringField(_l("Company NIB"), widget=BS3TextFieldWidget(), validators=[
        DataRequired(), Normalized(normalize_nib),
        Registered(Company, "nib", _l("No company is registered with this NIB; register the company first.")),
    ])
    applicant_nik = StringField(_l("Applicant NIK"), widget=BS3TextFieldWidget(), validators=[
        DataRequired(), Normalized(normalize_nik),
        Registered(Applicant, "nik", _l("No applicant is registered with this NIK; register the applicant first.")),
    ])
    site_address = StringField(DOSSIER_LABELS["site_address"], widget=BS3TextFieldWidget(),
                               validators=[Optional(), Length(max=300)])
    site_area_m2 = IntegerField(DOSSIER_LABELS["site_area_m2"], widget=BS3TextFieldWidget(),
                                validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    vehicle_capacity = IntegerField(DOSSIER_LABELS["vehicle_capacity"], widget=BS3TextFieldWidget(),
                                    validators=[Optional(), NumberRange(min=1, max=100_000)])
    notes = TextAreaField(_l("What is corrected"), widget=BS3TextAreaFieldWidget(),
                          validators=[DataRequired(), Length(min=5, max=2000)])


class PermitCorrectionView(BaseView):
    """Opening a correction is opening a dossier: the Front Office's right to add dossiers."""

    route_base = "/permitcorrections"
    class_permission_name = roles.DOSSIER
    base_permissions = ["can_add"]
    method_permission_name = {"open": "add"}

    @expose("/<int:permit_id>", methods=["GET", "POST"])
    @has_access
    def open(self, permit_id: int):  # noqa: ANN201
        permit = db.session.get(Permit, permit_id) or abort(404)
        refusal = correction_refusal(db.session, permit)
        if refusal:
            flash(refusal, "warning")
            return redirect(url_for("PermitView.show", pk=permit.id))
        old = permit.dossier
        form = CorrectionForm(request.form) if request.method == "POST" else CorrectionForm(
            company_nib=old.company.nib, applicant_nik=old.applicant.nik, site_address=old.site_address,
            site_area_m2=old.site_area_m2, vehicle_capacity=old.vehicle_capacity,
        )
        if request.method == "POST" and form.validate():
            changes = {
                "company_id": db.session.scalar(select(Company.id).where(Company.nib == form.company_nib.data)),
                "applicant_id": db.session.scalar(select(Applicant.id).where(Applicant.nik == form.applicant_nik.data)),
                "site_address": form.site_address.data or None, "site_area_m2": form.site_area_m2.data,
                "vehicle_capacity": form.vehicle_capacity.data, "notes": form.notes.data,
            }
            try:
                dossier = open_correction(db.session, permit.id, changes, dt.datetime.now(dt.UTC), office_calendar(),
                                          current_user.id)
                db.session.commit()
            except CorrectionRefused as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                return redirect(url_for("PermitView.show", pk=permit.id))
            flash(str(_l("Correction dossier %(receipt)s is open for permit %(number)s; it goes through the SOP "
                         "like any dossier.", receipt=dossier.receipt_number, number=permit.number)), "success")
            return redirect(url_for("DossierView.show", pk=dossier.id))
        return self.render_template("loket/permit_correction.html", permit=permit, form=form)

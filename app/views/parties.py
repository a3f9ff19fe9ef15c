"""Companies and applicants: the parties of a dossier."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms.validators import Optional

from app.formatting import format_npwp
from app.forms import Normalized, coded_select, desa_field, kecamatan_field
from app.labels import LEGAL_FORMS, label
from app.models import Applicant, Company
from app.security import roles
from app.validators import (
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)
from app.views.base import LoketModelView
from app.views.dossiers import DossierView
from app.views.grid import LoketInterface
from app.views.typeahead import TypeAheadField, TypeAheadLookup

COMPANY_LABELS = {
    "name": _l("Company name"),
    "legal_form": _l("Legal form"),
    "nib": _l("NIB"),
    "npwp": _l("NPWP"),
    "deed_number": _l("Deed of establishment no."),
    "deed_date": _l("Deed date"),
    "sk_kemenkumham": _l("SK Kemenkumham no."),
    "address": _l("Address"),
    "kecamatan_code": _l("Kecamatan"),
    "kecamatan_name": _l("Kecamatan"),
    "desa_code": _l("Desa/Kelurahan"),
    "desa_name": _l("Desa/Kelurahan"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "created_at": _l("Registered at"),
}

APPLICANT_LABELS = {
    "full_name": _l("Full name"),
    "nik": _l("NIK"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "position": _l("Position in company"),
    "company": _l("Company"),
    "company.name": _l("Company"),
    "created_at": _l("Registered at"),
}

_EDITABLE_COMPANY = [
    "name", "legal_form", "nib", "npwp", "deed_number", "deed_date", "sk_kemenkumham",
    "address", "kecamatan_code", "desa_code", "phone", "email",
]


class ApplicantView(LoketModelView):
    datamodel = LoketInterface(Applicant)
    class_permission_name = roles.APPLICANT
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_title = _l("Applicants")
    show_title = _l("Applicant")
    add_title = _l("Add applicant")
    edit_title = _l("Edit applicant")
    label_columns = APPLICANT_LABELS
    list_columns = ["full_name", "nik", "company.name", "position", "phone"]
    show_columns = ["full_name", "nik", "email", "phone", "position", "company", "created_at"]
    add_columns = edit_columns = ["full_name", "nik", "email", "phone", "position", "company"]
    # The company is typed (name or NIB) and chosen among at most 20 matches, never picked from
    # a list of every registered company.
    add_form_extra_fields = edit_form_extra_fields = {
        "company": TypeAheadField(
            APPLICANT_LABELS["company"], Company, "CompanyView.lookup", placeholder=_l("Type the company name or NIB"),
            validators=[Optional()],
        ),
    }
    asks_reason = True
    show_template = "loket/audited_show.html"
    search_columns = ["full_name", "nik", "email", "phone", "company"]
    # The company: name contains (_flt_0_company) or name or NIB equal to (_flt_1_company).
    search_form_extra_fields = datamodel.text_search_fields(APPLICANT_LABELS)
    order_columns = ["full_name", "nik", "position"]
    base_order = ("full_name", "asc")
    moment_columns = ("created_at",)
    validators_columns = {
        "nik": [Normalized(normalize_nik)],
        "email": [Normalized(normalize_email)],
        "phone": [Normalized(normalize_phone)],
    }
    description_columns = {
        "nik": _l("16 digits, as on the e-KTP."),
    }


class CompanyView(TypeAheadLookup, LoketModelView):
    """Also answers the company type-ahead of other forms (CompanyView.lookup)."""

    datamodel = SQLAInterface(Company)
    class_permission_name = roles.COMPANY
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_title = _l("Companies")
    show_title = _l("Company")
    add_title = _l("Add company")
    edit_title = _l("Edit company")
    label_columns = COMPANY_LABELS
    list_columns = ["name", "legal_form", "nib", "npwp", "kecamatan_name", "phone"]
    show_fieldsets = [
        (_l("Identity"), {"fields": ["name", "legal_form", "nib", "npwp"]}),
        (_l("Legality"), {"fields": ["deed_number", "deed_date", "sk_kemenkumham"]}),
        (_l("Address and contact"), {"fields": ["address", "desa_name", "kecamatan_name", "phone", "email"]}),
    ]
    add_columns = edit_columns = _EDITABLE_COMPANY
    asks_reason = True
    show_template = "loket/audited_show.html"
    search_columns = ["name", "legal_form", "nib", "npwp", "kecamatan_code", "email"]
    order_columns = ["name", "legal_form", "nib"]
    base_order = ("name", "asc")
    date_columns = ("deed_date",)
    formatters_columns = {"npwp": format_npwp, "legal_form": lambda code: label(LEGAL_FORMS, code)}
    related_views = [ApplicantView, DossierView]
    add_form_extra_fields = edit_form_extra_fields = {
        "legal_form": coded_select(_l("Legal form"), LEGAL_FORMS),
        "kecamatan_code": kecamatan_field(_l("Kecamatan")),
        "desa_code": desa_field(_l("Desa/Kelurahan")),
    }
    validators_columns = {
        "nib": [Normalized(normalize_nib)],
        "npwp": [Normalized(normalize_npwp)],
        "email": [Normalized(normalize_email)],
        "phone": [Normalized(normalize_phone)],
    }
    description_columns = {
        "nib": _l("Nomor Induk Berusaha from OSS: 13 digits."),
        "npwp": _l("15 digits (old format) or 16 digits."),
    }

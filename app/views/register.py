from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import RegisterEntry
from app.security import roles
from app.views.base import LoketModelView
from app.views.grid import LoketInterface

REGISTER_LABELS = {
    "register_number": _l("Register no."),
    "year": _l("Year"),
    "seq": _l("Sequence"),
    "entry_date": _l("Date"),
    "dossier": _l("Dossier"),
    "dossier.receipt_number": _l("Dossier"),
    "permit_number": _l("Permit no."),
    "company": _l("Company"),
    "company.name": _l("Company"),
    "applicant": _l("Applicant"),
    "applicant.full_name": _l("Applicant"),
    "permit_type": _l("Permit type"),
    "permit_type.name": _l("Permit type"),
    "issue_date": _l("Issue date"),
    "book_page": _l("Book page"),
    "book_line": _l("Book line"),
    "archive_box": _l("Archive box"),
    "archive_shelf": _l("Archive shelf"),
}


class RegisterEntryView(LoketModelView):
    """Register lines are written by numbering; archivists fill in where the paper went."""

    datamodel = LoketInterface(RegisterEntry)
    class_permission_name = roles.REGISTER_ENTRY
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_title = _l("Register book")
    show_title = _l("Register entry")
    edit_title = _l("Edit archive location")
    label_columns = REGISTER_LABELS
    list_columns = [
        "register_number", "entry_date", "permit_number", "company.name", "applicant.full_name",
        "permit_type.name", "archive_box", "archive_shelf",
    ]
    show_columns = [
        "register_number", "year", "entry_date", "dossier", "permit_number", "company", "applicant",
        "permit_type", "issue_date", "book_page", "book_line", "archive_box", "archive_shelf",
    ]
    edit_columns = ["archive_box", "archive_shelf"]
    search_columns = ["register_number", "year", "permit_number", "company", "applicant", "permit_type", "issue_date"]
    # Company and applicant: name contains (_flt_0_), name or NIB/NIK equal (_flt_1_).
    search_form_extra_fields = datamodel.text_search_fields(REGISTER_LABELS)
    base_order = ("entry_date", "desc")
    date_columns = ("entry_date", "issue_date")

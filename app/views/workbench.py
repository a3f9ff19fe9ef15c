"""The dossier page as a workbench: who the dossier is for, where to change what the stage still
needs, and the receipt of a dossier just opened. Reads the page's rows (app.views.dossier_page)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_babel import gettext

from app.security import roles as resources
from app.sop.fields import FIELD_CHECKS
from app.sop.guards import empty_fields
from app.views.dossier_page import dossier_page

# Which record holds a field a stage may demand, and the grid that edits it.
_OWNERS = {"company": ("CompanyView", resources.COMPANY), "applicant": ("ApplicantView", resources.APPLICANT),
           "dossier": ("DossierView", resources.DOSSIER)}


@dataclass(frozen=True)
class Party:
    label: str
    name: str
    show_url: str
    edit_url: str | None  # None when the officer may not edit it


@dataclass(frozen=True)
class MissingField:
    label: str
    edit_url: str | None


@dataclass(frozen=True)
class Workbench:
    receipt_number: str
    edit_url: str | None
    parties: tuple[Party, ...]
    missing: tuple[MissingField, ...]  # fields the current stage demands and are empty


def _edit_url(view: str, resource: str, pk: int, back: str) -> str | None:
    """The edit form, coming back to the dossier page once saved; None when the officer may not edit."""
    if not current_app.appbuilder.sm.has_access("can_edit", resource):
        return None
    return url_for(f"{view}.edit", pk=pk, kembali=back)


def dossier_workbench(pk: int | str) -> Workbench | None:
    page = dossier_page(pk)
    if page is None:
        return None
    dossier = page.dossier
    owner_ids = {"company": dossier.company_id, "applicant": dossier.applicant_id, "dossier": dossier.id}
    back = url_for("DossierView.show", pk=dossier.id)
    parties = (
        Party(gettext("Company"), dossier.company.name, url_for("CompanyView.show", pk=dossier.company_id),
              _edit_url("CompanyView", resources.COMPANY, dossier.company_id, back)),
        Party(gettext("Applicant"), dossier.applicant.full_name, url_for("ApplicantView.show", pk=dossier.applicant_id),
              _edit_url("ApplicantView", resources.APPLICANT, dossier.applicant_id, back)),
    )
    missing = []
    for field in empty_fields(page.situation.stage, dossier):
        view, resource = _OWNERS[field.split(".", 1)[0]]
        missing.append(MissingField(FIELD_CHECKS[field].label, _edit_url(view, resource, owner_ids[field.split(".", 1)[0]], back)))
    return Workbench(dossier.receipt_number, _edit_url("DossierView", resources.DOSSIER, dossier.id, back), parties,
                     tuple(missing))


def register_workbench_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(dossier_workbench=dossier_workbench)

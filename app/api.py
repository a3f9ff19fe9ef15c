"""REST API (FAB ModelRestApi) over the same records as the grids, with the same permissions
and the same rules.

Each API shares its grid's resource name and maps its methods onto the grid's permission
names, so a role's grant covers screen and API alike. OpenAPI: /api/v1/_openapi.

A change of a received dossier, or of a company or applicant named on one, needs a reason: the
`X-Change-Reason` header (percent-encoded UTF-8 where it is not plain ASCII). A refused change
(no reason, a field its issued permit printed, a record still in use) answers 422 with the
reason in Indonesian, and nothing is written.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable
from urllib.parse import unquote

from flask import Response, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_login import current_user
from marshmallow import ValidationError

from app.audit import set_reason
from app.audit.listener import pending_refusal
from app.changes import ChangeRefused, in_use_refusal
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    PermitType,
    RegisterEntry,
    RequirementType,
    Stage,
    StageEvent,
)
from app.office import office_calendar
from app.security import roles
from app.sop.intake import open_dossier
from app.validators import (
    InvalidValue,
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)

REASON_HEADER = "X-Change-Reason"
METHOD_PERMISSIONS = {
    "get_list": "list",
    "get": "show",
    "info": "list",
    "post": "add",
    "put": "edit",
    "delete": "delete",
}


def checked(normalize: Callable[[str], str]) -> Callable[[str], None]:
    def validate(value: str) -> None:
        if value in (None, ""):
            return
        try:
            normalize(value)
        except InvalidValue as exc:
            raise ValidationError(str(exc.message)) from exc

    return validate


class LoketRestApi(ModelRestApi):
    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = True
    # Checked by app.security.csrf instead: cookie-borne writes need a token.
    csrf_exempt = False
    # Fields normalised on write, with the function that normalises them.
    normalized_columns: dict[str, Callable[[str], str]] = {}

    def __init__(self) -> None:
        self.validators_columns = {name: checked(fn) for name, fn in self.normalized_columns.items()}
        super().__init__()

    def _normalize(self, item: object) -> None:
        for name, fn in self.normalized_columns.items():
            value = getattr(item, name, None)
            if value:
                setattr(item, name, fn(value))

    def pre_add(self, item: object) -> None:
        self._normalize(item)

    def pre_update(self, item: object) -> None:
        self._normalize(item)
        set_reason(self.datamodel.session, unquote(request.headers.get(REASON_HEADER, "")))
        refusal = pending_refusal(self.datamodel.session, item)
        if refusal is not None:
            raise refusal

    def pre_delete(self, item: object) -> None:
        refusal = in_use_refusal(self.datamodel.session, item)
        if refusal:
            raise ChangeRefused(refusal)

    def _refused(self, exc: ChangeRefused) -> Response:
        self.datamodel.session.rollback()
        return self.response_422(message=str(exc))

    def put_headless(self, pk: int) -> Response:
        try:
            return super().put_headless(pk)
        except ChangeRefused as exc:
            return self._refused(exc)

    def delete_headless(self, pk: int) -> Response:
        try:
            return super().delete_headless(pk)
        except ChangeRefused as exc:
            return self._refused(exc)


class CompanyApi(LoketRestApi):
    resource_name = "company"
    datamodel = SQLAInterface(Company)
    class_permission_name = roles.COMPANY
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    normalized_columns = {
        "nib": normalize_nib, "npwp": normalize_npwp, "email": normalize_email, "phone": normalize_phone,
    }
    list_columns = ["id", "name", "legal_form", "nib", "npwp", "kecamatan_code", "desa_code", "phone", "email"]
    add_columns = edit_columns = [
        "name", "legal_form", "nib", "npwp", "deed_number", "deed_date", "sk_kemenkumham",
        "address", "kecamatan_code", "desa_code", "phone", "email",
    ]


class ApplicantApi(LoketRestApi):
    resource_name = "applicant"
    datamodel = SQLAInterface(Applicant)
    class_permission_name = roles.APPLICANT
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    normalized_columns = {"nik": normalize_nik, "email": normalize_email, "phone": normalize_phone}
    list_columns = ["id", "full_name", "nik", "email", "phone", "position", "company.id", "company.name"]
    add_columns = edit_columns = ["full_name", "nik", "email", "phone", "position", "company"]


class DossierApi(LoketRestApi):
    resource_name = "dossier"
    datamodel = SQLAInterface(Dossier)
    class_permission_name = roles.DOSSIER
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_columns = [
        "id", "receipt_number", "permit_type.name", "company.name", "applicant.full_name",
        "stage.code", "stage.name", "status", "submitted_at", "due_at", "version",
    ]
    show_columns = list_columns + ["site_address", "site_area_m2", "vehicle_capacity", "notes"]
    add_columns = ["permit_type", "company", "applicant", "site_address", "site_area_m2", "vehicle_capacity", "notes"]
    # As on the dossier's form: the parties and the type are fixed by the receipt.
    edit_columns = ["site_address", "site_area_m2", "vehicle_capacity", "notes"]

    def pre_add(self, item: Dossier) -> None:
        actor_id = current_user.id if current_user.is_authenticated else None
        open_dossier(item, item.permit_type, dt.datetime.now(dt.timezone.utc), office_calendar(), actor_id)


class DocumentApi(LoketRestApi):
    resource_name = "document"
    datamodel = SQLAInterface(Document)
    class_permission_name = roles.DOCUMENT
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete"]
    list_columns = [
        "id", "dossier.receipt_number", "requirement_type.code", "original_filename", "size_bytes",
        "sha256", "uploaded_at", "verified_at",
    ]
    edit_columns = ["note"]


class StageEventApi(LoketRestApi):
    resource_name = "stage_event"
    datamodel = SQLAInterface(StageEvent)
    class_permission_name = roles.STAGE_EVENT
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "dossier.receipt_number", "action", "from_stage.code", "to_stage.code", "occurred_at", "note"]


class RegisterEntryApi(LoketRestApi):
    resource_name = "register_entry"
    datamodel = SQLAInterface(RegisterEntry)
    class_permission_name = roles.REGISTER_ENTRY
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_columns = [
        "id", "register_number", "year", "entry_date", "permit_number", "dossier.receipt_number",
        "company.name", "applicant.full_name", "permit_type.name", "issue_date",
        "book_page", "book_line", "archive_box", "archive_shelf",
    ]
    edit_columns = ["archive_box", "archive_shelf"]


class PermitTypeApi(LoketRestApi):
    resource_name = "permit_type"
    datamodel = SQLAInterface(PermitType)
    class_permission_name = roles.PERMIT_TYPE
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "code", "name", "sop_number", "service_days", "fee", "output_document", "validity_months"]
    show_columns = list_columns + ["legal_bases", "executor_qualifications", "equipment", "related_sops", "recording"]


class StageApi(LoketRestApi):
    resource_name = "stage"
    datamodel = SQLAInterface(Stage)
    class_permission_name = roles.STAGE
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "id", "permit_type.code", "seq", "code", "name", "actor", "role_name", "time_standard_minutes",
        "time_standard_text", "inputs", "output", "is_applicant_step", "is_office_continuation",
    ]


class RequirementTypeApi(LoketRestApi):
    resource_name = "requirement_type"
    datamodel = SQLAInterface(RequirementType)
    class_permission_name = roles.REQUIREMENT_TYPE
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "permit_type.code", "seq", "code", "name", "is_mandatory", "due_stage.code"]


ALL_APIS = (
    CompanyApi, ApplicantApi, DossierApi, DocumentApi, StageEventApi, RegisterEntryApi,
    PermitTypeApi, StageApi, RequirementTypeApi,
)

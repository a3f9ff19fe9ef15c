"""Read-only grids over the loaded SOPs. The YAML files are the source; edit them, then reload."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.formatting import format_fee, format_months
from app.models import PermitType, RequirementType, Stage
from app.security import roles
from app.views.base import LoketModelView

READ_ONLY = ["can_list", "can_show"]


def _numbered(items: list[str] | None) -> str:
    return "\n".join(f"{i}. {text}" for i, text in enumerate(items or [], start=1))


class StageView(LoketModelView):
    datamodel = SQLAInterface(Stage)
    class_permission_name = roles.STAGE
    base_permissions = READ_ONLY
    list_title = _l("Stages")
    show_title = _l("Stage")
    label_columns = {
        "permit_type": _l("Permit type"),
        "permit_type.name": _l("Permit type"),
        "seq": _l("No."),
        "code": _l("Code"),
        "name": _l("Stage"),
        "activity": _l("Activity"),
        "actor": _l("Actor (SOP)"),
        "role_name": _l("Responsible role"),
        "time_standard_text": _l("Time standard"),
        "time_standard_minutes": _l("Time standard (working minutes)"),
        "inputs": _l("Inputs (kelengkapan)"),
        "output": _l("Output"),
        "is_applicant_step": _l("Applicant's own step"),
        "is_office_continuation": _l("Office continuation (not in SOP text)"),
    }
    list_columns = ["permit_type.name", "seq", "code", "name", "actor", "role_name", "time_standard_text", "output"]
    show_columns = [
        "permit_type", "seq", "code", "name", "activity", "actor", "role_name", "time_standard_text",
        "time_standard_minutes", "inputs", "output", "is_applicant_step", "is_office_continuation",
    ]
    search_columns = ["permit_type", "code", "name", "role_name"]
    base_order = ("seq", "asc")
    page_size = 50


class RequirementTypeView(LoketModelView):
    datamodel = SQLAInterface(RequirementType)
    class_permission_name = roles.REQUIREMENT_TYPE
    base_permissions = READ_ONLY
    list_title = _l("Requirements")
    show_title = _l("Requirement")
    label_columns = {
        "permit_type": _l("Permit type"),
        "permit_type.name": _l("Permit type"),
        "seq": _l("No."),
        "code": _l("Code"),
        "name": _l("Requirement"),
        "is_mandatory": _l("Mandatory"),
        "due_stage": _l("Due by stage"),
        "due_stage.name": _l("Due by stage"),
    }
    list_columns = ["permit_type.name", "seq", "name", "is_mandatory", "due_stage.name"]
    show_columns = ["permit_type", "seq", "code", "name", "is_mandatory", "due_stage"]
    search_columns = ["permit_type", "name", "is_mandatory"]
    base_order = ("seq", "asc")
    page_size = 50


class PermitTypeView(LoketModelView):
    datamodel = SQLAInterface(PermitType)
    class_permission_name = roles.PERMIT_TYPE
    base_permissions = READ_ONLY
    list_title = _l("Permit types")
    show_title = _l("Permit type")
    label_columns = {
        "code": _l("Code"),
        "name": _l("Permit type"),
        "sop_number": _l("SOP no."),
        "receipt_prefix": _l("Receipt prefix"),
        "legal_bases": _l("Legal bases"),
        "executor_qualifications": _l("Executor qualifications"),
        "equipment": _l("Equipment"),
        "related_sops": _l("Related SOPs"),
        "recording": _l("Recording and data keeping"),
        "service_days": _l("Service time (working days)"),
        "fee": _l("Fee"),
        "output_document": _l("Output"),
        "validity_months": _l("Validity"),
        "source_file": _l("SOP file"),
    }
    list_columns = ["sop_number", "name", "service_days", "fee", "output_document"]
    show_columns = [
        "code", "name", "sop_number", "receipt_prefix", "legal_bases", "executor_qualifications",
        "related_sops", "equipment", "recording", "service_days", "fee", "output_document",
        "validity_months", "source_file",
    ]
    search_columns = ["name", "code", "sop_number"]
    base_order = ("sop_number", "asc")
    formatters_columns = {
        "fee": format_fee,
        "validity_months": format_months,
        "legal_bases": _numbered,
        "executor_qualifications": _numbered,
        "equipment": _numbered,
        "related_sops": _numbered,
        "recording": _numbered,
    }
    related_views = [StageView, RequirementTypeView]

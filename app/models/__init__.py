"""Every model, imported once so Alembic and the ORM see the whole schema."""
from flask_appbuilder import Model

# Named constraints let Alembic's batch mode alter SQLite tables later.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# ruff: noqa: E402
from app.models.applicant import Applicant
from app.models.company import LEGAL_FORMS, Company
from app.models.dossier import (
    DOSSIER_STATUSES,
    STAGE_ACTIONS,
    Document,
    Dossier,
    DossierStatus,
    StageEvent,
)
from app.models.holiday import LocalHoliday
from app.models.import_batch import ImportBatch, ImportStatus
from app.models.issuance import NumberCounter, Permit, PrintLog
from app.models.permit import PermitType, RequirementType, Stage
from app.models.register import RegisterEntry
from app.models.report_job import JOB_STATUSES, REPORT_KINDS, JobStatus, ReportJob, describe_parameters

__all__ = [
    "Applicant",
    "Company",
    "DOSSIER_STATUSES",
    "Document",
    "Dossier",
    "DossierStatus",
    "LEGAL_FORMS",
    "ImportBatch",
    "ImportStatus",
    "LocalHoliday",
    "NumberCounter",
    "Permit",
    "PermitType",
    "PrintLog",
    "RegisterEntry",
    "ReportJob",
    "JOB_STATUSES",
    "JobStatus",
    "REPORT_KINDS",
    "describe_parameters",
    "RequirementType",
    "STAGE_ACTIONS",
    "Stage",
    "StageEvent",
]

"""Every model, imported once so Alembic and the ORM see the whole schema. No Flask here: the
SOP engine and the report builders use these in plain Python (labels live in app.labels)."""
from app.models.base import Base, BigId, NAMING_CONVENTION  # noqa: I001  (the base first)
from app.models.account import ACCOUNT_METADATA, Account, account_fk, create_all, drop_all
from app.models.alerts import (
    AlertKind,
    DashboardState,
    DashboardTally,
    Notification,
    OutboxMessage,
    OutboxStatus,
    TallyMeasure,
)
from app.models.applicant import Applicant
from app.models.audit import AuditAction, AuditEntry
from app.models.company import Company
from app.models.dossier import Document, Dossier, DossierStatus, StageEvent
from app.models.holiday import LocalHoliday
from app.models.import_batch import ImportBatch, ImportStatus
from app.models.issuance import NumberCounter, Permit, PrintLog
from app.models.permit import PermitType, RequirementType, Stage
from app.models.register import RegisterEntry
from app.models.report_job import JobStatus, ReportJob, describe_parameters
from app.models.sessions import LoginThrottle, SessionGeneration
from app.models.signing import PermitSignature, SigningCertificate
from app.models.survey import SurveyResponse

from app.models import guards  # noqa: E402, F401, I001  (triggers created with the tables)

__all__ = [
    "ACCOUNT_METADATA",
    "Account",
    "AlertKind",
    "Applicant",
    "AuditAction",
    "AuditEntry",
    "Base",
    "BigId",
    "Company",
    "DashboardState",
    "DashboardTally",
    "Document",
    "Dossier",
    "DossierStatus",
    "ImportBatch",
    "ImportStatus",
    "JobStatus",
    "LocalHoliday",
    "LoginThrottle",
    "NAMING_CONVENTION",
    "Notification",
    "NumberCounter",
    "OutboxMessage",
    "OutboxStatus",
    "Permit",
    "PermitSignature",
    "PermitType",
    "PrintLog",
    "RegisterEntry",
    "ReportJob",
    "RequirementType",
    "SessionGeneration",
    "SigningCertificate",
    "Stage",
    "StageEvent",
    "SurveyResponse",
    "TallyMeasure",
    "account_fk",
    "create_all",
    "describe_parameters",
    "drop_all",
]

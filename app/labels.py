"""What staff read for the codes the records store. One neutral place: views, jobs, imports and
templates all read these (the models store codes only and import no Flask)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import DossierStatus, JobStatus

LEGAL_FORMS: dict[str, object] = {
    "PT": _l("Limited liability company (PT)"),
    "CV": _l("Limited partnership (CV)"),
    "KOPERASI": _l("Cooperative"),
    "FIRMA": _l("General partnership (Firma)"),
    "PERSEORANGAN": _l("Sole proprietorship"),
    "YAYASAN": _l("Foundation"),
    "BUMD": _l("Regional state-owned enterprise (BUMD)"),
}

DOSSIER_STATUSES: dict[str, object] = {
    DossierStatus.IN_PROGRESS.value: _l("In progress"),
    DossierStatus.RETURNED.value: _l("Returned to applicant"),
    DossierStatus.REJECTED.value: _l("Rejected"),
    DossierStatus.ISSUED.value: _l("Issued"),
    DossierStatus.ARCHIVED.value: _l("Archived"),
}

# StageEvent.action codes -> what staff read in the history.
STAGE_ACTIONS: dict[str, object] = {
    "submit": _l("Submitted"),
    "advance": _l("Moved on"),
    "return": _l("Returned to applicant"),
    "resume": _l("Resumed"),
    "reject": _l("Rejected"),
}

JOB_STATUSES: dict[str, object] = {
    JobStatus.QUEUED.value: _l("Queued"),
    JobStatus.RUNNING.value: _l("Running"),
    JobStatus.DONE.value: _l("Done"),
    JobStatus.FAILED.value: _l("Failed"),
}

# Kind code -> what staff read; app.jobs.kinds says how each is made and who may ask for it.
REPORT_KINDS: dict[str, object] = {
    "register_received": _l("Monthly register: dossiers received"),
    "register_issued": _l("Monthly register: permits issued"),
    "register_filtered": _l("Register of the filtered dossiers"),
    "register_book": _l("Register book (PDF)"),
    "batch_permits": _l("Batch print of permits (PDF)"),
    "grid_export": _l("Grid export (Excel)"),
    "bulk_move": _l("Moving many dossiers"),
    "batch_sign": _l("Batch electronic signing"),
}


def label(labels: dict[str, object], code: str | None) -> str:
    """The label of a code, or the code itself when it has none."""
    return str(labels.get(code, code)) if code is not None else ""


def translated(labels: dict[str, object]) -> dict[str, str]:
    """Code -> label as text in the current locale. Call it when the text is needed, never at
    import: outside a request or job nothing says which language, and the English msgid would stay."""
    return {code: str(text) for code, text in labels.items()}

# The audit trail (app.models.AuditEntry): what kind of record, what happened, through what.
AUDIT_ENTITIES: dict[str, object] = {
    "company": _l("Company"),
    "applicant": _l("Applicant"),
    "dossier": _l("Dossier"),
    "document": _l("Document"),
    "register_entry": _l("Register entry"),
    "permit": _l("Permit"),
    "local_holiday": _l("Local holiday"),
    "signing_certificate": _l("Signing certificate (TTE)"),
    "ab_user": _l("User"),
    "ab_role": _l("Role"),
}
AUDIT_ACTIONS: dict[str, object] = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "move": _l("Moved through the SOP"),
}
AUDIT_ORIGINS: dict[str, object] = {
    "web": _l("Screen"),
    "api": _l("API"),
    "job": _l("Report job"),
    "system": _l("System"),
}

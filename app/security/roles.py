"""Roles as data. Each role gets exactly the permissions its SOP work needs; the rest is denied.

Separation of duties: Admin keeps the users, the roles and the SOP, and reads the records and
their audit trail; Admin moves no dossier, changes no case record and revokes no permit.

Resources are the `class_permission_name` of a grid and of its REST API (both share it), so one
grant covers the screen and the API. Permission names are FAB's: can_list, can_show, can_add,
can_edit, can_delete. `menu_access` is derived from these in app.security.sync.
"""
from __future__ import annotations

ADMIN = "Admin"
FRONT_OFFICE = "Front Office"
BACK_OFFICE = "Back Office"
TIM_TEKNIS = "Tim Teknis"
KASI_PERIZINAN = "Kasi Perizinan"
KABID_PERIZINAN = "Kabid Perizinan"
KEPALA_DINAS = "Kepala Dinas"
ARSIPARIS = "Arsiparis"
SUPERVISOR = "Supervisor"
PUBLIC = "Public"
# The applicant's own account (SOP 76 steps 2-4), made by self-registration: the portal only.
PEMOHON = "Pemohon"

# Resource names (class_permission_name), shared by views and APIs.
COMPANY = "Company"
APPLICANT = "Applicant"
DOSSIER = "Dossier"
DOCUMENT = "Document"
STAGE_EVENT = "StageEvent"
REGISTER_ENTRY = "RegisterEntry"
PERMIT_TYPE = "PermitType"
STAGE = "Stage"
REQUIREMENT_TYPE = "RequirementType"
LOCAL_HOLIDAY = "LocalHoliday"
# Confirming and applying SOP moves (advance, return, resume, reject) from the grid.
DOSSIER_MOVE = "DossierMove"
# Printing a dossier's papers (receipt, return letter, BAP, permit); every print is logged.
DOSSIER_PAPER = "DossierPaper"
PERMIT = "Permit"
# Report jobs: the grid of jobs, and asking for the two families of reports.
REPORT_JOB = "ReportJob"
MONTHLY_REPORT = "MonthlyReport"
ARCHIVE_REPORT = "ArchiveReport"
# Importing spreadsheets (each entity also needs can_add and can_edit on its own resource).
SPREADSHEET_IMPORT = "SpreadsheetImport"
# SOP sheets: everyone who reads the SOP may download a permit type's sheet; only Admin loads one.
SOP_SHEET = "SopSheet"
# The audit trail: read and exported, never changed (no permission to add, edit or delete exists).
AUDIT_ENTRY = "AuditEntry"
# The office dashboard (Laporan → Dasbor): supervisors, Kabid and Kepala Dinas.
DASHBOARD = "Dashboard"
# One's own SLA alerts (the bell): every officer.
NOTIFICATION = "Notification"
# Messages waiting to leave (e-mail), their retries and errors: Admin reads them and sends one again.
OUTBOX = "Outbox"
# The signers' TTE certificates (PKCS#12, sealed): Admin uploads, replaces and removes them.
SIGNING_CERTIFICATE = "SigningCertificate"
# The applicant's portal (/pemohon/): their own companies, dossiers and papers, nothing else.
PORTAL = "ApplicantPortal"

BUSINESS_RESOURCES = (
    COMPANY, APPLICANT, DOSSIER, DOCUMENT, STAGE_EVENT, REGISTER_ENTRY, PERMIT_TYPE, STAGE, REQUIREMENT_TYPE,
    LOCAL_HOLIDAY, DOSSIER_MOVE, DOSSIER_PAPER, PERMIT, REPORT_JOB, MONTHLY_REPORT, ARCHIVE_REPORT,
    SPREADSHEET_IMPORT, SOP_SHEET, AUDIT_ENTRY, DASHBOARD, NOTIFICATION, OUTBOX, PORTAL,
    SIGNING_CERTIFICATE,
)

READ = ("can_list", "can_show")
MOVE = ("can_move",)
PRINT = ("can_print",)
REQUEST = ("can_request",)
# Own jobs: list, follow and download them; "see all" adds everyone's (supervisors).
OWN_JOBS = READ + ("can_download",)
ALL_JOBS = OWN_JOBS + ("can_see_all",)
# Document files: download for every reader; upload and verify for those who handle the papers.
FILE_READ = READ + ("can_download",)
FILE_HANDLE = FILE_READ + ("can_upload", "can_verify")
READ_ADD = READ + ("can_add",)
READ_EDIT = READ + ("can_edit",)
READ_WRITE = READ + ("can_add", "can_edit")
FULL = READ_WRITE + ("can_delete",)

# What every signed-in staff member may do for their own account.
SELF_SERVICE: tuple[tuple[str, str], ...] = (
    ("can_userinfo", "UserDBModelView"),
    ("resetmypassword", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("userinfoedit", "UserDBModelView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_get", "OpenApi"),
)

# Local days off are read by everyone who plans around them; only Admin adds, edits or deletes them.
_SOP_READ = {PERMIT_TYPE: READ, STAGE: READ, REQUIREMENT_TYPE: READ, LOCAL_HOLIDAY: READ, SOP_SHEET: ("can_export",)}
# Everyone follows their own report jobs (a big grid export is one).
_CASE_READ = {
    COMPANY: READ, APPLICANT: READ, DOSSIER: READ, DOCUMENT: FILE_READ, STAGE_EVENT: READ, PERMIT: READ,
    DOSSIER_PAPER: PRINT, REPORT_JOB: OWN_JOBS, NOTIFICATION: ("can_list",),
}
# The dashboard, for those who answer for the office's figures.
_OVERSIGHT = {DASHBOARD: ("can_list", "can_export")}

# role -> resource -> permissions. Admin is handled apart: it gets every permission.
ROLE_GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    # Receives the file, registers the company and applicant, opens the dossier (SOP steps 1-6, 14);
    # removes a company or applicant registered by mistake (only while nothing uses it).
    FRONT_OFFICE: {
        **_SOP_READ, **_CASE_READ,
        COMPANY: FULL, APPLICANT: FULL, DOSSIER: READ_WRITE, DOSSIER_MOVE: MOVE,
        DOCUMENT: FILE_HANDLE, SPREADSHEET_IMPORT: ("can_import",),
    },
    # Verifies, drafts, numbers and prints (steps 7, 9, 13).
    BACK_OFFICE: {
        **_SOP_READ, **_CASE_READ,
        COMPANY: READ_EDIT, APPLICANT: READ_EDIT, DOSSIER: READ_EDIT, DOCUMENT: FILE_HANDLE + ("can_edit",),
        REGISTER_ENTRY: READ, DOSSIER_MOVE: MOVE,
    },
    # Inspects the site and uploads the BAP (step 8).
    TIM_TEKNIS: {**_SOP_READ, **_CASE_READ, DOCUMENT: FILE_HANDLE, DOSSIER_MOVE: MOVE},
    # Check, initial, sign (steps 10-12).
    KASI_PERIZINAN: {**_SOP_READ, **_CASE_READ, REGISTER_ENTRY: READ, DOSSIER_MOVE: MOVE},
    KABID_PERIZINAN: {**_SOP_READ, **_CASE_READ, **_OVERSIGHT, REGISTER_ENTRY: READ, DOSSIER_MOVE: MOVE},
    # Signs permits (step 12), and alone may revoke one.
    KEPALA_DINAS: {
        **_SOP_READ, **_CASE_READ, **_OVERSIGHT, REGISTER_ENTRY: READ, DOSSIER_MOVE: MOVE,
        PERMIT: READ + ("can_revoke",),
    },
    # Records the permit in the manual register and files the paper (step 15); prints the register
    # book and batches of permits.
    ARSIPARIS: {
        **_SOP_READ, **_CASE_READ, REGISTER_ENTRY: READ_EDIT, DOSSIER_MOVE: MOVE,
        ARCHIVE_REPORT: REQUEST, SPREADSHEET_IMPORT: ("can_import",),
    },
    # Reads everything and the audit trail, exports the monthly registers, and may download
    # anyone's report.
    SUPERVISOR: {
        **_SOP_READ, **_CASE_READ, **_OVERSIGHT, REGISTER_ENTRY: READ, REPORT_JOB: ALL_JOBS,
        MONTHLY_REPORT: REQUEST, AUDIT_ENTRY: READ,
    },
}

# Admin, besides Flask-AppBuilder's own screens (users, roles, permissions: app.security.sync):
# the SOP (local days off, new SOPs from their sheets), and reading the records and their trail.
ADMIN_GRANTS: dict[str, tuple[str, ...]] = {
    PERMIT_TYPE: READ, STAGE: READ, REQUIREMENT_TYPE: READ, LOCAL_HOLIDAY: FULL, SOP_SHEET: ("can_import", "can_export"),
    COMPANY: READ, APPLICANT: READ, DOSSIER: READ, DOCUMENT: READ, STAGE_EVENT: READ, PERMIT: READ,
    REGISTER_ENTRY: READ, REPORT_JOB: OWN_JOBS, AUDIT_ENTRY: READ, OUTBOX: READ + ("can_retry",),
    NOTIFICATION: ("can_list",), SIGNING_CERTIFICATE: ("can_list", "can_upload", "can_delete"),
}

# The applicant: the portal and nothing of the staff's (no grid, menu, API or FAB screen; the
# portal has its own password forms). What is theirs is decided row by row in app.portal.
APPLICANT_GRANTS: dict[str, tuple[str, ...]] = {PORTAL: ("can_use",)}

# Roles a stage in an SOP file may name (Admin deliberately absent: it works no stage).
# The Supervisor reads; it may be named in an SOP file but moves nothing until granted DOSSIER_MOVE.
STAGE_ROLES = frozenset(ROLE_GRANTS)
ALL_ROLES = (ADMIN, *ROLE_GRANTS, PEMOHON)

"""Every role x every view and API endpoint: allowed or denied, as the office's roles say.

The table below is written out by hand on purpose: it is the specification, not a copy of
app.security.roles. Any endpoint the app grows without an entry here fails the test.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Document,
    LocalHoliday,
    OutboxMessage,
    Permit,
    PermitType,
    RegisterEntry,
    ReportJob,
    StageEvent,
)
from app.printing import permit_snapshot
from app.security.roles import ALL_ROLES
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.paper_samples import LETTERHEAD, PERMIT

FO, BO, TT = "Front Office", "Back Office", "Tim Teknis"
KASI, KABID, KADIS = "Kasi Perizinan", "Kabid Perizinan", "Kepala Dinas"
ARS, SUP, ADMIN = "Arsiparis", "Supervisor", "Admin"
# The applicant's own account: the portal, nothing of the staff's.
PEMOHON = "Pemohon"
STAFF = {FO, BO, TT, KASI, KABID, KADIS, ARS, SUP}
NOBODY: set[str] = set()

# Separation of duties: Admin keeps users, roles and the SOP and reads the records and their
# trail; Admin changes no case record, moves no dossier, prints no paper and revokes no permit.
EVERYONE = STAFF | {ADMIN}

# resource -> operation -> roles allowed to do it (Admin included where it may).
SPEC: dict[str, dict[str, set[str]]] = {
    # The Front Office registers parties, and alone removes one registered by mistake (only while
    # nothing uses it: test_trusted_record).
    "Company": {"list": EVERYONE, "show": EVERYONE, "add": {FO}, "edit": {FO, BO}, "delete": {FO}},
    "Applicant": {"list": EVERYONE, "show": EVERYONE, "add": {FO}, "edit": {FO, BO}, "delete": {FO}},
    # Opening a dossier, a correction of a revoked permit included, is the Front Office's.
    "Dossier": {"list": EVERYONE, "show": EVERYONE, "add": {FO}, "edit": {FO, BO}},
    # Files: every officer downloads; those who handle the papers upload and verify (the engine
    # then lets only the current stage's role verify). Admin sees the list, not the files.
    "Document": {
        "list": EVERYONE, "show": EVERYONE, "edit": {BO}, "delete": NOBODY,
        "download_file": STAFF, "upload": {FO, BO, TT}, "verify": {FO, BO, TT},
    },
    "StageEvent": {"list": EVERYONE, "show": EVERYONE},
    "RegisterEntry": {
        "list": {BO, KASI, KABID, KADIS, ARS, SUP, ADMIN},
        "show": {BO, KASI, KABID, KADIS, ARS, SUP, ADMIN},
        "edit": {ARS},
    },
    "PermitType": {"list": EVERYONE, "show": EVERYONE},
    "Stage": {"list": EVERYONE, "show": EVERYONE},
    "RequirementType": {"list": EVERYONE, "show": EVERYONE},
    # Everyone plans around local days off; only Admin adds, changes or removes them.
    "LocalHoliday": {"list": EVERYONE, "show": EVERYONE, "add": {ADMIN}, "edit": {ADMIN}, "delete": {ADMIN}},
    # Confirming and applying SOP moves; the engine then allows only the stage's own role.
    "DossierMove": {"move": STAFF - {SUP}},
    # Receipt, return letter, BAP, permit: any officer may print; every print is logged.
    "DossierPaper": {"print": STAFF},
    # Only the Kepala Dinas, who signs permits, revokes one.
    "Permit": {"list": EVERYONE, "show": EVERYONE, "revoke": {KADIS}},
    # Report jobs: the monthly registers are the supervisors', the register book and batch prints
    # the archivists', big grid exports anyone's; each sees their own jobs (supervisors everyone's,
    # checked in test_report_jobs).
    "ReportJob": {"list": EVERYONE, "show": EVERYONE, "download_job": EVERYONE},
    "MonthlyReport": {"request": {SUP}},
    "ArchiveReport": {"request": {ARS}},
    # The Front Office imports companies and applicants (it alone adds and edits them); the
    # archivist imports the old paper register.
    "SpreadsheetImport": {"import": {FO, ARS}},
    # A permit type's SOP sheet is for everyone who reads the SOP; loading a new SOP is Admin's.
    "SopSheet": {"import": {ADMIN}, "export": EVERYONE},
    # The audit trail: supervisors and Admin read and export it; nobody changes it (no endpoint).
    "AuditEntry": {"list": {SUP, ADMIN}, "show": {SUP, ADMIN}},
    # The office's figures: those who answer for them (the Supervisor, Kabid and Kepala Dinas).
    "Dashboard": {"list": {SUP, KABID, KADIS}, "export": {SUP, KABID, KADIS}},
    # One's own SLA alerts (the bell): every officer, Admin too (it has none to see).
    "Notification": {"list": EVERYONE},
    # Mail waiting to leave: Admin reads it and sends a message again.
    "Outbox": {"list": {ADMIN}, "show": {ADMIN}, "retry": {ADMIN}},
    # The signers' TTE certificates: Admin alone uploads, replaces and removes them.
    "SigningCertificate": {"list": {ADMIN}, "upload": {ADMIN}, "delete": {ADMIN}},
    # The applicant's portal: applicants alone (which rows are whose: test_portal_isolation).
    "ApplicantPortal": {"use": {PEMOHON}},
}

VIEW_PREFIX = {
    "Company": "/companyview", "Applicant": "/applicantview", "Dossier": "/dossierview",
    "Document": "/documentview", "StageEvent": "/stageeventview", "RegisterEntry": "/registerentryview",
    "PermitType": "/permittypeview", "Stage": "/stageview", "RequirementType": "/requirementtypeview",
    "LocalHoliday": "/localholidayview", "DossierMove": "/dossiermoves", "Permit": "/permitview",
    "DossierPaper": "/papers", "ReportJob": "/reportjobview", "MonthlyReport": "/monthlyreports",
    "ArchiveReport": "/archivereports", "SpreadsheetImport": "/imports",
    "SopSheet": "/sopsheets", "AuditEntry": "/auditentryview", "Dashboard": "/dasbor",
    "Notification": "/notifikasi", "Outbox": "/outboxview", "ApplicantPortal": "/pemohon",
    "SigningCertificate": "/signingcertificates",
}
# Further screens on a resource's permissions.
EXTRA_VIEW_PREFIX = {"/documentfiles": "Document", "/permitcorrections": "Dossier", "/regions": "Company",
                     "/skm": "Dashboard",
                     "/batchsigning": "DossierMove"}
API_PREFIX = {
    "Company": "/api/v1/company", "Applicant": "/api/v1/applicant", "Dossier": "/api/v1/dossier",
    "Document": "/api/v1/document", "StageEvent": "/api/v1/stage_event",
    "RegisterEntry": "/api/v1/register_entry", "PermitType": "/api/v1/permit_type",
    "Stage": "/api/v1/stage", "RequirementType": "/api/v1/requirement_type",
}
ABSENT = 999999  # a row id that does not exist: a permitted delete answers 404, deletes nothing

# Endpoints open to everyone, signed in or not.
PUBLIC_ENDPOINTS = {
    "AuthDBView.login", "AuthDBView.logout", "LocaleView.index", "UtilView.back", "HomeView.index",
    "SecurityApi.login", "SecurityApi.refresh", "static", "appbuilder.static", "favicon",
    "PublicView.verification", "PublicView.status", "SurveyView.form",
    # The applicant's account pages: registering, activating, signing in and out, a new password.
    # A signed permit's file and the check of a copy: anyone holding the permit's QR.
    "PublicView.verification_check", "PublicView.verification_pdf",
    "PortalAccountView.register", "PortalAccountView.activate", "PortalAccountView.resend",
    "PortalAccountView.login", "PortalAccountView.logout", "PortalAccountView.forgot", "PortalAccountView.reset",
    # FAB's own registration pages (on with AUTH_USER_REGISTRATION): they lead to the portal's.
    "PortalRegisterUserView.this_form_get", "PortalRegisterUserView.this_form_post",
    "PortalRegisterUserView.activation",
}
# FAB's own screens: staff may see and change only their own account.
SELF_SERVICE_ENDPOINTS = {
    "UserDBModelView.userinfo", "UserDBModelView.resetmypassword", "UserDBModelView.userinfoedit",
    "ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post",
    "UserInfoEditView.this_form_get", "UserInfoEditView.this_form_post", "OpenApi.get",
}
# Open to every signed-in officer; what it lists follows the grids' own permissions (test_search).
SIGNED_IN_ENDPOINTS = {"SearchView.search"}
# Bulk actions are covered in test_security.py (none are registered yet).
SKIPPED_SUFFIXES = (".action", ".action_post")


@pytest.fixture(scope="module")
def rows(app: Flask) -> dict[str, int]:
    """One real row per resource, so show and edit pages render real records."""
    with app.app_context():
        dossier = make_dossier()
        company, applicant = dossier.company, dossier.applicant
        permit = db.session.query(PermitType).one()
        document = Document(
            dossier=dossier, requirement_type=permit.requirements[0], original_filename="surat.pdf",
            storage_key="ab" * 32, size_bytes=1234, sha256="ab" * 32,
        )
        register = RegisterEntry(
            register_number="REG/9001/2026", year=2026, seq=9001, entry_date=dt.date(2026, 11, 27),
            dossier=dossier, permit_number="503/9001/IPK/DPMPTSPTK/2026", company=company,
            applicant=applicant, permit_type=permit, issue_date=dt.date(2026, 11, 27),
        )
        holiday = LocalHoliday(date=dt.date(2031, 1, 6), name="Hari uji izin")
        permit_row = Permit(
            dossier=dossier, permit_type=permit, series="UJI", year=2026, seq=9001,
            number="503/9001/IPK/DPMPTSPTK/2026", issued_at=dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC),
            issued_on=dt.date(2026, 11, 27), token="uji-token-permissions",
            snapshot=permit_snapshot(PERMIT, LETTERHEAD, "F4"),
        )
        job = ReportJob(kind="register_received", parameters={"year": 2026, "month": 10}, status="failed",
                        requested_at=dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC), progress_done=0, attempts=1)
        message = OutboxMessage(recipient="kabid@uji.invalid", subject="Ringkasan harian", body_text="Uji",
                                created_at=dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC),
                                next_attempt_at=dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC))
        db.session.add_all([document, register, holiday, permit_row, job, message])
        db.session.commit()
        event = db.session.query(StageEvent).filter_by(dossier_id=dossier.id).first()
        return {
            "Company": company.id, "Applicant": applicant.id, "Dossier": dossier.id, "Document": document.id,
            "StageEvent": event.id, "RegisterEntry": register.id, "PermitType": permit.id,
            "Stage": permit.stages[0].id, "RequirementType": permit.requirements[0].id,
            "LocalHoliday": holiday.id, "Permit": permit_row.id, "ReportJob": job.id,
            "AuditEntry": db.session.scalar(select(func.max(AuditEntry.id))), "Outbox": message.id,
        }


def _cases(app: Flask, rows: dict[str, int]) -> list[tuple[str, str, str, str]]:
    """(endpoint, method, url, expectation key) for every rule the app serves."""
    cases = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(SKIPPED_SUFFIXES):
            continue
        view_class, method_name = endpoint.split(".", 1)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET" and method_name == "delete" and "POST" in rule.methods:
                continue  # GET deletes are refused by FAB while CSRF is on; tested apart
            resource = next((r for r, p in {**VIEW_PREFIX}.items() if rule.rule.startswith(p + "/")), None)
            resource = resource or next(
                (r for p, r in EXTRA_VIEW_PREFIX.items() if rule.rule.startswith(p + "/")), None
            )
            resource = resource or next((r for r, p in API_PREFIX.items() if rule.rule.startswith(p + "/")), None)
            pk = rows[resource] if resource and method_name in {"show", "edit", "get", "put"} else ABSENT
            url = re.sub(r"<(?:int:)?pk>", str(pk), rule.rule)
            url = url.replace("<version>", "v1").replace("<string:filename>", "abc_sep_x.txt")
            url = re.sub(r"<[^>]+>", "0", url)  # e.g. FAB's chart <group_by>
            cases.append((endpoint, method, url, resource or view_class))
    return sorted(set(cases))


_OPERATION = {
    "list": "list", "show": "show", "add": "add", "edit": "edit", "delete": "delete", "download": "download",
    "get_list": "list", "get": "show", "info": "list", "post": "add", "put": "edit",
    # FAB's own download endpoints serve FileColumns, which no grid of ours has: nobody.
    "DocumentFileView.download": "download_file",
    "ReportJobView.download": "download_job",
    "ReportJobView.progress": "list",
    # Whoever may list a grid may export it, and look its rows up for a type-ahead.
    "export_xlsx": "list", "lookup": "list",
    **{f"SpreadsheetImportView.{m}": "import" for m in ("form", "template", "preview", "apply", "errors", "undo")},
    **{f"SopSheetView.{m}": "import" for m in ("preview", "apply")}, "SopSheetView.form": "export",
    "SopSheetView.export": "export",
    "MonthlyReportView.form": "request", "MonthlyReportView.start": "request", "MonthlyReportView.filtered": "request",
    "ArchiveReportView.form": "request", "ArchiveReportView.book": "request", "ArchiveReportView.permits": "request",
    "confirm": "move", "apply": "move", "pdf": "print", "upload": "upload", "verify": "verify", "revoke": "revoke",
    "PermitCorrectionView.open": "add",
    "RegionView.desa": "list",  # a company form's desa list
    "DashboardView.index": "list", "DashboardView.excel": "export",
    "SkmView.index": "list", "SkmView.excel": "export",
    "NotificationView.read": "list", "NotificationView.count": "list",
    "BatchSigningView.start": "move",
    "SigningCertificateView.list": "list", "SigningCertificateView.account": "list",
    "SigningCertificateView.upload": "upload", "SigningCertificateView.remove": "delete",
    **{f"PortalView.{m}": "use" for m in ("home", "apply", "dossier", "upload", "resubmit", "receipt", "permit",
                                          "document")},
}


def expected_allowed(app: Flask, role: str | None, endpoint: str, resource: str) -> bool:
    if role is None:
        return False
    view_class, method_name = endpoint.split(".", 1)
    if endpoint in SELF_SERVICE_ENDPOINTS or endpoint in SIGNED_IN_ENDPOINTS:
        return role != PEMOHON  # staff's own-account screens and search; the applicant has the portal
    if resource not in SPEC:
        if role != ADMIN:
            return False  # security screens, Swagger UI, menu API: Admin only
        # Admin holds every permission of FAB's own screens; a view refuses what it does not offer.
        view = next(v for v in app.appbuilder.baseviews if v.__class__.__name__ == view_class)
        declared = getattr(getattr(view, method_name), "_permission_name", method_name)
        permission = view.method_permission_name.get(method_name, declared)
        return permission.removeprefix("can_") in {p.removeprefix("can_") for p in view.base_permissions}
    operation = _OPERATION.get(endpoint) or _OPERATION[method_name]
    return role in SPEC[resource].get(operation, NOBODY)


def _request(client, method: str, url: str, token: str | None):  # noqa: ANN001, ANN202
    headers = {"X-CSRFToken": token} if token else {}
    if url.startswith("/api/"):
        return client.open(url, method=method, json={} if method in {"POST", "PUT"} else None, headers=headers)
    data = {"csrf_token": token} if method == "POST" and token else None
    return client.open(url, method=method, data=data)


def _was_allowed(response, url: str) -> bool:  # noqa: ANN001
    assert response.status_code < 500, f"{url} -> {response.status_code}"
    if response.status_code in (401, 403):
        return False
    # FAB sends anonymous visitors of a protected page to the login form, the portal to its own.
    location = response.headers.get("Location", "")
    return not (response.status_code == 302 and ("/login" in location or "/pemohon/masuk" in location))


@pytest.mark.parametrize("role", [*ALL_ROLES, None], ids=lambda r: r or "anonymous")
def test_every_endpoint_allows_exactly_what_the_role_may_do(app, login_as, rows, role):
    client = login_as(role)
    # A valid CSRF token, so that what is tested is the permission, not the token.
    token = csrf_token(client, {None: "/login/", PEMOHON: "/pemohon/"}.get(role, "/resetmypassword/form"))
    mismatches = []
    cases = _cases(app, rows)
    assert len(cases) > 100, "the matrix should see every view and API endpoint"
    for endpoint, method, url, resource in cases:
        allowed = _was_allowed(_request(client, method, url, token), url)
        if allowed != expected_allowed(app, role, endpoint, resource):
            mismatches.append(f"{method} {url} ({endpoint}): {'allowed' if allowed else 'denied'}")
    assert not mismatches, f"{role or 'anonymous'}:\n" + "\n".join(mismatches)


def test_every_business_resource_is_in_the_spec():
    from app.security.roles import BUSINESS_RESOURCES

    assert set(BUSINESS_RESOURCES) == set(SPEC)

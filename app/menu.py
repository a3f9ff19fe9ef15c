"""The one place that registers every view, menu entry and API."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

from app.api import ALL_APIS
from app.views.audit import AuditEntryView
from app.views.batch_signing import BatchSigningView
from app.views.corrections import PermitCorrectionView
from app.views.dashboard import DashboardView
from app.views.documents import DocumentFileView
from app.views.dossiers import DocumentView, DossierView, StageEventView
from app.views.holidays import LocalHolidayView
from app.views.imports import SpreadsheetImportView
from app.views.moves import DossierMoveView
from app.views.notifications import NotificationView
from app.views.outbox import OutboxView
from app.views.papers import DossierPaperView, PermitView, PublicView
from app.views.parties import ApplicantView, CompanyView
from app.views.portal import PortalView
from app.views.portal_accounts import PortalAccountView
from app.views.regions import RegionView
from app.views.register import RegisterEntryView
from app.views.reports import ArchiveReportView, MonthlyReportView, ReportJobView
from app.views.search import SearchView
from app.views.signing_certificates import SigningCertificateView
from app.views.sop import PermitTypeView, RequirementTypeView, StageView
from app.views.sop_sheets import SopSheetView
from app.views.survey import SkmView, SurveyView


@dataclass(frozen=True)
class MenuEntry:
    view: type
    name: str  # FAB's menu key, also the `menu_access` permission's resource
    label: object
    icon: str
    category: str
    category_label: object
    category_icon: str


_SERVICE = ("Service", _l("Service"), "fa-inbox")
_PARTIES = ("Parties", _l("Applicants & companies"), "fa-users")
_ARCHIVE = ("Archive", _l("Archive"), "fa-book")
_SOP = ("SOP", _l("SOP"), "fa-sitemap")
_REPORTS = ("Reports", _l("Reports"), "fa-bar-chart")
_SECURITY = ("Security", _l("Security"), "fa-cogs")  # FAB's own category: users, roles ...

MENU: tuple[MenuEntry, ...] = (
    MenuEntry(DossierView, "Dossiers", _l("Dossiers"), "fa-folder-open", *_SERVICE),
    MenuEntry(DocumentView, "Documents", _l("Documents"), "fa-file", *_SERVICE),
    MenuEntry(StageEventView, "History", _l("History"), "fa-history", *_SERVICE),
    MenuEntry(CompanyView, "Companies", _l("Companies"), "fa-building", *_PARTIES),
    MenuEntry(ApplicantView, "Applicants", _l("Applicants"), "fa-user", *_PARTIES),
    MenuEntry(SpreadsheetImportView, "SpreadsheetImport", _l("Import a spreadsheet"), "fa-upload", *_PARTIES),
    MenuEntry(PermitView, "Permits", _l("Permits"), "fa-certificate", *_ARCHIVE),
    MenuEntry(RegisterEntryView, "Register", _l("Register book"), "fa-book", *_ARCHIVE),
    MenuEntry(DashboardView, "Dashboard", _l("Dashboard"), "fa-dashboard", *_REPORTS),
    MenuEntry(SkmView, "Skm", _l("Public satisfaction survey (SKM)"), "fa-smile-o", *_REPORTS),
    MenuEntry(MonthlyReportView, "MonthlyReports", _l("Monthly registers"), "fa-file-excel-o", *_REPORTS),
    MenuEntry(ArchiveReportView, "ArchiveReports", _l("Register book and batch print"), "fa-print", *_REPORTS),
    MenuEntry(ReportJobView, "ReportJobs", _l("Report jobs"), "fa-tasks", *_REPORTS),
    MenuEntry(AuditEntryView, "AuditTrail", _l("Audit trail"), "fa-shield", *_REPORTS),
    # Admin: mail waiting to leave, its retries and errors.
    MenuEntry(OutboxView, "Outbox", _l("Outbox"), "fa-envelope", *_REPORTS),
    MenuEntry(PermitTypeView, "PermitTypes", _l("Permit types"), "fa-list", *_SOP),
    MenuEntry(StageView, "Stages", _l("Stages"), "fa-list-ol", *_SOP),
    MenuEntry(RequirementTypeView, "Requirements", _l("Requirements"), "fa-check-square", *_SOP),
    MenuEntry(SopSheetView, "SopSheets", _l("SOP sheets (Excel)"), "fa-file-excel-o", *_SOP),
    MenuEntry(LocalHolidayView, "LocalHolidays", _l("Local holidays"), "fa-calendar-times", *_SOP),
    MenuEntry(SigningCertificateView, "SigningCertificates", _l("Signing certificates (TTE)"), "fa-id-card",
              *_SECURITY),
)


def register_views(appbuilder: AppBuilder) -> None:
    for entry in MENU:
        appbuilder.add_view(
            entry.view,
            entry.name,
            icon=entry.icon,
            label=entry.label,
            category=entry.category,
            category_label=entry.category_label,
            category_icon=entry.category_icon,
        )
    # NotificationView: the bell's page, every officer reaches it from the top bar.
    for view in (DossierMoveView, DocumentFileView, DossierPaperView, PermitCorrectionView, RegionView,
                 NotificationView):
        appbuilder.add_view_no_menu(view)
    appbuilder.add_view_no_menu(BatchSigningView)  # the dossier grid leads here (scope: its filter)
    appbuilder.add_view_no_menu(SearchView)  # the top bar's search box; signed-in staff only
    public = appbuilder.add_view_no_menu(PublicView)
    # Status and verification need no login: throttle anyone guessing receipt numbers or tokens.
    appbuilder.sm.limiter.limit(current_app.config["PUBLIC_RATE_LIMIT"])(public.blueprint)
    # The applicant's survey (a signed link, no login): throttled the same way.
    survey = appbuilder.add_view_no_menu(SurveyView)
    appbuilder.sm.limiter.limit(current_app.config["PUBLIC_RATE_LIMIT"])(survey.blueprint)
    # The applicant's portal (/pemohon/): its own layout, no staff menu. Its account pages
    # (register, sign in, resend, reset) are open to anyone: throttled like the public pages.
    appbuilder.add_view_no_menu(PortalView)
    accounts = appbuilder.add_view_no_menu(PortalAccountView)
    appbuilder.sm.limiter.limit(current_app.config["PUBLIC_RATE_LIMIT"])(accounts.blueprint)
    for api in ALL_APIS:
        appbuilder.add_api(api)
    # Browsers ask for /favicon.ico on every page without a <link rel="icon">: answer it, not 404.
    current_app.add_url_rule("/favicon.ico", "favicon", _favicon)


def _favicon():  # noqa: ANN202
    return current_app.send_static_file("loket/favicon.ico")

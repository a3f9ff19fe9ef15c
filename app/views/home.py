"""Beranda: each user lands on their work. A role that works stages sees its queue (app.sop.worklist),
the Supervisor the office's counts and its overdue dossiers, Admin the screens it keeps."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.formatting import format_working_time
from app.office import office_calendar
from app.security import roles as resources
from app.sop import worklist
from app.sop.calendar import WorkingCalendar
from app.views.dashboard import dashboard_context

QUEUE_SIZE = 50
GRID = "DossierView.list"
# The grid's own filter indexes (app.views.grid): stage equal / in, status equal / in, due-date filters.
_STAGE, _STAGES = "_flt_0_stage", "_flt_2_stage"
_STATUS, _STATUSES = "_flt_0_status", "_flt_2_status"
_OVERDUE, _DUE_TODAY, _ON_TIME = "_flt_2_due_at", "_flt_3_due_at", "_flt_4_due_at"
# The full lists in the queue's own order: the promise that runs out first on top.
_BY_DUE = {"_oc_DossierView": "due_at", "_od_DossierView": "asc"}


@dataclass(frozen=True)
class QuickLink:
    label: object
    endpoint: str
    icon: str
    permission: str
    resource: str


QUICK_LINKS = (
    QuickLink(_l("Monthly registers"), "MonthlyReportView.form", "fa-file-excel-o", "can_request",
              resources.MONTHLY_REPORT),
    QuickLink(_l("Register book and batch print"), "ArchiveReportView.form", "fa-print", "can_request",
              resources.ARCHIVE_REPORT),
    QuickLink(_l("Import a spreadsheet"), "SpreadsheetImportView.form", "fa-upload", "can_import",
              resources.SPREADSHEET_IMPORT),
)
ADMIN_LINKS = (
    QuickLink(_l("List Users"), "UserDBModelView.list", "fa-user", "can_list", "UserDBModelView"),
    QuickLink(_l("List Roles"), "RoleModelView.list", "fa-group", "can_list", "RoleModelView"),
    QuickLink(_l("Permit types"), "PermitTypeView.list", "fa-list", "can_list", resources.PERMIT_TYPE),
    QuickLink(_l("Stages"), "StageView.list", "fa-list-ol", "can_list", resources.STAGE),
    QuickLink(_l("SOP sheets (Excel)"), "SopSheetView.form", "fa-file-excel-o", "can_export", resources.SOP_SHEET),
    QuickLink(_l("Local holidays"), "LocalHolidayView.list", "fa-calendar-times", "can_list",
              resources.LOCAL_HOLIDAY),
    QuickLink(_l("Audit trail"), "AuditEntryView.list", "fa-shield", "can_list", resources.AUDIT_ENTRY),
)


def stage_links(stage_id: int) -> dict[str, str]:
    """The grid filtered to one stage: its open work, each SLA bucket, its returned dossiers."""
    return {
        "open": url_for(GRID, **{_STAGE: stage_id, _STATUSES: list(worklist.OPEN_STATUSES)}, **_BY_DUE),
        "overdue": url_for(GRID, **{_STAGE: stage_id, _OVERDUE: 1}, **_BY_DUE),
        "due_today": url_for(GRID, **{_STAGE: stage_id, _DUE_TODAY: 1}, **_BY_DUE),
        "on_time": url_for(GRID, **{_STAGE: stage_id, _ON_TIME: 1}, **_BY_DUE),
        "returned": url_for(GRID, **{_STAGE: stage_id, _STATUS: worklist.RETURNED}, **_BY_DUE),
    }


def _queue(stages: list[worklist.StageInfo], scope: worklist.WorkStages, calendar: WorkingCalendar,
           now: dt.datetime) -> dict:
    session = db.session
    return {
        "counts": worklist.stage_counts(session, calendar, now, stages, scope),
        "rows": worklist.queue_rows(session, calendar, now, stages, scope.work, QUEUE_SIZE),
        "returned": worklist.returned_rows(session, calendar, now, stages, scope.resume, QUEUE_SIZE),
        "all_url": url_for(GRID, **{_STAGES: list(scope.work), _STATUSES: list(worklist.OPEN_STATUSES)}, **_BY_DUE)
        if scope.work else None,
        "all_returned_url": url_for(GRID, **{_STAGES: list(scope.resume), _STATUS: worklist.RETURNED}, **_BY_DUE)
        if scope.resume else None,
    }


def _office(stages: list[worklist.StageInfo], calendar: WorkingCalendar, now: dt.datetime) -> dict:
    return {
        "counts": worklist.stage_counts(db.session, calendar, now, stages),
        "overdue": worklist.overdue_rows(db.session, calendar, now, stages, QUEUE_SIZE),
        "all_overdue_url": url_for(GRID, **{_OVERDUE: 1}, **_BY_DUE),
    }


class HomeView(IndexView):
    index_template = "loket/index.html"

    @expose("/")
    def index(self):  # noqa: ANN201
        self.update_redirect()
        if not current_user.is_authenticated:
            return self.render_template(self.index_template, appbuilder=self.appbuilder)
        sm = self.appbuilder.sm
        if sm.has_access("can_use", resources.PORTAL):
            # An applicant (signed in on FAB's own form too) lands on the portal's home (SOP step 3).
            return redirect(url_for("PortalView.home"))
        role_names = {role.name for role in current_user.roles}
        calendar, now = office_calendar(), dt.datetime.now(dt.timezone.utc)
        stages = worklist.all_stages(db.session)
        scope = worklist.work_stages(stages, role_names)
        context: dict = {
            "can_add_dossier": sm.has_access("can_add", resources.DOSSIER),
            "can_list_dossiers": sm.has_access("can_list", resources.DOSSIER),
            "quick_links": [link for link in QUICK_LINKS if sm.has_access(link.permission, link.resource)],
            "admin_links": [link for link in ADMIN_LINKS if sm.has_access(link.permission, link.resource)]
            if resources.ADMIN in role_names else [],
            "stage_links": stage_links,
            "working_time": format_working_time,
        }
        if scope:
            context["queue"] = _queue(stages, scope, calendar, now)
        if sm.has_access("can_list", resources.DASHBOARD):
            # Supervisor, Kabid, Kepala Dinas: their home is the dashboard (under their own queue).
            context.update(dashboard_context(now))
        # The office view: anyone else who reads dossiers but works no stage.
        elif resources.SUPERVISOR in role_names or (
                not scope and resources.ADMIN not in role_names and context["can_list_dossiers"]):
            context["office"] = _office(stages, calendar, now)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, **context)

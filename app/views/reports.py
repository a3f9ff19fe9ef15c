"""Asking for report jobs and following them: the Laporan menu's forms, the jobs grid with live
progress, and downloads. Thin: app.jobs makes the files; these views check who asks for what.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.jobs.runner import result_path
from app.jobs.submit import start_job as submit_job
from app.labels import JOB_STATUSES, REPORT_KINDS, label
from app.models import ReportJob, describe_parameters
from app.office import office_now
from app.security import roles as resources
from app.views.base import LoketModelView

MAX_PROGRESS_IDS = 100


def register_report_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        report_job=lambda pk: db.session.get(ReportJob, int(pk)), job_file=result_path,
        job_status_label=lambda code: label(JOB_STATUSES, code),
    )


def may_see_all_jobs() -> bool:
    return current_app.appbuilder.sm.has_access("can_see_all", resources.REPORT_JOB)


def may_see(job: ReportJob) -> bool:
    """The requester sees their jobs; supervisors see everyone's."""
    return job.requested_by_id == current_user.id or may_see_all_jobs()


class OwnJobs(BaseFilter):
    """Lists only the user's own jobs, unless they may see all (FAB's base filter; actions and
    the JSON/download endpoints check the same rule themselves)."""

    name = "own jobs"
    arg_name = None

    def apply(self, query, value):  # noqa: ANN001, ANN201
        if may_see_all_jobs():
            return query
        return query.filter(ReportJob.requested_by_id == current_user.id)


def _progress_bar(percent: int) -> Markup:
    """The bar's starting state; report_jobs.js fills in status, errors and download links live."""
    return Markup(
        '<div class="progress job-progress" style="margin:0;min-width:140px">'
        '<div class="progress-bar" role="progressbar" style="width:{pct}%">{pct}%</div></div>'
    ).format(pct=percent)


def job_state(job: ReportJob) -> dict[str, Any]:
    path = result_path(job)
    return {
        "id": job.id,
        "status": job.status,
        "status_label": label(JOB_STATUSES, job.status),
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "error": job.error if job.status == "failed" else None,
        "download_url": url_for("ReportJobView.download", pk=job.id) if path else None,
    }


class ReportJobView(LoketModelView):
    datamodel = SQLAInterface(ReportJob)
    class_permission_name = resources.REPORT_JOB
    base_permissions = ["can_list", "can_show", "can_download", "can_see_all"]
    method_permission_name = {"progress": "list", "download": "download"}
    base_filters = [["requested_by_id", OwnJobs, None]]
    list_title = _l("Report jobs")
    show_title = _l("Report job")
    label_columns = {
        "id": _l("No."),
        "kind": _l("Report"),
        "parameters": _l("Period"),
        "requested_by": _l("Requested by"),
        "requested_at": _l("Requested at"),
        "status": _l("Status"),
        "percent": _l("Progress"),
        "started_at": _l("Started at"),
        "finished_at": _l("Finished at"),
        "attempts": _l("Attempts"),
        "error": _l("Error"),
    }
    list_columns = ["id", "kind", "parameters", "requested_by", "requested_at", "status", "percent"]
    show_columns = ["id", "kind", "parameters", "requested_by", "requested_at", "started_at", "finished_at",
                    "attempts", "status", "percent", "error"]
    order_columns = ["id", "requested_at"]
    search_columns = ["status", "requested_at"]
    base_order = ("id", "desc")
    moment_columns = ("requested_at", "started_at", "finished_at")
    list_template = "loket/report_job_list.html"
    show_template = "loket/report_job_show.html"
    formatters_columns = {
        "kind": lambda code: str(REPORT_KINDS.get(code, code)),
        "parameters": lambda parameters: describe_parameters(parameters or {}),
        "status": lambda code: Markup('<span class="job-status">{}</span>').format(JOB_STATUSES.get(code, code)),
        "percent": _progress_bar,
        "error": lambda v: v or "",
    }

    @expose("/progress", methods=["GET"])
    @has_access
    def progress(self):  # noqa: ANN201
        """Polled by the grid and the job page: each visible job's status and progress."""
        ids = [int(i) for i in request.args.get("ids", "").split(",") if i.strip().isdigit()][:MAX_PROGRESS_IDS]
        query = select(ReportJob).where(ReportJob.id.in_(ids))
        if not may_see_all_jobs():
            query = query.where(ReportJob.requested_by_id == current_user.id)
        response = jsonify([job_state(job) for job in db.session.scalars(query)])
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/download/<int:pk>", methods=["GET"])
    @has_access
    def download(self, pk: int):  # noqa: ANN201
        job = db.session.get(ReportJob, pk)
        if job is None or not may_see(job):
            abort(404)
        path = result_path(job)
        if path is None:
            flash(str(_l("This report has no file to download (not finished, failed, or already deleted).")), "warning")
            return redirect(url_for("ReportJobView.show", pk=pk))
        response = send_file(path, as_attachment=True, download_name=job.result_name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def start_job(kind: str, parameters: dict[str, Any]):  # noqa: ANN201
    """Queues the job and sends the requester to its page, where the progress shows."""
    job = submit_job(kind, parameters, current_user.id)
    flash(str(_l("Report job no. %(id)s is queued; this page shows its progress.", id=job.id)), "success")
    return redirect(url_for("ReportJobView.show", pk=job.id))


class MonthlyReportView(BaseView):
    """Supervisors: the monthly Excel registers."""

    route_base = "/monthlyreports"
    class_permission_name = resources.MONTHLY_REPORT
    base_permissions = ["can_request"]
    method_permission_name = {"form": "request", "start": "request", "filtered": "request"}
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):  # noqa: ANN201
        today = office_now().date()
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        return self.render_template("loket/report_monthly.html", default_month=last_month)

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):  # noqa: ANN201
        kind = request.form.get("kind")
        try:
            year, month = (int(part) for part in (request.form.get("month") or "").split("-"))
            if kind not in ("register_received", "register_issued") or not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            flash(str(_l("Choose the kind of register and a month.")), "danger")
            return redirect(url_for("MonthlyReportView.form"))
        return start_job(kind, {"year": year, "month": month})

    @expose("/filtered", methods=["POST"])
    @has_access
    def filtered(self):  # noqa: ANN201
        """From the Dossier grid: the register of every dossier its current filter matches."""
        return start_job("register_filtered", {"filter": (request.form.get("filter") or "")[:2000]})


class ArchiveReportView(BaseView):
    """Archivists: the printed register book of a year, and batch prints of permits."""

    route_base = "/archivereports"
    class_permission_name = resources.ARCHIVE_REPORT
    base_permissions = ["can_request"]
    method_permission_name = {"form": "request", "book": "request", "permits": "request"}
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):  # noqa: ANN201
        today = office_now().date()
        monday = today - dt.timedelta(days=today.weekday())
        return self.render_template("loket/report_archive.html", year=today.year,
                                    date_from=monday.isoformat(), date_to=today.isoformat())

    @expose("/book", methods=["POST"])
    @has_access
    def book(self):  # noqa: ANN201
        year = request.form.get("year", type=int)
        if year is None or not 2000 <= year <= 2100:
            flash(str(_l("Enter the year of the register book.")), "danger")
            return redirect(url_for("ArchiveReportView.form"))
        return start_job("register_book", {"year": year})

    @expose("/permits", methods=["POST"])
    @has_access
    def permits(self):  # noqa: ANN201
        try:
            first = dt.date.fromisoformat(request.form.get("date_from") or "")
            last = dt.date.fromisoformat(request.form.get("date_to") or "")
        except ValueError:
            flash(str(_l("Enter the first and last issue date.")), "danger")
            return redirect(url_for("ArchiveReportView.form"))
        if last < first:
            flash(str(_l("The last issue date is before the first.")), "danger")
            return redirect(url_for("ArchiveReportView.form"))
        return start_job("batch_permits", {"date_from": first.isoformat(), "date_to": last.isoformat()})

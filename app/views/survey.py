"""Survei Kepuasan Masyarakat: the applicant's public form (no login, a signed link) and the
supervisors' report (Laporan → SKM). Thin: app.survey decides, counts and keeps."""
from __future__ import annotations

import datetime as dt

from flask import Response, current_app, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Dossier, PermitType
from app.office import office_now
from app.security import roles as resources
from app.survey import (
    COMMENT_LENGTH,
    ELEMENTS,
    AnswerError,
    IkmLine,
    Refusal,
    check_answers,
    dossier_of,
    ikm_table,
    may_answer,
    record_answer,
)
from app.views.dashboard import MONTH_NAMES
from reports.dashboard_workbook import panel_workbook

MESSAGE_TEMPLATE = "loket/survey_message.html"


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


class SurveyView(BaseView):
    """No login: the applicant opens the link of the invitation or the receipt's QR (rate limited
    in app.menu like PublicView)."""

    route_base = ""
    default_view = "form"

    def _message(self, title: str, text: str, status: int, kind: str = "info"):  # noqa: ANN202
        return self.render_template(MESSAGE_TEMPLATE, title=title, text=text, kind=kind), status

    @expose("/survei/<token>", methods=["GET", "POST"])
    def form(self, token: str):  # noqa: ANN201
        dossier_id = dossier_of(_secret(), token)
        allowed, refusal = may_answer(db.session, dossier_id) if dossier_id else (False, Refusal.UNKNOWN)
        if refusal == Refusal.UNKNOWN:
            return self._message(_("Survey not found"), _(
                "This survey link is not valid. Please use the link from the e-mail or the QR code on your "
                "receipt exactly as given."), 404, "danger")
        if refusal == Refusal.ANSWERED:
            return self._message(_("Thank you"), _(
                "The survey for this dossier has already been filled in. Thank you for your answers."), 200, "success")
        if not allowed:
            return self._message(_("Survey not open yet"), _(
                "The survey opens once the permit has been handed over to you."), 200, "warning")
        error = ""
        if request.method == "POST":
            try:
                answers, comment = check_answers(request.form)
            except AnswerError as exc:
                error = self._answer_error(exc)
            else:
                if not record_answer(db.session, dossier_id, answers, comment, dt.datetime.now(dt.UTC)):
                    return self._message(_("Thank you"), _(
                        "The survey for this dossier has already been filled in. Thank you for your answers."),
                        200, "success")
                return self._message(_("Thank you"), _(
                    "Your answers have been saved. Thank you for helping us improve our service."), 200, "success")
        receipt = db.session.scalar(select(Dossier.receipt_number).where(Dossier.id == dossier_id))
        return self.render_template(
            "loket/survey_form.html", elements=ELEMENTS, receipt=receipt, error=error,
            chosen={k: request.form.get(k, "") for k in (f"u{i}" for i in range(1, 10))},
            comment=(request.form.get("comment") or "")[:COMMENT_LENGTH * 2], comment_length=COMMENT_LENGTH,
        )

    @staticmethod
    def _answer_error(exc: AnswerError) -> str:
        parts = []
        if exc.missing:
            parts.append(_("Please choose one answer (1 to 4) for every question; not answered: %(codes)s.",
                           codes=", ".join(exc.missing)))
        if exc.comment_length is not None:
            parts.append(_("The comment may be at most %(most)s characters long (it has %(length)s).",
                           most=COMMENT_LENGTH, length=exc.comment_length))
        return " ".join(parts) + " " + _("Nothing was saved.")


# --------------------------------------------------------------------------- supervisors' report


def _decimal(value: float) -> str:
    return format_decimal(round(value, 2), format="#,##0.00")


def month_label(month: int) -> str:
    return str(MONTH_NAMES[month - 1]) if month else _("Whole year")


def report_headers() -> list[str]:
    return [_("Month"), _("Permit type"), _("Respondents"), *(e.code for e in ELEMENTS), _("IKM"), _("Grade")]


def report_rows(lines: list[IkmLine]) -> list[list[object]]:
    """Plain values, one row per line (for the page and the Excel alike)."""
    return [
        [month_label(line.month), line.permit_type or _("All permit types"), line.result.respondents,
         *(round(n, 2) for n in line.result.nrr), round(line.result.ikm, 2),
         f"{line.result.grade.letter} ({line.result.grade.label})"]
        for line in lines
    ]


def _selection(today: dt.date) -> tuple[int, int | None, list[tuple[int, str]], list[str]]:
    """Year and permit type asked for (anything unreadable falls back, said so)."""
    problems: list[str] = []
    types = [(row.id, row.name) for row in db.session.execute(select(PermitType.id, PermitType.name)
                                                               .order_by(PermitType.name))]
    year = today.year
    raw = (request.args.get("tahun") or "").strip()
    if raw:
        if raw.isdigit() and 2000 <= int(raw) <= today.year + 1:
            year = int(raw)
        else:
            problems.append(_("The year is written as four digits (e.g. 2026); this year is shown instead."))
    permit_type_id = None
    wanted = (request.args.get("jenis") or "").strip()
    if wanted:
        known = {str(pid): pid for pid, _name in types}
        if wanted in known:
            permit_type_id = known[wanted]
        else:
            problems.append(_("Unknown permit type; all permit types are shown."))
    return year, permit_type_id, types, problems


class SkmView(BaseView):
    """Laporan → SKM: the satisfaction index per month and permit type, on screen and in Excel."""

    route_base = "/skm"
    default_view = "index"
    class_permission_name = resources.DASHBOARD
    base_permissions = ["can_list", "can_export"]
    method_permission_name = {"index": "list", "excel": "export"}

    def _lines(self) -> tuple[int, int | None, list[tuple[int, str]], list[str], list[IkmLine]]:
        now = office_now()
        year, permit_type_id, types, problems = _selection(now.date())
        return year, permit_type_id, types, problems, ikm_table(db.session, year, now.tzinfo, permit_type_id)

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        year, permit_type_id, types, problems, lines = self._lines()
        return self.render_template(
            "loket/skm_report.html", year=year, permit_type_id=permit_type_id, permit_types=types,
            problems=problems, headers=report_headers(), rows=report_rows(lines), lines=lines, elements=ELEMENTS,
            number=_decimal,
        )

    @expose("/excel")
    @has_access
    def excel(self):  # noqa: ANN201
        year, _permit_type_id, _types, _problems, lines = self._lines()
        body = panel_workbook(_("Public satisfaction index (IKM) %(year)s", year=year), report_headers(),
                              report_rows(lines), subtitle=_("Per PermenPAN-RB 14/2017; U1–U9: mean answer (1–4)"))
        return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="skm-{year}.xlsx"'})

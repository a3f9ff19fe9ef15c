"""Laporan → Dasbor: the office at a glance for the Kabid, the Kepala Dinas and supervisors.

Thin: the figures come from app.dashboard.panels, the charts from reports.charts, a panel's Excel
from reports.dashboard_workbook. Each panel is built once here (its chart, its table and its
links) so the page, the Excel download and the links always agree.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import Response, abort, flash, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from app import survey
from app.dashboard import panels
from app.dashboard.tallies import day_bounds, state
from app.extensions import db
from app.formatting import format_moment, format_working_time
from app.models import PermitType
from app.office import office_calendar
from app.security import roles as resources
from app.sop import worklist
from reports import charts
from reports.dashboard_workbook import panel_workbook

GRID = "DossierView.list"
# The Dossier grid's filters, by their _flt_ index (app.views.grid: DossierGridInterface.column_filters).
_STAGE = "_flt_0_stage"
_STATUS = "_flt_0_status"
_PERMIT_TYPE = "_flt_0_permit_type"
_OVERDUE, _DUE_SOON, _ON_TRACK = "_flt_2_due_at", "_flt_6_due_at", "_flt_7_due_at"
_RECEIVED_IN, _ISSUED_IN = "_flt_4_submitted_at", "_flt_5_submitted_at"
_RETURNED_IN, _REJECTED_IN = "_flt_6_submitted_at", "_flt_7_submitted_at"
_STAGES = "_flt_2_stage"
_OPEN_STATUSES = "_flt_2_status"
_BY_DUE = {"_oc_DossierView": "due_at", "_od_DossierView": "asc"}

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 36
MONTH_NAMES = (
    _l("Jan"), _l("Feb"), _l("Mar"), _l("Apr"), _l("May"), _l("Jun"),
    _l("Jul"), _l("Aug"), _l("Sep"), _l("Oct"), _l("Nov"), _l("Dec"),
)
# Sky blue (Okabe-Ito, as reports.charts.PALETTE): with the applicant, neither late nor on time.
RETURNED_NOW = "#56B4E9"
# The share of permits issued within the service standard the office aims for.
ON_TIME_TARGET_PCT = 100.0


def month_text(month: dt.date) -> str:
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def month_arg(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@dataclass
class Panel:
    name: str  # in URLs and file names
    title: str
    svg: Markup
    headers: Sequence[str]
    rows: list[Sequence]
    links: list[str | None] = field(default_factory=list)  # per table row: the grid of its dossiers
    note: str = ""
    keys: list[object] = field(default_factory=list)  # per table row: what it is (a stage id), for scripts and tests


@dataclass(frozen=True)
class Selection:
    period: panels.Period
    permit_types: list[tuple[int, str]]

    def grid(self, **filters: object) -> str:
        """The Dossier grid filtered to the selection's permit type and these filters."""
        if self.period.permit_type_id is not None:
            filters[_PERMIT_TYPE] = self.period.permit_type_id
        return url_for(GRID, **filters)


def _parse_month(text: str | None, default: dt.date) -> tuple[dt.date, bool]:
    if not text:
        return default, True
    match = MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return default, False
    return dt.date(int(match.group(1)), int(match.group(2)), 1), True


def selection_from(args: dict, today: dt.date) -> Selection:
    """The permit type and months asked for; anything unreadable falls back to this month, said so."""
    permit_types = [(row.id, row.name) for row in db.session.execute(
        select(PermitType.id, PermitType.name).order_by(PermitType.name))]
    this_month = today.replace(day=1)
    first, ok_first = _parse_month(args.get("dari"), this_month)
    last, ok_last = _parse_month(args.get("sampai"), this_month)
    if not (ok_first and ok_last):
        flash(_("Months are written as YYYY-MM (e.g. 2026-11); this month is shown instead."), "warning")
        first = last = this_month
    if first > last:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        flash(_("A period covers at most %(months)s months; it was shortened.", months=MAX_MONTHS), "warning")
        first = panels.months_back(last, MAX_MONTHS - 1)
    permit_type_id = None
    wanted = args.get("jenis", "")
    if wanted:
        known = {str(pid): pid for pid, _name in permit_types}
        if wanted in known:
            permit_type_id = known[wanted]
        else:
            flash(_("Unknown permit type; all permit types are shown."), "warning")
    return Selection(panels.Period(first, last, permit_type_id), permit_types)


def _count(value: float) -> str:
    return format_decimal(int(value))


def cell_text(value: object) -> str:
    """A table cell: numbers grouped as the office writes them (1.234), text as it is."""
    return format_decimal(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value / 100, "#,##0.0%")


def _minutes(value: float | None) -> str:
    return "–" if value is None else format_working_time(round(value))


# --------------------------------------------------------------------------- panels


def stage_now_panel(sel: Selection, now_rows: list[panels.StageNow]) -> Panel:
    def grid(stage_id: int, **more: object) -> str:
        return sel.grid(**{_STAGE: stage_id}, **more, **_BY_DUE)

    buckets = (
        (_("On time"), charts.PALETTE.on_time, "on_time", {_ON_TRACK: 1}),
        (_("Due within 1 working day"), charts.PALETTE.due_soon, "due_soon", {_DUE_SOON: 1}),
        (_("Past SLA"), charts.PALETTE.overdue, "overdue", {_OVERDUE: 1}),
        (_("Returned to the applicant"), RETURNED_NOW, "returned", {_STATUS: worklist.RETURNED}),
    )
    series = [
        charts.Series(name, color, [
            charts.Bar(getattr(row, attr), grid(row.stage.id, **filters),
                       f"{row.stage.seq}. {row.stage.name} · {name}: {_count(getattr(row, attr))}")
            for row in now_rows])
        for name, color, attr, filters in buckets
    ]
    svg = charts.stacked_bars([f"{row.stage.seq}. {row.stage.name}" for row in now_rows], series,
                              label=_("Dossiers now at each stage"), empty_text=_("No data yet"),
                              value_text=_count)
    rows = [(f"{row.stage.seq}. {row.stage.name}", row.on_time, row.due_soon, row.overdue, row.returned, row.total)
            for row in now_rows]
    return Panel("tahap-sekarang", _("Dossiers now at each stage"), Markup(svg),
                 (_("Stage"), *[b[0] for b in buckets], _("Total")), rows,
                 [grid(row.stage.id, **{_OPEN_STATUSES: [*worklist.OPEN_STATUSES, worklist.RETURNED]})
                  for row in now_rows],
                 _("Live. Past SLA: in progress after its promised date; the clock of a returned dossier "
                   "stands still."), [row.stage.id for row in now_rows])


def monthly_panels(sel: Selection, months: list[panels.MonthFigures]) -> list[Panel]:
    names = [month_text(m.month) for m in months]

    def link(filter_name: str, month: dt.date) -> str:
        return sel.grid(**{filter_name: month_arg(month)})

    measures = (
        (_("Received"), charts.PALETTE.received, "received", _RECEIVED_IN),
        (_("Issued"), charts.PALETTE.issued, "issued", _ISSUED_IN),
        (_("Returns"), charts.PALETTE.returned, "returned", _RETURNED_IN),
        (_("Rejected"), charts.PALETTE.rejected, "rejected", _REJECTED_IN),
    )
    series = [
        charts.Series(name, color, [
            charts.Bar(getattr(m, attr), link(flt, m.month),
                       f"{month_text(m.month)} · {name}: {_count(getattr(m, attr))}")
            for m in months])
        for name, color, attr, flt in measures
    ]
    flow = Panel(
        "per-bulan", _("Received, issued, returned and rejected per month"),
        Markup(charts.grouped_bars(names, series, label=_("Dossiers per month"), empty_text=_("No data yet"),
                                   value_text=_count)),
        (_("Month"), *[m[0] for m in measures]),
        [(month_text(m.month), m.received, m.issued, m.returned, m.rejected) for m in months],
        [link(_RECEIVED_IN, m.month) for m in months],
        _("Returns counts each return; the link lists the dossiers received that month."),
    )
    share = charts.Series(_("Issued within the service standard"), charts.PALETTE.issued, [
        # A month with nothing issued is a gap in the line, not 0 %.
        charts.Bar(math.nan if m.on_time_pct is None else m.on_time_pct,
                   link(_ISSUED_IN, m.month) if m.issued else None,
                   f"{month_text(m.month)}: {_pct(m.on_time_pct)} ({_count(m.issued_on_time)}/{_count(m.issued)})")
        for m in months])
    on_time = Panel(
        "tepat-waktu", _("Permits issued within the service standard"),
        Markup(charts.line_chart(names, [share], label=_("Share issued within the service standard"),
                                 empty_text=_("No data yet"), target=ON_TIME_TARGET_PCT,
                                 target_label=_("Target %(pct)s", pct=_pct(ON_TIME_TARGET_PCT)), y_max=100.0,
                                 value_text=_pct)),
        (_("Month"), _("Issued"), _("Within the standard"), _("Share")),
        [(month_text(m.month), m.issued, m.issued_on_time, _pct(m.on_time_pct)) for m in months],
        [link(_ISSUED_IN, m.month) for m in months],
    )
    return [flow, on_time]


def stage_time_panel(sel: Selection, times: list[panels.StageTime], day_minutes: int) -> Panel:
    labels = [f"{t.seq}. {t.name}" for t in times]
    received = sel.grid(**{_RECEIVED_IN: month_arg(sel.period.first)}) if sel.period.first == sel.period.last else None
    svg = charts.range_bars(labels, [t.median for t in times], [t.p90 for t in times],
                            [t.standard_minutes for t in times], label=_("Working time per stage"),
                            empty_text=_("No data yet"), value_text=_minutes,
                            hrefs=[sel.grid(**{_STAGES: t.stage_id}) for t in times], day_minutes=day_minutes,
                            legend_text=(_("Median"), _("90th percentile"), _("Time standard"),
                                         _("Over the standard")))
    rows = [(label, t.standard_text, t.visits, _minutes(t.median), _minutes(t.p90), _pct(t.within_pct))
            for label, t in zip(labels, times, strict=True)]
    return Panel("mutu-baku", _("Time standard (mutu baku) per stage"), Markup(svg),
                 (_("Stage"), _("Standard"), _("Finished visits"), _("Median"), _("90th percentile"),
                  _("Within the standard")), rows, [None] * len(rows) if received is None else [received] * len(rows),
                 _("Working time of each finished stage visit of the dossiers received in the period, as in the "
                   "monthly register's summary sheet."))


def return_panel(sel: Selection, reasons: list[panels.ReturnReason], returns: int) -> Panel:
    labels = [r.label or _("No missing item named") for r in reasons]
    link = sel.grid(**{_RETURNED_IN: month_arg(sel.period.first)}) if sel.period.first == sel.period.last else None
    series = [charts.Series(_("Returns naming it"), charts.PALETTE.returned, [
        charts.Bar(r.count, link, f"{label}: {_count(r.count)}") for r, label in zip(reasons, labels, strict=True)])]
    svg = charts.stacked_bars(labels, series, label=_("Returns by reason"), empty_text=_("No data yet"),
                              value_text=_count)
    return Panel("alasan-pengembalian", _("Returns by reason"), Markup(svg), (_("Missing item"), _("Returns")),
                 [(label, r.count) for r, label in zip(reasons, labels, strict=True)], [link] * len(reasons),
                 _("%(count)s returns in the period. The papers and fields applicants forget most.",
                   count=_count(returns)))


def workload_panel(sel: Selection, loads: list[panels.OfficerLoad]) -> Panel:
    shown = loads[:15]
    series = [
        charts.Series(_("Waiting now"), charts.PALETTE.due_soon, [
            charts.Bar(load.waiting, sel.grid(**{_STAGES: list(load.stage_ids),
                                                 _OPEN_STATUSES: list(worklist.OPEN_STATUSES)}, **_BY_DUE)
                       if load.stage_ids else None, f"{load.name}: {_count(load.waiting)}")
            for load in shown]),
    ]
    svg = charts.stacked_bars([load.name for load in shown], series, label=_("Workload per officer"),
                              empty_text=_("No data yet"), value_text=_count)
    rows = [(load.name, ", ".join(load.roles), load.moves, format_decimal(round(load.moves_per_day, 1)), load.waiting)
            for load in loads]
    links = [sel.grid(**{_STAGES: list(load.stage_ids), _OPEN_STATUSES: list(worklist.OPEN_STATUSES)}, **_BY_DUE)
             if load.stage_ids else None for load in loads]
    return Panel("beban-kerja", _("Workload per officer"), Markup(svg),
                 (_("Officer"), _("Roles"), _("Moves in the period"), _("Moves per working day"),
                  _("Waiting at their stages")), rows, links)


def skm_panel(sel: Selection, result: survey.IkmResult | None) -> Panel:
    """The satisfaction index of the answers given in the period (details: Laporan → SKM)."""
    labels = [f"{e.code} {e.name}" for e in survey.ELEMENTS]
    nrr = result.nrr if result else ()
    series = [charts.Series(_("Mean answer (1–4)"), charts.PALETTE.received, [
        charts.Bar(round(value, 2), None, f"{label}: {format_decimal(round(value, 2))}")
        for value, label in zip(nrr, labels, strict=True)])] if result else []
    svg = charts.stacked_bars(labels if result else [], series, label=_("Public satisfaction survey (SKM)"),
                              empty_text=_("No data yet"), value_text=lambda v: format_decimal(round(v, 2)))
    rows: list[Sequence] = []
    if result:
        rows = [(_("IKM"), round(result.ikm, 2)), (_("Grade"), f"{result.grade.letter} ({result.grade.label})"),
                (_("Respondents"), result.respondents),
                *((label, round(value, 2)) for label, value in zip(labels, result.nrr, strict=True))]
    link = url_for("SkmView.index", tahun=sel.period.last.year, jenis=sel.period.permit_type_id or "")
    note = Markup('<a href="{}" id="skm-report-link">{}</a>').format(link, _("The index per month and permit type"))
    return Panel("skm", _("Public satisfaction survey (SKM)"), Markup(svg), (_("Measure"), _("Value")), rows,
                 note=note)


def build_panels(sel: Selection, now: dt.datetime) -> list[Panel]:
    session, calendar, period = db.session, office_calendar(), sel.period
    stages = [s for s in worklist.all_stages(session)
              if period.permit_type_id is None or s.permit_type == dict(sel.permit_types)[period.permit_type_id]]
    now_rows = panels.stages_now(session, calendar, now, stages, period.permit_type_id)
    twelve = panels.Period(panels.months_back(period.last, panels.MONTHS_SHOWN - 1), period.last,
                           period.permit_type_id)
    reasons, returns = panels.return_reasons(session, period)
    waiting = {row.stage.id: row.on_time + row.due_soon + row.overdue for row in now_rows}
    return [
        stage_now_panel(sel, now_rows),
        *monthly_panels(sel, panels.monthly(session, twelve)),
        stage_time_panel(sel, panels.stage_times(session, period), calendar.day_minutes),
        return_panel(sel, reasons, returns),
        workload_panel(sel, panels.workload(session, calendar, now, period, stages, waiting)),
        skm_panel(sel, survey.period_ikm(session, day_bounds(calendar, period.first)[0],
                                         day_bounds(calendar, period.end)[0], period.permit_type_id)),
    ]


def dashboard_context(now: dt.datetime) -> dict:
    """What the dashboard's templates read, for the selection in the request's arguments."""
    sel = selection_from(request.args, office_calendar().local_date(now))
    kept = state(db.session)
    return {
        "selection": sel, "panels": build_panels(sel, now), "month_arg": month_arg, "cell_text": cell_text,
        "refreshed_at": format_moment(kept.refreshed_at) if kept.refreshed_at else None,
        "query": request.args.to_dict(),
    }


class DashboardView(BaseView):
    route_base = "/dasbor"
    default_view = "index"
    class_permission_name = resources.DASHBOARD
    method_permission_name = {"index": "list", "excel": "export"}
    template = "loket/dashboard.html"

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        return self.render_template(self.template, **dashboard_context(dt.datetime.now(dt.timezone.utc)))

    @expose("/excel/<name>")
    @has_access
    def excel(self, name: str):  # noqa: ANN201
        now = dt.datetime.now(dt.timezone.utc)
        sel = selection_from(request.args, office_calendar().local_date(now))
        found = next((panel for panel in build_panels(sel, now) if panel.name == name), None)
        if found is None:
            abort(404)
        period = f"{month_text(sel.period.first)} – {month_text(sel.period.last)}"
        body = panel_workbook(found.title, found.headers, found.rows, subtitle=period)
        return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="dasbor-{found.name}.xlsx"'})


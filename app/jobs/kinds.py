"""What each kind of report job is: its parameters and how its file is made (who may ask for
which is the views' business: app.views.reports, app.views.base).

Builders gather rows from the database and hand them to reports/ (data in, bytes out); they
report progress as (done, total) so the grid can draw a bar. A ReportRefused is a problem the
requester can act on (an empty month, a year without register lines) and is shown to them.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import force_locale, get_locale
from flask_login import login_user
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.audit import Change, write
from app.extensions import db
from app.jobs.batch_signing import KIND as BATCH_SIGN
from app.jobs.batch_signing import batch_sign
from app.jobs.context import JobContext, Progress, ReportRefused
from app.jobs.moves import bulk_move
from app.jobs.register_data import SummaryCollector, issued_in, received_in, register_rows
from app.labels import REPORT_KINDS
from app.models import AuditAction, Dossier, Permit, PermitSignature, RegisterEntry, describe_parameters
from app.office import office_calendar
from app.printing import printed_permit, signed_permit_file
from app.views.dossiers import dossier_filter_query  # the grid's own filters, applied as the grid does
from app.views.export import grid_count, grid_headers, grid_rows
from reports.excel_register import RegisterMeta, write_register
from reports.grid_export import write_grid
from reports.papers import render_permit
from reports.parallel import as_is, render_batch
from reports.register_book import BookLine, book_jobs, place


@dataclass(frozen=True)
class ReportKind:
    code: str
    extension: str
    build: Callable[[JobContext, dict[str, Any], Path, Progress], str]  # returns the download name


def _month(parameters: dict[str, Any]) -> tuple[int, int]:
    year, month = int(parameters["year"]), int(parameters["month"])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ReportRefused("Bulan laporan tidak valid.")
    return year, month


def _period(parameters: dict[str, Any]) -> str:
    if "month" in parameters:
        _month(parameters)  # refuses a month that is not one
    return describe_parameters(parameters)


def _excel_register(title: str, population: Callable[[dict[str, Any], JobContext], Any], file_stem: str):  # noqa: ANN202
    def build(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
        office = context.office
        calendar = office_calendar()
        summary = SummaryCollector()
        total, rows = register_rows(db.session, population(parameters, context), calendar, office.timezone,
                                    context.now, summary, progress)
        if total == 0:
            raise ReportRefused(f"Tidak ada berkas untuk {title.lower()} {_period(parameters)}.")
        meta = RegisterMeta(title=title, period=_period(parameters), office=current_app.config["OFFICE_NAME"],
                            paper=office.paper_size, working_day_minutes=calendar.day_minutes)
        write_register(out, meta, rows, summary.rows())
        return f"{file_stem}-{_period(parameters).lower().replace(' ', '-')}.xlsx"

    return build


def _received(parameters: dict[str, Any], context: JobContext):  # noqa: ANN202
    return received_in(*_month(parameters), context.office.timezone)


def _issued(parameters: dict[str, Any], _context: JobContext):  # noqa: ANN202
    return issued_in(*_month(parameters))


def _filtered(parameters: dict[str, Any], _context: JobContext):  # noqa: ANN202
    return dossier_filter_query(str(parameters["filter"])).order_by(Dossier.submitted_at, Dossier.id)


def _book_year(parameters: dict[str, Any]) -> int:
    year = int(parameters["year"])
    if not 2000 <= year <= 2100:
        raise ReportRefused("Tahun buku register tidak valid.")
    return year


def _register_book(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
    """The year's register lines as book pages; the page and line printed are stored back."""
    year = _book_year(parameters)
    office = context.office
    entries = db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.year == year).order_by(RegisterEntry.seq)
        .options(selectinload(RegisterEntry.company), selectinload(RegisterEntry.applicant),
                 selectinload(RegisterEntry.permit_type))
    ).all()
    if not entries:
        raise ReportRefused(f"Buku register tahun {year} belum berisi satu baris pun.")
    lines = [
        BookLine(
            seq=e.seq, register_number=e.register_number, entry_date=office.day(e.entry_date),
            permit_number=e.permit_number, company_name=e.company.name, applicant_name=e.applicant.full_name,
            permit_type=e.permit_type.name, issue_date=office.day(e.issue_date),
            archive_box=e.archive_box or "", archive_shelf=e.archive_shelf or "",
        )
        for e in entries
    ]
    placements = [dict(zip(("id", "book_page", "book_line"), (e.id, *place(e.seq)))) for e in entries]
    # Only the lines whose place in the book changes get a trail row (printing again changes none).
    moved = [
        Change("register_entry", e.id, AuditAction.UPDATE, {
            key: [getattr(e, key), where[key]] for key in ("book_page", "book_line") if getattr(e, key) != where[key]
        }, e.dossier_id)
        for e, where in zip(entries, placements)
        if (e.book_page, e.book_line) != (where["book_page"], where["book_line"])
    ]
    db.session.expunge_all()
    tasks = book_jobs(lines, year, office.letterhead, office.paper_size)
    progress(0, len(tasks))
    render_batch(tasks, out, workers=context.print_workers, progress=lambda done: progress(done))
    # The paper and the database agree: each line's page and line as printed.
    db.session.execute(update(RegisterEntry), placements)  # ORM bulk UPDATE by primary key
    write(db.session, moved, now=context.now)
    db.session.commit()
    return f"buku-register-{year}.pdf"


def _dates(parameters: dict[str, Any]) -> tuple[dt.date, dt.date]:
    try:
        first, last = dt.date.fromisoformat(parameters["date_from"]), dt.date.fromisoformat(parameters["date_to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportRefused("Tanggal terbit awal dan akhir wajib diisi (format tanggal).") from exc
    if last < first or (last - first).days > 366:
        raise ReportRefused("Rentang tanggal terbit tidak valid (paling lama satu tahun, akhir tidak sebelum awal).")
    return first, last


def _batch_permits(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
    """Every standing permit issued in the date range, in number order, as one PDF: each as it
    was issued (its snapshot), the same paper as its own re-print."""
    first, last = _dates(parameters)
    office = context.office
    permits = db.session.execute(
        select(Permit.id, Permit.snapshot)
        .where(Permit.issued_on >= first, Permit.issued_on <= last, Permit.revoked_at.is_(None))
        .order_by(Permit.year, Permit.series, Permit.seq)
    ).all()
    if not permits:
        raise ReportRefused(f"Tidak ada izin terbit (yang tidak dicabut) dari {office.day(first)} sampai {office.day(last)}.")
    # A permit signed electronically prints as signed (its stamp), from its stored file.
    ids = [permit_id for permit_id, _ in permits]
    signed_ids = set(db.session.scalars(select(PermitSignature.permit_id).where(PermitSignature.permit_id.in_(ids))))
    tasks = [(as_is, (signed_permit_file(db.session, permit_id, office.documents_dir),)) if permit_id in signed_ids
             else (render_permit, printed_permit(snapshot)) for permit_id, snapshot in permits]
    db.session.expunge_all()
    progress(0, len(tasks))
    render_batch(tasks, out, workers=context.print_workers, progress=lambda done: progress(done))
    return f"izin-terbit-{first.isoformat()}-sd-{last.isoformat()}.pdf"


def _grid_export(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
    """A grid's export, as its requester would see the grid: their filter, their base filters.
    One exact count for the progress bar, then the rows by keyset in one pass (grid_rows: no
    OFFSET, no count per batch), written as they come (write_grid is write-only): steady memory
    whatever the size."""
    app = current_app._get_current_object()  # noqa: SLF001
    view = next((v for v in app.appbuilder.baseviews if type(v).__name__ == parameters.get("view")), None)
    user = db.session.get(User, parameters.get("user_id"))
    if view is None or user is None:
        raise ReportRefused("Daftar atau pengguna untuk ekspor ini tidak ada lagi.")
    locale = str(get_locale())  # the runner's; the request below would otherwise pick its own
    with app.test_request_context(f"/?{parameters.get('args', '')}"), force_locale(locale):
        login_user(user)
        progress(0, grid_count(view))
        write_grid(out, parameters.get("title") or "data", grid_headers(view), grid_rows(view),
                   progress=lambda done: progress(done))
    return f"{parameters.get('title') or 'data'}-{context.now:%Y%m%d-%H%M}.xlsx"


KINDS: dict[str, ReportKind] = {
    kind.code: kind for kind in (
        ReportKind("register_received", ".xlsx",
                   _excel_register("REGISTER BERKAS DITERIMA", _received, "register-berkas-diterima")),
        ReportKind("register_issued", ".xlsx",
                   _excel_register("REGISTER IZIN TERBIT", _issued, "register-izin-terbit")),
        ReportKind("register_filtered", ".xlsx",
                   _excel_register("REGISTER BERKAS", _filtered, "register-berkas")),
        ReportKind("register_book", ".pdf", _register_book),
        ReportKind("batch_permits", ".pdf", _batch_permits),
        ReportKind("grid_export", ".xlsx", _grid_export),
        ReportKind("bulk_move", ".xlsx", bulk_move),
        ReportKind(BATCH_SIGN, ".xlsx", batch_sign),
    )
}
assert set(KINDS) == set(REPORT_KINDS), "every kind has a label, every label a kind"

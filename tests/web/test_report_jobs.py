"""Report jobs through the app (Huey in immediate mode): asking, following, downloading, who sees what.

The real consumers (SQLite, Redis, a consumer killed mid-job) are in test_job_consumer.py.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from app.extensions import db
from app.models import Permit, RegisterEntry, ReportJob
from tests.conftest import csrf_token
from tests.factories import make_company, make_dossier
from tests.web.helpers import page_text
from tests.web.test_papers import ALL_VERIFIED, TOKEN_PAGE, pdf_text

pytestmark = pytest.mark.usefixtures("clean_db")
WIB = dt.timezone(dt.timedelta(hours=7))
RECEIVED = dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC)  # 14 October 2026, 09.00 WIB


def _post(client, url: str, data: dict):  # noqa: ANN001, ANN202
    return client.post(url, data={**data, "csrf_token": csrf_token(client, TOKEN_PAGE)})


def _job_id(response) -> int:  # noqa: ANN001
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/reportjobview/show/(\d+)", response.headers["Location"]).group(1))


def _job(app, job_id: int) -> ReportJob:  # noqa: ANN001
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        db.session.expunge(job)
        return job


def test_supervisor_makes_the_monthly_register_and_downloads_it(app, login_as):
    with app.app_context():
        hostile = make_company(name='=HYPERLINK("http://x","klik")')
        october = [make_dossier(submitted_at=RECEIVED + dt.timedelta(days=d), verified=("PROFIL_PERUSAHAAN",))
                   for d in range(3)]
        make_dossier(hostile, submitted_at=RECEIVED)
        make_dossier(submitted_at=RECEIVED + dt.timedelta(days=40))  # November: not in October's register
        receipts = {d.receipt_number for d in october}
    # Two of them leave BERKAS, carried on through the Front Office's Registrasi and Login: the
    # summary sheet counts those finished visits.
    _post(login_as("Front Office"), "/dossiermoves/apply",
          {"action": "advance", "scope": "ids", "ids": [october[0].id, october[1].id]})
    client = login_as("Supervisor")
    job_id = _job_id(_post(client, "/monthlyreports/start", {"kind": "register_received", "month": "2026-10"}))
    job = _job(app, job_id)
    assert (job.status, job.progress_done, job.progress_total, job.attempts) == ("done", 4, 4, 1)
    assert job.result_name == "register-berkas-diterima-oktober-2026.xlsx"

    page = page_text(client.get(f"/reportjobview/show/{job_id}"))
    assert "Register bulanan: berkas diterima" in page and "Oktober 2026" in page and "Unduh" in page
    download = client.get(f"/reportjobview/download/{job_id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(download.data))
    sheet = book["Register"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4
    assert receipts <= {row[2] for row in rows}
    assert all(isinstance(row[1], dt.datetime) for row in rows), "dates are real Excel dates"
    assert {row[1].date() for row in rows} == {dt.date(2026, 10, 14), dt.date(2026, 10, 15), dt.date(2026, 10, 16)}
    names = [row[5] for row in rows]
    assert "'=HYPERLINK(\"http://x\",\"klik\")" in names, names
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"], "no formulas from user data"
    summary = list(book["Ringkasan"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2], row[3]) for row in summary] == [
        ("Izin Pool Kendaraan", 1, "Berkas", 2), ("Izin Pool Kendaraan", 2, "Registrasi", 2),
        ("Izin Pool Kendaraan", 3, "Login", 2)]


def test_an_empty_month_fails_with_a_message_the_supervisor_can_act_on(app, login_as):
    client = login_as("Supervisor")
    job_id = _job_id(_post(client, "/monthlyreports/start", {"kind": "register_issued", "month": "2019-02"}))
    job = _job(app, job_id)
    assert job.status == "failed"
    assert job.error == "Tidak ada berkas untuk register izin terbit Februari 2019."
    assert "Tidak ada berkas untuk register izin terbit Februari 2019." in page_text(
        client.get(f"/reportjobview/show/{job_id}"))
    assert client.get(f"/reportjobview/download/{job_id}").status_code == 302, "no file is offered"


def test_the_forms_default_to_the_offices_day_not_the_servers(app, login_as, monkeypatch):
    """At 03:00 WIB on 1 December a UTC server still reads 30 November: last month is November,
    and this week runs from Monday 30 November."""
    from zoneinfo import ZoneInfo

    from app.office import office_now

    with app.app_context():
        assert office_now().utcoffset() == dt.timedelta(hours=7)
    early = dt.datetime(2026, 12, 1, 3, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    monkeypatch.setattr("app.views.reports.office_now", lambda: early)
    supervisor = page_text(login_as("Supervisor").get("/monthlyreports/"))
    assert 'value="2026-11"' in supervisor
    archivist = page_text(login_as("Arsiparis").get("/archivereports/"))
    assert 'value="2026-11-30"' in archivist and 'value="2026-12-01"' in archivist


def test_bad_month_input_is_refused_without_a_job(app, login_as):
    client = login_as("Supervisor")
    response = _post(client, "/monthlyreports/start", {"kind": "register_received", "month": "2026-13"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/monthlyreports/")
    with app.app_context():
        assert db.session.scalar(select(ReportJob.id)) is None


def test_jobs_are_seen_by_their_requester_and_by_supervisors_only(app, login_as):
    with app.app_context():
        make_dossier(submitted_at=RECEIVED)
    supervisor, archivist = login_as("Supervisor"), login_as("Arsiparis")
    sup_job = _job_id(_post(supervisor, "/monthlyreports/start", {"kind": "register_received", "month": "2026-10"}))
    ars_job = _job_id(_post(archivist, "/archivereports/book", {"year": "2019"}))  # an empty year: fails

    assert archivist.get(f"/reportjobview/download/{sup_job}").status_code == 404
    assert archivist.get(f"/reportjobview/show/{sup_job}").status_code in (302, 404)
    assert [s["id"] for s in archivist.get(f"/reportjobview/progress?ids={sup_job},{ars_job}").json] == [ars_job]
    listed = page_text(archivist.get("/reportjobview/list/"))
    assert f"/reportjobview/show/{ars_job}" in listed and f"/reportjobview/show/{sup_job}" not in listed

    states = {s["id"]: s for s in supervisor.get(f"/reportjobview/progress?ids={sup_job},{ars_job}").json}
    assert states[sup_job]["status"] == "done" and states[sup_job]["download_url"]
    assert states[ars_job]["status"] == "failed" and "belum berisi satu baris pun" in states[ars_job]["error"]
    assert supervisor.get(f"/reportjobview/download/{sup_job}").status_code == 200


def _issue_permits(app, login_as, count: int) -> list[str]:  # noqa: ANN001
    with app.app_context():
        ids = [make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED).id for _ in range(count)]
    kadis = login_as("Kepala Dinas")
    _post(kadis, "/dossiermoves/apply", {"action": "advance", "scope": "ids", "ids": ids})
    with app.app_context():
        return list(db.session.scalars(select(Permit.number).order_by(Permit.seq)))


def test_archivist_prints_the_register_book_and_the_pages_are_written_back(app, login_as):
    numbers = _issue_permits(app, login_as, 3)
    year = dt.datetime.now(WIB).year
    archivist = login_as("Arsiparis")
    first = _job(app, _job_id(_post(archivist, "/archivereports/book", {"year": str(year)})))
    assert first.status == "done", first.error
    book = archivist.get(f"/reportjobview/download/{first.id}").data
    text = pdf_text(book)
    assert "Halaman 1 dari 1" in text and all(number in text for number in numbers)
    with app.app_context():
        placed = db.session.execute(select(RegisterEntry.seq, RegisterEntry.book_page, RegisterEntry.book_line)
                                    .order_by(RegisterEntry.seq)).all()
    assert placed == [(1, 1, 1), (2, 1, 2), (3, 1, 3)]
    again = _job(app, _job_id(_post(archivist, "/archivereports/book", {"year": str(year)})))
    assert archivist.get(f"/reportjobview/download/{again.id}").data == book, "printing again gives the same pages"


def test_archivist_batch_prints_the_weeks_permits_in_number_order(app, login_as):
    numbers = _issue_permits(app, login_as, 3)
    with app.app_context():
        revoked = db.session.scalar(select(Permit).where(Permit.number == numbers[1]))
        revoked.revoked_at, revoked.revocation_reason = dt.datetime.now(dt.UTC), "Uji pencabutan"
        db.session.commit()
    today = dt.datetime.now(WIB).date()
    archivist = login_as("Arsiparis")
    job = _job(app, _job_id(_post(archivist, "/archivereports/permits", {
        "date_from": (today - dt.timedelta(days=7)).isoformat(), "date_to": today.isoformat()})))
    assert job.status == "done", job.error
    reader = PdfReader(io.BytesIO(archivist.get(f"/reportjobview/download/{job.id}").data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.index(numbers[0]) < text.index(numbers[2]), "in number order"
    assert numbers[1] not in text, "a revoked permit is not printed"


def test_supervisor_exports_the_register_of_the_grids_filter(app, login_as):
    with app.app_context():
        wanted = make_dossier(stage_code="VERIFIKASI", submitted_at=RECEIVED)
        make_dossier(submitted_at=RECEIVED)
        stage_id = wanted.stage_id
    client = login_as("Supervisor")
    grid = page_text(client.get(f"/dossierview/list/?_flt_0_stage={stage_id}"))
    assert 'id="register-of-filter"' in grid
    job = _job(app, _job_id(_post(client, "/monthlyreports/filtered", {"filter": f"_flt_0_stage={stage_id}"})))
    assert (job.status, job.progress_total) == ("done", 1)
    assert "register-of-filter" not in page_text(login_as("Front Office").get("/dossierview/list/"))


def test_finished_files_are_purged_after_the_retention_period(app, login_as):
    from app.jobs.runner import purge, reports_dir

    with app.app_context():
        make_dossier(submitted_at=RECEIVED)
    job_id = _job_id(_post(login_as("Supervisor"), "/monthlyreports/start",
                           {"kind": "register_received", "month": "2026-10"}))
    with app.app_context():
        name = db.session.get(ReportJob, job_id).result_file
        assert (reports_dir() / name).is_file()
        assert purge() == 0, "a fresh file is kept"
        db.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(
            finished_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=app.config["REPORT_RETENTION_DAYS"] + 1)))
        db.session.commit()
        old_upload = Path(app.instance_path) / "imports" / ("0" * 64 + ".xlsx")
        old_upload.parent.mkdir(exist_ok=True)
        old_upload.write_bytes(b"PK")
        long_ago = (dt.datetime.now() - dt.timedelta(days=app.config["REPORT_RETENTION_DAYS"] + 1)).timestamp()
        os.utime(old_upload, (long_ago, long_ago))
        assert purge() == 1
        assert not (reports_dir() / name).exists()
        assert not old_upload.exists(), "an old uploaded spreadsheet goes too"
        assert db.session.get(ReportJob, job_id).result_file is None
    assert login_as("Supervisor").get(f"/reportjobview/download/{job_id}").status_code == 302


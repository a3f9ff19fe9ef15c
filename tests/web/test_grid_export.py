"""'Ekspor Excel' on the grids: the rows of the current filter and sort (all pages), typed cells."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import ReportJob
from tests.factories import make_company, make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")


def _sheet(response):  # noqa: ANN001, ANN202
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(response.data)).active


def test_companies_export_is_the_filtered_sorted_list_with_every_page(app, login_as):
    with app.app_context():
        for n in range(30):  # more than one grid page (25)
            make_company(name=f"PT Ekspor {n:02d}", deed_date=dt.date(2020, 1, 2))
        make_company(name="CV Lain Sendiri")
        make_company(name='=HYPERLINK("http://x","klik")')
    client = login_as("Front Office")
    grid = page_text(client.get("/companyview/list/?_flt_2_name=Ekspor"))
    assert "Ekspor Excel" in grid and "/companyview/export_xlsx?_flt_2_name=Ekspor" in grid

    sheet = _sheet(client.get("/companyview/export_xlsx?_flt_2_name=Ekspor&_oc_CompanyView=name&_od_CompanyView=desc"))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Nama perusahaan"  # Indonesian headers, the grid's columns
    names = [row[0] for row in rows[1:]]
    assert names == [f"PT Ekspor {n:02d}" for n in reversed(range(30))], "filtered, sorted, all pages"
    header = list(rows[0])
    nib = header.index("NIB")
    assert all(isinstance(row[nib], str) and len(row[nib]) == 13 for row in rows[1:]), "NIB stays text"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    everything = _sheet(client.get("/companyview/export_xlsx"))
    cells = [row[0] for row in everything.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\",\"klik\")" in cells, "formula-like names are exported as text"


def test_dossier_export_has_dates_as_dates_and_labels_not_markup(app, login_as):
    with app.app_context():
        dossier = make_dossier(submitted_at=dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC))
        receipt = dossier.receipt_number
    sheet = _sheet(login_as("Supervisor").get("/dossierview/export_xlsx"))
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    row = next(r for r in rows[1:] if r[header.index("Nomor Pendaftaran")] == receipt)
    submitted = row[header.index("Diajukan")]
    assert submitted == dt.datetime(2026, 10, 14, 9, 0), "office time (WIB), a real date"
    status = row[header.index("Status")]
    assert status == "Dalam proses" and "<" not in status


def test_a_big_export_runs_as_a_report_job(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", 3)
    with app.app_context():
        for n in range(5):
            make_company(name=f"PT Besar {n}")
    client = login_as("Front Office")
    response = client.get("/companyview/export_xlsx?_flt_2_name=Besar")
    assert response.status_code == 302
    job_id = int(re.search(r"/reportjobview/show/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.kind, job.status, job.progress_total) == ("grid_export", "done", 5), job.error
    sheet = _sheet(client.get(f"/reportjobview/download/{job_id}"))
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == [f"PT Besar {n}" for n in range(5)]
    assert login_as("Back Office").get(f"/reportjobview/download/{job_id}").status_code == 404, "not the requester's"

"""Indonesian everywhere a user looks (issue 14, part 7): report files, error answers, FAB's dialog
and help texts, empty values, downloaded file names and dates typed as dd/mm/yyyy."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text, update

from app import create_app
from app.dates import parse_date
from app.extensions import db
from app.jobs import runner
from app.models import Dossier, DossierStatus, LocalHoliday, ReportJob
from app.models.guards import guards_lifted
from config import TestConfig
from tests.conftest import csrf_token, role_username
from tests.factories import make_company, make_dossier
from tests.web.helpers import indonesian, page_text

pytestmark = pytest.mark.usefixtures("clean_db")

RECEIVED = dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC)  # 14 October 2026, 09.00 WIB
TOKEN_PAGE = "/resetmypassword/form"
ENGLISH_STATUSES = {"In progress", "Returned to applicant", "Rejected", "Issued", "Archived"}


def _post(client, url: str, data: dict):  # noqa: ANN001, ANN202
    return client.post(url, data={**data, "csrf_token": csrf_token(client, TOKEN_PAGE)})


def _october_dossiers_in_each_status() -> dict[int, str]:
    """One October dossier per status: id -> status code (set directly: no SOP walk needed here)."""
    ids = {}
    for day, status in enumerate(DossierStatus):
        dossier = make_dossier(submitted_at=RECEIVED + dt.timedelta(days=day))
        ids[dossier.id] = status.value
    with guards_lifted(db.session.connection()):
        for dossier_id, status in ids.items():
            db.session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status=status))
    db.session.commit()
    return ids


def _status_column(data: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(data))["Register"]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("Status")
    return [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]


# --- 1. Report files: status words from app.labels, in the requester's language --------------------

def test_the_monthly_register_writes_every_status_in_indonesian(app, login_as):
    with app.app_context():
        _october_dossiers_in_each_status()
    client = login_as("Supervisor")
    response = _post(client, "/monthlyreports/start", {"kind": "register_received", "month": "2026-10"})
    job_id = int(re.search(r"/reportjobview/show/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert job.status == "done", job.error
        assert job.parameters["locale"] == "id"  # the requester's language, kept for the consumer
    statuses = _status_column(client.get(f"/reportjobview/download/{job_id}").data)
    expected = {indonesian(app, msgid) for msgid in ENGLISH_STATUSES}
    assert sorted(statuses) == sorted(expected), statuses
    assert "Diarsipkan" in statuses and not ENGLISH_STATUSES & set(statuses)


def test_a_job_run_by_a_consumer_outside_any_request_writes_the_requesters_language(app):
    """What a consumer thread does: an app context and no request. The labels come out in the
    locale the job was asked in, not as the English msgids."""
    with app.app_context():
        _october_dossiers_in_each_status()
        officer = app.appbuilder.sm.find_user(username=role_username("Supervisor"))
        job = ReportJob(kind="register_received", parameters={"year": 2026, "month": 10, "locale": "id"},
                        requested_by_id=officer.id, status="queued", requested_at=dt.datetime.now(dt.UTC),
                        progress_done=0, attempts=0)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    with app.app_context():
        runner.run_job(job_id, "uji:1")
        job = db.session.get(ReportJob, job_id)
        assert job.status == "done", job.error
        statuses = _status_column((runner.reports_dir() / job.result_file).read_bytes())
    assert "Dalam proses" in statuses and "Diarsipkan" in statuses
    assert not ENGLISH_STATUSES & set(statuses), statuses


# --- 2. Error answers --------------------------------------------------------------------------------

def test_the_real_429_of_the_public_pages_is_indonesian(app):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_ENABLED = True
        PUBLIC_RATE_LIMIT = "2 per minute"

    client = create_app(Limited).test_client()
    answers = [client.get("/status") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    page = page_text(answers[-1])
    assert indonesian(app, "Too many requests in a short time. Wait a minute, then try again.") in page
    assert "Too Many Requests" not in page and "per 1 minute" not in page


def test_the_403_of_a_page_and_of_the_api_are_indonesian(app, login_as):
    message = indonesian(app, "Your account may not open this page. Ask the administrator if your work needs it.")
    client = login_as("Front Office")
    page = client.get("/users/list/")
    assert page.status_code == 403 and message in page_text(page)
    api = client.get("/api/v1/register_entry/")
    assert api.status_code == 403 and api.get_json() == {"message": message}


# --- 3. FAB's confirmation dialog, 4. FAB's user form help -------------------------------------------

def test_the_confirmation_dialogs_cancel_button_is_indonesian(app, login_as):
    page = page_text(login_as("Admin").get("/localholidayview/list/"))
    assert 'id="modal-confirm"' in page
    dialog = page.split('id="modal-confirm"', 1)[1].split("</div>\n</div>", 1)[0]
    assert f'data-dismiss="modal">{indonesian(app, "Cancel")}</button>' in dialog
    assert ">Cancel<" not in page


def test_the_user_forms_group_help_text_is_indonesian(app, login_as):
    page = page_text(login_as("Admin").get("/users/add"))
    assert "The user group on the application" not in page
    assert indonesian(app, "The user group on the application, this will associate with a list of roles "
                           "associated with the group") in page


# --- 5. Empty values ---------------------------------------------------------------------------------

def test_empty_fields_read_as_a_dash_on_the_dossier_page_and_in_its_lists(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id  # no site area, no notes
    page = page_text(login_as("Front Office").get(f"/dossierview/show/{dossier_id}"))
    assert ">None<" not in page
    area = indonesian(app, "Site area (m²)")
    assert re.search(rf"{re.escape(area)}</th>\s*<td><span[^>]*>—</span></td>", page), "empty area shows —"


def test_an_empty_deed_date_reads_as_a_dash_on_the_company_page(app, login_as):
    with app.app_context():
        company_id = make_company(deed_date=None, deed_number=None).id
    page = page_text(login_as("Front Office").get(f"/companyview/show/{company_id}"))
    assert ">None<" not in page and "<span style=\"white-space: pre-line\">—</span>" in page


# --- 6. Downloaded file names ------------------------------------------------------------------------

@pytest.mark.parametrize(("entity", "name"), [("company", "templat-perusahaan.xlsx"),
                                              ("applicant", "templat-pemohon.xlsx")])
def test_import_templates_download_under_indonesian_names(login_as, entity, name):
    response = login_as("Front Office").get(f"/imports/template/{entity}")
    assert response.status_code == 200
    assert f"filename={name}" in response.headers["Content-Disposition"]


# --- 7. Dates: dd/mm/yyyy typed, ISO still read ------------------------------------------------------

@pytest.mark.parametrize(("typed", "day"), [
    ("15/03/2019", dt.date(2019, 3, 15)), ("5/3/2019", dt.date(2019, 3, 5)), (" 15-03-2019 ", dt.date(2019, 3, 15)),
    ("15.03.2019", dt.date(2019, 3, 15)), ("2019-03-15", dt.date(2019, 3, 15)),
    ("31/02/2019", None), ("15/03/19", None), ("2019/03/15", None), ("03/15/2019", None), ("kemarin", None),
])
def test_dates_are_read_as_staff_write_them(typed, day):
    assert parse_date(typed) == day


def _add_holiday(client, typed: str, name: str):  # noqa: ANN001, ANN202
    form = client.get("/localholidayview/add")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_text(form)).group(1)
    return client.post("/localholidayview/add", data={"date": typed, "name": name, "csrf_token": token})


def _holiday(app, name: str) -> LocalHoliday | None:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(LocalHoliday).where(LocalHoliday.name == name))


@pytest.fixture()
def no_holidays(app):  # noqa: ANN001, ANN201
    yield
    with app.app_context():
        db.session.execute(text("DELETE FROM local_holiday WHERE name LIKE 'Uji tanggal%'"))
        db.session.commit()


def test_the_add_form_shows_the_format_and_no_iso_picker(app, login_as):
    page = page_text(login_as("Admin").get("/localholidayview/add"))
    field = re.search(r'<input[^>]*name="date"[^>]*>', page).group(0)
    assert f'placeholder="{indonesian(app, "dd/mm/yyyy")}"' in field  # hh/bb/tttt
    assert "appbuilder_date" not in page and 'data-provide="datepicker"' not in page  # FAB's ISO set-up
    assert "/static/vendor/bootstrap-datepicker/bootstrap-datepicker.id.min.js" in page
    assert "/static/loket/datepicker.js" in page


@pytest.mark.usefixtures("no_holidays")
def test_a_date_typed_as_dd_mm_yyyy_is_stored_and_shown_back_the_same_way(app, login_as):
    client = login_as("Admin")
    response = _add_holiday(client, "15/03/2019", "Uji tanggal Indonesia")
    assert response.status_code == 302, page_text(response)[:1500]
    holiday = _holiday(app, "Uji tanggal Indonesia")
    assert holiday.date == dt.date(2019, 3, 15)
    edit = page_text(client.get(f"/localholidayview/edit/{holiday.id}"))
    assert re.search(r'<input[^>]*name="date"[^>]*value="15/03/2019"', edit)


@pytest.mark.usefixtures("no_holidays")
def test_an_iso_date_is_still_accepted(app, login_as):
    assert _add_holiday(login_as("Admin"), "2019-03-16", "Uji tanggal ISO").status_code == 302
    assert _holiday(app, "Uji tanggal ISO").date == dt.date(2019, 3, 16)


@pytest.mark.usefixtures("no_holidays")
def test_a_date_that_is_no_day_is_refused_in_indonesian_keeping_what_was_typed(app, login_as):
    response = _add_holiday(login_as("Admin"), "31/02/2019", "Uji tanggal salah")
    assert response.status_code == 200
    page = page_text(response)
    assert indonesian(app, "Not a valid date: write it as dd/mm/yyyy, e.g. 15/03/2019.") in page
    assert re.search(r'<input[^>]*name="date"[^>]*value="31/02/2019"', page)
    assert _holiday(app, "Uji tanggal salah") is None


def test_the_vendored_locale_file_carries_its_licence():
    folder = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "bootstrap-datepicker"
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Maret" in (folder / "bootstrap-datepicker.id.min.js").read_text(encoding="utf-8")

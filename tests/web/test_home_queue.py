"""Beranda: each role lands on the dossiers at its stages, the earliest promise first, with counts
per stage that open the grid filtered the same way; the Supervisor sees the whole office; the
page reads the database a bounded number of times whatever the number of dossiers."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Dossier, Stage
from app.sop import worklist
from app.sop.calendar import WorkingCalendar
from app.sop.machine import Action, move
from app.views.home import QUEUE_SIZE
from tests.conftest import role_username
from tests.factories import make_dossier
from tests.web.helpers import page_text, statements_of

pytestmark = pytest.mark.usefixtures("clean_db")

NOW = dt.datetime.now(dt.timezone.utc)
MAX_STATEMENTS = 8
DASHBOARD_STATEMENTS = 16


def _stage_id(code: str) -> int:
    return db.session.scalar(select(Stage.id).where(Stage.code == code))


def _dossier(stage_code: str, due_in: dt.timedelta | None, status: str | None = None) -> tuple[int, str]:
    """A dossier at a stage with its promise `due_in` from now (None: as opened)."""
    dossier = make_dossier(stage_code=stage_code)
    values = {"due_at": NOW + due_in} if due_in is not None else {}
    if status is not None:
        values["status"] = status
    if values:  # a plain UPDATE: the test places the dossier, no officer changes a record
        db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(**values))
    db.session.commit()
    return dossier.id, dossier.receipt_number


def _later_today() -> dt.timedelta:
    """Halfway between now and midnight in the office's time zone: due today whatever the hour."""
    _, tomorrow = worklist.today_bounds(WorkingCalendar(), dt.datetime.now(dt.timezone.utc))
    return (tomorrow - NOW) / 2


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def _receipts(fragment: str) -> list[str]:
    return re.findall(r"IPK-\d\d-[0-9A-Z]+", fragment)


def _row(table: str, attribute: str, value: int) -> str:
    match = re.search(rf'<tr[^>]*{attribute}="{value}".*?</tr>', table, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(0)


def _link(fragment: str, css: str) -> str:
    match = re.search(rf'class="{css}[^"]*" href="([^"]+)"', fragment)
    assert match, f"no link {css}"
    return html.unescape(match.group(1))


def _count(fragment: str, css: str) -> int:
    return int(re.search(rf'class="{css}[^"]*" href="[^"]+">(\d+)<', fragment).group(1))


def _grid_receipts(client, url: str) -> set[str]:  # noqa: ANN001
    response = client.get(url)
    assert response.status_code == 200
    return set(_receipts(page_text(response)))


@pytest.fixture()
def office(app) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    """Dossiers at stages of three roles, overdue, due today and on time, one issued awaiting
    the archive, and one returned to the applicant from verification."""
    with app.app_context():
        made = {
            "verify_late": _dossier("VERIFIKASI", -dt.timedelta(days=3)),
            "verify_today": _dossier("VERIFIKASI", _later_today()),
            "verify_later": _dossier("VERIFIKASI", dt.timedelta(days=4)),
            "draft_late": _dossier("DRAFT_IZIN", -dt.timedelta(days=1)),
            "site_late": _dossier("PEMERIKSAAN_LAPANGAN", -dt.timedelta(days=5)),
            "counter": _dossier("BERKAS", dt.timedelta(days=6)),
            "archive": _dossier("PENGARSIPAN", -dt.timedelta(days=2), status="issued"),
            "returned": _dossier("VERIFIKASI", dt.timedelta(days=2)),
            "archived": _dossier("PENGARSIPAN", -dt.timedelta(days=9), status="archived"),
        }
        back_office = app.appbuilder.sm.find_user(username=role_username("Back Office")).id
        outcome = move(db.session, made["returned"][0], Action.RETURN, actor_id=back_office, roles={"Back Office"},
                       note="NPWP tidak terbaca", now=NOW)
        assert outcome.moved, outcome.reasons
        db.session.commit()
    return made


def test_each_role_sees_only_its_stages_the_earliest_promise_first(login_as, office):
    page = page_text(login_as("Back Office").get("/"))
    queue = _receipts(_table(page, "queue-rows"))
    receipts = {key: receipt for key, (_, receipt) in office.items()}
    # Verification and drafting are the Back Office's; the site visit, the counter and the archive are not.
    assert queue == [receipts[k] for k in ("verify_late", "draft_late", "verify_today", "verify_later")]
    assert receipts["returned"] not in page and receipts["site_late"] not in page

    tim = page_text(login_as("Tim Teknis").get("/"))
    assert _receipts(_table(tim, "queue-rows")) == [receipts["site_late"]]
    assert 'id="returned-rows"' not in tim and 'id="home-office"' not in tim

    # The archive's work is an issued permit; archived dossiers are done.
    archivist = page_text(login_as("Arsiparis").get("/"))
    assert _receipts(_table(archivist, "queue-rows")) == [receipts["archive"]]


def test_returned_dossiers_wait_apart_for_the_role_that_takes_them_back(login_as, office):
    page = page_text(login_as("Front Office").get("/"))
    receipt = office["returned"][1]
    assert "Dikembalikan ke pemohon" in page
    assert _receipts(_table(page, "returned-rows")) == [receipt]
    assert receipt not in _table(page, "queue-rows")
    assert "Dikembalikan sejak" in _table(page, "returned-rows")


def test_overdue_and_due_today_are_marked(login_as, office):
    table = _table(page_text(login_as("Back Office").get("/")), "queue-rows")
    late, today, later = (_row(table, "data-dossier", office[k][0])
                          for k in ("verify_late", "verify_today", "verify_later"))
    assert 'class="danger"' in late and "Terlambat" in late and "Jatuh tempo hari ini" not in late
    assert 'class="warning"' in today and "Jatuh tempo hari ini" in today and "Terlambat" not in today
    assert "Terlambat" not in later and "Jatuh tempo hari ini" not in later
    # One click to the dossier's page.
    assert f'href="/dossierview/show/{office["verify_late"][0]}"' in late


def test_counts_per_stage_open_the_grid_filtered_the_same_way(app, login_as, office):
    client = login_as("Back Office")
    page = page_text(client.get("/"))
    with app.app_context():
        verification = _stage_id("VERIFIKASI")
    row = _row(_table(page, "queue-counts"), "data-stage", verification)
    receipts = {key: receipt for key, (_, receipt) in office.items()}
    assert (_count(row, "count-open"), _count(row, "count-overdue"), _count(row, "count-due-today")) == (3, 1, 1)
    assert _grid_receipts(client, _link(row, "count-open")) == {
        receipts[k] for k in ("verify_late", "verify_today", "verify_later")}
    assert _grid_receipts(client, _link(row, "count-overdue")) == {receipts["verify_late"]}
    assert _grid_receipts(client, _link(row, "count-due-today")) == {receipts["verify_today"]}
    # The full list: every stage of the role, in the grid.
    full = re.search(r'href="([^"]+)" id="queue-all"', page).group(1)
    assert _grid_receipts(client, html.unescape(full)) == {
        receipts[k] for k in ("verify_late", "verify_today", "verify_later", "draft_late")}


def test_the_front_office_gets_a_new_dossier_button_and_the_back_office_does_not(login_as):
    front = page_text(login_as("Front Office").get("/"))
    assert re.search(r'id="new-dossier" href="/dossierview/add"[^>]*>.*?Berkas Baru', front, re.S)
    assert "Impor Spreadsheet" in front and "Register Bulanan" not in front
    back = page_text(login_as("Back Office").get("/"))
    assert 'id="new-dossier"' not in back and "Berkas Baru" not in back and "Impor Spreadsheet" not in back


def test_quick_links_follow_each_roles_tools(login_as):
    archivist = page_text(login_as("Arsiparis").get("/"))
    assert "Buku Register dan Cetak Massal" in archivist and "Impor Spreadsheet" in archivist
    supervisor = page_text(login_as("Supervisor").get("/"))
    assert "Register Bulanan" in supervisor and "Buku Register dan Cetak Massal" not in supervisor


def _cells(row: str) -> list[int]:
    return [int(c.replace(".", "")) for c in re.findall(r'<td class="text-right">([\d.]+)</td>', row)]


def _segment(page: str, stage_id: int, flt: str) -> str:
    """The dashboard's chart link for one stage and SLA state."""
    for href in re.findall(r'<a href="([^"]+)" class="chart-link"', page):
        href = html.unescape(href)
        if f"_flt_0_stage={stage_id}&" in href and flt in href:
            return href
    raise AssertionError(f"no bar for stage {stage_id} {flt}")


def test_the_supervisor_sees_the_whole_office_by_stage_on_the_dashboard(app, login_as, office):
    client = login_as("Supervisor")
    page = page_text(client.get("/"))
    assert 'id="home-queue"' not in page and 'id="panel-tahap-sekarang"' in page
    counts = re.search(r'id="panel-tahap-sekarang".*?</table>', page, re.S).group(0)
    with app.app_context():
        ids = {code: _stage_id(code) for code in ("VERIFIKASI", "PEMERIKSAAN_LAPANGAN", "PENGARSIPAN", "BERKAS")}
    # On time, due within a working day, past SLA, returned, total.
    assert _cells(_row(counts, "data-key", ids["VERIFIKASI"])) == [1, 1, 1, 1, 4]
    assert _cells(_row(counts, "data-key", ids["PEMERIKSAAN_LAPANGAN"]))[2] == 1
    # An issued permit kept its promise: on time, not overdue; an archived dossier is no work.
    assert _cells(_row(counts, "data-key", ids["PENGARSIPAN"])) == [1, 0, 0, 0, 1]
    receipts = {key: receipt for key, (_, receipt) in office.items()}
    verification = ids["VERIFIKASI"]
    assert _grid_receipts(client, _segment(page, verification, "_flt_7_due_at")) == {receipts["verify_later"]}
    assert _grid_receipts(client, _segment(page, verification, "_flt_6_due_at")) == {receipts["verify_today"]}
    assert _grid_receipts(client, _segment(page, verification, "_flt_2_due_at")) == {receipts["verify_late"]}
    assert _grid_receipts(client, _segment(page, verification, "_flt_0_status")) == {receipts["returned"]}


def test_admin_lands_on_its_screens_not_on_a_queue(login_as):
    page = page_text(login_as("Admin").get("/"))
    admin = re.search(r'id="home-admin".*?</div>\s*</div>', page, re.S).group(0)
    for href in ("/users/list/", "/roles/list/", "/permittypeview/list/", "/sopsheets/"):
        assert f'href="{href}' in admin
    assert 'id="home-queue"' not in page and 'id="home-office"' not in page and "Berkas Baru" not in page


def test_a_visitor_sees_the_banner_only(login_as):
    response = login_as(None).get("/")
    assert response.status_code == 200
    assert 'id="home"' not in page_text(response)


def test_the_grids_stage_list_filter_ignores_what_names_no_stage(login_as, office):
    client = login_as("Back Office")
    assert _grid_receipts(client, "/dossierview/list/?_flt_2_stage=bukan&_flt_2_stage=99999999999999999999") == set()


def test_the_queue_shows_a_page_and_runs_a_bounded_number_ofstatements_of(app, login_as):
    with app.app_context():
        for n in range(QUEUE_SIZE + 5):
            _dossier("VERIFIKASI", dt.timedelta(hours=n - 10))
        _dossier("PEMERIKSAAN_LAPANGAN", -dt.timedelta(days=1))
    client = login_as("Back Office")
    client.get("/")
    statements, page = statements_of(app, client, "/")
    assert len(_receipts(_table(page, "queue-rows"))) == QUEUE_SIZE
    assert f"Menampilkan {QUEUE_SIZE} pertama dari {QUEUE_SIZE + 5}" in page
    assert len(statements) <= MAX_STATEMENTS, f"{len(statements)} statements:\n" + "\n".join(
        " ".join(s.split())[:160] for s in statements)
    # The Supervisor's home is the dashboard: its own fixed number of statements, whatever the data.
    supervisor = login_as("Supervisor")
    supervisor.get("/")
    statements, _ = statements_of(app, supervisor, "/")
    assert len(statements) <= DASHBOARD_STATEMENTS, "\n".join(" ".join(s.split())[:160] for s in statements)


def test_worklist_marks_agree_with_its_counts(app, office):
    """The module alone, at a fixed instant: rows and counts draw overdue and due today alike."""
    with app.app_context():
        stages = worklist.all_stages(db.session)
        scope = worklist.work_stages(stages, {"Back Office"})
        calendar = WorkingCalendar()
        rows = worklist.queue_rows(db.session, calendar, NOW, stages, scope.work, 10)
        counts = worklist.stage_counts(db.session, calendar, NOW, stages, scope)
        assert sum(r.overdue for r in rows) == sum(c.overdue for c in counts) == 2
        assert sum(r.due_today for r in rows) == sum(c.due_today for c in counts) == 1
        assert [r.id for r in rows] == list(db.session.scalars(worklist.queue_select(scope.work)))
        assert {c.stage.code for c in counts} == {"VERIFIKASI", "DRAFT_IZIN"}
        assert db.session.get(Dossier, office["returned"][0]).status == "returned"

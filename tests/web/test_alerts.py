"""SLA alerts (app.alerts): which dossiers are overdue (melewati SLA) or due within one working day,
the notifications a scan writes (once per event), the bell, the notifications page, the grid's
filters, the dossier page's mark, the register's column and the supervisors' daily digest."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app import alerts
from app.extensions import db
from app.jobs.register_data import SummaryCollector, register_rows
from app.models import (
    AlertKind,
    DashboardState,
    Dossier,
    DossierStatus,
    Notification,
    OutboxMessage,
    StageEvent,
)
from app.models.account import ACCOUNT_TABLE
from app.security import roles
from app.sop.calendar import WorkingCalendar
from app.views.grid import DUE_FILTERS, FilterDueSoon, FilterPastSla
from reports.excel_register import REGISTER_HEADERS, RegisterMeta, write_register
from tests.conftest import POSTGRES_URL, csrf_token, role_username
from tests.factories import make_company, make_dossier
from tests.web.helpers import page_text, statements_of

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkingCalendar()
PAST_SLA = DUE_FILTERS.index(FilterPastSla)
DUE_SOON = DUE_FILTERS.index(FilterDueSoon)


def wib(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant of December 2026 in office time (Mon 7, Fri 11, Sun 6, Fri 25 = Christmas)."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=WIB)


@pytest.fixture()
def db_ctx(app, clean_db):  # noqa: ANN001, ANN201, ARG001
    """An app context; afterwards the alert tables are emptied (before clean_db empties dossiers)."""
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.execute(delete(Notification))
        db.session.execute(delete(OutboxMessage))
        db.session.execute(delete(DashboardState))
        db.session.commit()


@pytest.fixture()
def web_db(app, clean_db):  # noqa: ANN001, ANN201, ARG001
    """As db_ctx, without holding an app context: a request must get its own g (Flask-Login keeps
    the signed-in user there). Tests open `with app.app_context()` around their own reads."""
    yield app
    with app.app_context():
        db.session.execute(delete(Notification))
        db.session.commit()


def place(stage: str = "VERIFIKASI", *, due: dt.datetime, status: str = DossierStatus.IN_PROGRESS.value,
          returned_at: dt.datetime | None = None, company=None) -> Dossier:  # noqa: ANN001
    """A dossier at a stage with its promise and status set (a plain UPDATE: the test places it);
    returned_at: its last return to the applicant. Times are stored in UTC, as the app stores them."""
    dossier = make_dossier(company, stage_code=stage)
    db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(
        due_at=due.astimezone(dt.UTC), status=status))
    if returned_at is not None:
        db.session.add(StageEvent(dossier_id=dossier.id, from_stage_id=dossier.stage_id, to_stage_id=dossier.stage_id,
                                  action="return", occurred_at=returned_at.astimezone(dt.UTC), note="NPWP kurang"))
    db.session.commit()
    return dossier


def user_id(role: str) -> int:
    return db.session.scalar(select(ACCOUNT_TABLE.c.id).where(ACCOUNT_TABLE.c.username == role_username(role)))


def kinds(now: dt.datetime, **kwargs) -> dict[int, str]:  # noqa: ANN003
    return {risk.dossier_id: risk.kind for risk in alerts.at_risk(db.session, CAL, now, **kwargs)}


# --------------------------------------------------------------------------- classification


def test_at_risk_boundaries_in_office_hours(db_ctx) -> None:  # noqa: ANN001, ARG001
    now = wib(7, 10)  # Monday 10.00: one working day on is Tuesday 10.00
    late = place(due=wib(7, 9, 59))
    exactly_now = place(due=wib(7, 10))
    tomorrow_before = place(due=wib(8, 9, 59))
    tomorrow_at = place(due=wib(8, 10))
    issued_late = place(due=wib(7, 8), status=DossierStatus.ISSUED.value)
    rejected_late = place(due=wib(7, 8), status=DossierStatus.REJECTED.value)

    found = kinds(now)
    assert found == {late.id: AlertKind.OVERDUE, exactly_now.id: AlertKind.DUE_SOON,
                     tomorrow_before.id: AlertKind.DUE_SOON}
    assert tomorrow_at.id not in found and issued_late.id not in found and rejected_late.id not in found
    # The earliest promise first, and the counts agree with the list.
    assert [r.dossier_id for r in alerts.at_risk(db.session, CAL, now)] == [late.id, exactly_now.id, tomorrow_before.id]
    assert alerts.risk_counts(db.session, CAL, now) == {late.stage_id: (2, 1)}
    assert kinds(now, limit=1) == {late.id: AlertKind.OVERDUE}
    assert kinds(now, stage_ids=[late.stage_id + 1000]) == {}
    assert kinds(now, stage_ids=[]) == {}


def test_due_soon_counts_working_time_over_the_weekend(db_ctx) -> None:  # noqa: ANN001, ARG001
    friday = wib(11, 10)  # one working day after Friday 10.00 is Monday 10.00
    monday_morning = place(due=wib(14, 9))
    monday_noon = place(due=wib(14, 11))
    assert kinds(friday) == {monday_morning.id: AlertKind.DUE_SOON}
    # Saturday: the clock starts on Monday at 07.30, so one working day runs until Monday 16.00.
    before_close = place(due=wib(14, 15, 59))
    at_close = place(due=wib(14, 16))
    tuesday = place(due=wib(15, 7, 31))
    found = kinds(wib(12, 12))
    assert found == {monday_morning.id: AlertKind.DUE_SOON, monday_noon.id: AlertKind.DUE_SOON,
                     before_close.id: AlertKind.DUE_SOON}
    assert at_close.id not in found and tuesday.id not in found


def test_a_returned_dossier_is_past_sla_only_if_it_was_late_when_handed_back(db_ctx) -> None:  # noqa: ANN001, ARG001
    now = wib(9, 10)
    returned_late = place(due=wib(7, 12), status=DossierStatus.RETURNED.value, returned_at=wib(8, 9))
    returned_in_time = place(due=wib(7, 12), status=DossierStatus.RETURNED.value, returned_at=wib(7, 11))
    returned_due_soon = place(due=wib(9, 12), status=DossierStatus.RETURNED.value, returned_at=wib(9, 9))
    # Alerts follow running clocks: a returned dossier waits with the applicant, its clock stopped.
    found = kinds(now)
    assert not {returned_late.id, returned_in_time.id, returned_due_soon.id} & set(found)
    assert alerts.is_past_sla("returned", wib(7, 12), wib(8, 9), now)
    assert not alerts.is_past_sla("returned", wib(7, 12), wib(7, 11), now)
    assert not alerts.is_past_sla("issued", wib(7, 12), None, now)


# --------------------------------------------------------------------------- the scan


def recipients(dossier_id: int, kind: str) -> set[int]:
    return set(db.session.scalars(select(Notification.recipient_id).where(
        Notification.dossier_id == dossier_id, Notification.kind == kind)))


def test_scan_tells_the_stage_officers_and_the_supervisors_once(db_ctx) -> None:  # noqa: ANN001, ARG001
    now = wib(7, 10)
    late = place("VERIFIKASI", due=wib(7, 9))  # Back Office's stage
    created = alerts.scan(db.session, CAL, now)
    db.session.commit()
    told = recipients(late.id, AlertKind.OVERDUE)
    assert created == len(told)
    for role in (roles.BACK_OFFICE, roles.SUPERVISOR, roles.KABID_PERIZINAN, roles.KEPALA_DINAS):
        assert user_id(role) in told, role
    for role in (roles.FRONT_OFFICE, roles.TIM_TEKNIS, roles.KASI_PERIZINAN, roles.ARSIPARIS, roles.ADMIN):
        assert user_id(role) not in told, role

    assert alerts.scan(db.session, CAL, now) == 0
    assert alerts.scan(db.session, CAL, now + dt.timedelta(minutes=5)) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == created


def test_due_soon_then_overdue_is_a_second_notification(db_ctx) -> None:  # noqa: ANN001, ARG001
    dossier = place("PEMERIKSAAN_LAPANGAN", due=wib(7, 12))  # Tim Teknis's stage
    first = alerts.scan(db.session, CAL, wib(7, 10))
    assert first > 0 and user_id(roles.TIM_TEKNIS) in recipients(dossier.id, AlertKind.DUE_SOON)
    assert user_id(roles.BACK_OFFICE) not in recipients(dossier.id, AlertKind.DUE_SOON)
    second = alerts.scan(db.session, CAL, wib(7, 13))
    db.session.commit()
    assert second == first
    assert recipients(dossier.id, AlertKind.OVERDUE) == recipients(dossier.id, AlertKind.DUE_SOON)
    # A resume that moves the promise, then a new miss: a new event.
    db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(due_at=wib(8, 12)))
    assert alerts.scan(db.session, CAL, wib(8, 13)) == first


def test_an_inactive_officer_is_not_told(db_ctx) -> None:  # noqa: ANN001, ARG001
    place("VERIFIKASI", due=wib(7, 9))
    officer = user_id(roles.BACK_OFFICE)
    db.session.execute(update(ACCOUNT_TABLE).where(ACCOUNT_TABLE.c.id == officer).values(active=False))
    try:
        alerts.scan(db.session, CAL, wib(7, 10))
        assert alerts.unread_count(db.session, officer) == 0
        assert alerts.unread_count(db.session, user_id(roles.SUPERVISOR)) == 1
    finally:
        db.session.rollback()


def test_mark_read_touches_only_ones_own_notifications(db_ctx) -> None:  # noqa: ANN001, ARG001
    place("VERIFIKASI", due=wib(7, 9))
    place("VERIFIKASI", due=wib(7, 9, 30))
    alerts.scan(db.session, CAL, wib(7, 10))
    mine, theirs = user_id(roles.BACK_OFFICE), user_id(roles.SUPERVISOR)
    my_ids = [row.id for row in alerts.notifications_of(db.session, mine, limit=10)]
    their_ids = [row.id for row in alerts.notifications_of(db.session, theirs, limit=10)]
    assert len(my_ids) == len(their_ids) == 2 and my_ids[0] > my_ids[1]  # newest first
    assert alerts.mark_read(db.session, mine, [my_ids[0], *their_ids], wib(7, 11)) == 1
    assert alerts.unread_count(db.session, mine) == 1
    assert alerts.unread_count(db.session, theirs) == 2
    assert alerts.mark_read(db.session, mine, None, wib(7, 11)) == 1
    assert alerts.unread_count(db.session, mine) == 0 and alerts.unread_count(db.session, theirs) == 2


# --------------------------------------------------------------------------- the bell and the page


def _scan_now() -> None:
    alerts.scan(db.session, CAL, dt.datetime.now(dt.UTC))
    db.session.commit()


def test_the_bell_reads_the_officers_unread_count_after_the_page(app, web_db, login_as) -> None:  # noqa: ANN001, ARG001
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        place("VERIFIKASI", due=now - dt.timedelta(hours=1))
        place("VERIFIKASI", due=now - dt.timedelta(hours=2))
        _scan_now()
    back_office = login_as(roles.BACK_OFFICE)
    statements, page = statements_of(app, back_office, "/")
    assert 'id="notification-bell"' in page and "loket/bell.js" in page
    assert not [s for s in statements if "FROM notification" in s], "a page spends no statement on the bell"
    statements, answer = statements_of(app, back_office, "/notifikasi/jumlah")
    assert json.loads(answer) == {"unread": 2}
    assert len([s for s in statements if "FROM notification" in s]) == 1
    # An officer with nothing unread gets 0; a visitor has no bell and no count.
    assert login_as(roles.ARSIPARIS).get("/notifikasi/jumlah").json == {"unread": 0}
    statements, page = statements_of(app, login_as(None), "/login/")
    assert 'id="notification-bell"' not in page
    assert not [s for s in statements if "notification" in s]
    assert login_as(None).get("/notifikasi/jumlah").status_code in (302, 401, 403)


def test_the_notifications_page_lists_mine_and_marks_them_read(app, web_db, login_as) -> None:  # noqa: ANN001, ARG001
    with app.app_context():
        late = place("VERIFIKASI", due=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        late_id, receipt = late.id, late.receipt_number
        _scan_now()
        supervisor, officer = user_id(roles.SUPERVISOR), user_id(roles.BACK_OFFICE)
        theirs = db.session.scalar(select(Notification.id).where(Notification.recipient_id == supervisor))
    client = login_as(roles.BACK_OFFICE)
    page = page_text(client.get("/notifikasi/"))
    listed = re.search(r'<table[^>]*id="notification-list".*?</table>', page, re.S).group(0)
    assert receipt in listed and f"/dossierview/show/{late_id}" in listed
    assert "<strong>" in listed and "Melewati SLA" in listed
    live = re.search(r'<table[^>]*id="at-risk-list".*?</table>', page, re.S).group(0)
    assert receipt in live

    def unread(user: int) -> int:
        with app.app_context():
            return alerts.unread_count(db.session, user)

    token = csrf_token(client, "/notifikasi/")
    response = client.post("/notifikasi/read", data={"id": str(theirs), "csrf_token": token})
    assert response.status_code == 302
    assert unread(supervisor) == 1 and unread(officer) == 1
    response = client.post("/notifikasi/read", data={"id": "abc", "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and "Pilih notifikasi" in page_text(response)
    assert client.post("/notifikasi/read", data={"all": "1"}).status_code == 400  # no CSRF token
    assert unread(officer) == 1
    client.post("/notifikasi/read", data={"all": "1", "csrf_token": token})
    assert unread(officer) == 0 and unread(supervisor) == 1
    page = page_text(client.get("/notifikasi/"))
    assert "<strong>" not in re.search(r'<table[^>]*id="notification-list".*?</table>', page, re.S).group(0)


def test_the_at_risk_list_is_the_officers_stages_and_everything_for_supervisors(app, web_db, login_as) -> None:  # noqa: ANN001, ARG001
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        back_office = place("VERIFIKASI", due=now - dt.timedelta(hours=1)).receipt_number
        field = place("PEMERIKSAAN_LAPANGAN", due=now - dt.timedelta(hours=1)).receipt_number
    page = page_text(login_as(roles.TIM_TEKNIS).get("/notifikasi/"))
    assert field in page and back_office not in page
    page = page_text(login_as(roles.SUPERVISOR).get("/notifikasi/"))
    assert field in page and back_office in page


def test_the_notifications_page_is_refused_to_visitors(app, login_as) -> None:  # noqa: ANN001, ARG001
    response = login_as(None).get("/notifikasi/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login_as(None).post("/notifikasi/read", data={"all": "1"}).status_code in (302, 400)


# --------------------------------------------------------------------------- grid, page, register


def _grid(client, flt: int) -> set[str]:  # noqa: ANN001
    return _grid_url(client, f"/dossierview/list/?_flt_{flt}_due_at=1")


def _grid_url(client, url: str) -> set[str]:  # noqa: ANN001
    response = client.get(url)
    assert response.status_code == 200
    return set(re.findall(r"IPK-\d\d-[0-9A-Z]+", page_text(response)))


def test_grid_filters_past_sla_and_due_soon(app, web_db, login_as) -> None:  # noqa: ANN001, ARG001
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        hour = dt.timedelta(hours=1)
        late = place(due=now - hour).receipt_number
        returned_late = place(due=now - 3 * hour, status="returned", returned_at=now - 2 * hour).receipt_number
        place(due=now - 2 * hour, status="returned", returned_at=now - 3 * hour)  # returned in time
        soon = place(due=now + dt.timedelta(minutes=5)).receipt_number
        place(due=now + dt.timedelta(days=30))  # on time
        place(due=now - hour, status="issued")  # decided
    client = login_as(roles.SUPERVISOR)
    everything = client.get("/dossierview/list/")
    assert len(set(re.findall(r"IPK-\d\d-[0-9A-Z]+", page_text(everything)))) == 6
    assert _grid(client, PAST_SLA) == {late, returned_late}
    assert _grid(client, DUE_SOON) == {soon}
    # Offered in the grid's search form (FAB's filter list, by index), labelled in Indonesian.
    page = client.get("/dossierview/list/").get_data(as_text=True)
    offered = json.loads(re.search(r'"due_at": (\[[^\]]*\])', page).group(1))
    assert offered[PAST_SLA] == "Melewati SLA" and offered[DUE_SOON] == "Jatuh tempo ≤ 1 hari kerja"
    # and one click away, above the grid
    button = re.search(r'<a[^>]*href="([^"]+)"[^>]*id="past-sla-filter"[^>]*>Melewati SLA<', page)
    assert button and _grid_url(client, html.unescape(button.group(1))) == {late, returned_late}


def test_the_dossier_page_marks_past_sla(app, web_db, login_as) -> None:  # noqa: ANN001, ARG001
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        late = place(due=now - dt.timedelta(hours=1)).id
        returned_in_time = place(due=now - dt.timedelta(hours=1), status="returned",
                                 returned_at=now - dt.timedelta(hours=2)).id
    client = login_as(roles.SUPERVISOR)
    page = page_text(client.get(f"/dossierview/show/{late}"))
    assert re.search(r'id="dossier-past-sla"[^>]*>Melewati SLA<', page)
    page = page_text(client.get(f"/dossierview/show/{returned_in_time}"))
    assert 'id="dossier-clock"' in page and 'id="dossier-past-sla"' not in page


def test_the_register_marks_past_sla_at_the_reports_time(db_ctx) -> None:  # noqa: ANN001, ARG001
    now = wib(9, 10)
    late = place(due=wib(8, 12))
    on_time = place(due=wib(10, 12))
    returned_late = place(due=wib(7, 12), status="returned", returned_at=wib(8, 9))
    issued = place(due=wib(7, 12), status="issued")
    ids = [late.id, on_time.id, returned_late.id, issued.id]
    population = select(Dossier.id).where(Dossier.id.in_(ids)).order_by(Dossier.id)
    _, rows = register_rows(db.session, population, CAL, "Asia/Jakarta", now, SummaryCollector(), lambda *_: None)
    rows = list(rows)
    assert [row.past_sla for row in rows] == [True, False, True, False]
    out = io.BytesIO()
    write_register(out, RegisterMeta("REGISTER BERKAS DITERIMA", "Desember 2026", "Kantor"), rows, [])
    sheet = load_workbook(io.BytesIO(out.getvalue()))["Register"]
    column = REGISTER_HEADERS.index("Melewati SLA") + 1
    assert [sheet.cell(row=r, column=column).value for r in range(2, 6)] == ["Ya", None, "Ya", None]


# --------------------------------------------------------------------------- the digest


class FakeOutbox:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, session, **kwargs) -> None:  # noqa: ANN001, ANN003
        assert session is db.session
        self.calls.append(kwargs)


def oversight_emails() -> set[str]:
    return {email for _, email in alerts.oversight_recipients(db.session)}


def test_the_digest_is_queued_once_per_working_day_from_seven(db_ctx) -> None:  # noqa: ANN001, ARG001
    late = place(due=wib(4, 12), company=make_company(name="PT <Cepat> & Selamat"))
    outbox = FakeOutbox()

    def queue(now: dt.datetime) -> int:
        return alerts.queue_digest(db.session, CAL, now, base_url="https://loket.example/", enqueue=outbox)

    assert queue(wib(6, 8)) == 0  # Sunday
    assert queue(wib(7, 6, 59)) == 0  # Monday, before 07.00 WIB
    assert outbox.calls == []
    sent = queue(wib(7, 7))
    assert sent == len(outbox.calls) == len(oversight_emails()) >= 3
    assert {call["recipient"] for call in outbox.calls} == oversight_emails()
    assert f"{role_username(roles.SUPERVISOR)}@uji.invalid" in oversight_emails()
    assert queue(wib(7, 7, 1)) == 0 and queue(wib(7, 15)) == 0
    assert len(outbox.calls) == sent
    assert db.session.get(DashboardState, 1).digest_day == dt.date(2026, 12, 7)

    call = outbox.calls[0]
    assert call["subject"] == "Ringkasan harian Loket — 7 Desember 2026"
    assert call["dedup_key"].startswith("digest:2026-12-07:")
    link = f"https://loket.example/dossierview/show/{late.id}"
    assert late.receipt_number in call["body_text"] and link in call["body_text"]
    assert "Verifikasi Berkas: 1 / 0" in call["body_text"]
    assert f'<a href="{link}">{late.receipt_number}</a>' in call["body_html"]
    assert "PT &lt;Cepat&gt; &amp; Selamat" in call["body_html"] and "<Cepat>" not in call["body_html"]
    assert "PT <Cepat> & Selamat" in call["body_text"]

    assert queue(wib(25, 8)) == 0  # Christmas: a day off
    assert queue(wib(8, 7)) == sent  # the next working day
    assert len({c["dedup_key"] for c in outbox.calls}) == 2 * sent


def test_an_address_the_outbox_refuses_does_not_stop_the_others(db_ctx) -> None:  # noqa: ANN001, ARG001
    place(due=wib(4, 12))
    refused = f"{role_username(roles.SUPERVISOR)}@uji.invalid"
    outbox = FakeOutbox()

    def picky(session, **kwargs) -> None:  # noqa: ANN001, ANN003
        if kwargs["recipient"] == refused:
            raise ValueError("not one address")
        outbox(session, **kwargs)

    queued = alerts.queue_digest(db.session, CAL, wib(7, 7), base_url="https://loket.example", enqueue=picky)
    assert queued == len(outbox.calls) == len(oversight_emails()) - 1
    assert refused not in {call["recipient"] for call in outbox.calls}


def test_the_digest_goes_through_the_real_outbox(db_ctx) -> None:  # noqa: ANN001, ARG001
    outbox = pytest.importorskip("app.outbox")
    place(due=wib(4, 12))
    sent = alerts.queue_digest(db.session, CAL, wib(7, 7), base_url="http://loket", enqueue=outbox.enqueue)
    db.session.commit()
    assert sent == db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= 3
    assert alerts.queue_digest(db.session, CAL, wib(7, 8), base_url="http://loket", enqueue=outbox.enqueue) == 0


# --------------------------------------------------------------------------- two consumers at once (PostgreSQL)


def _in_thread(work) -> tuple[threading.Thread, dict]:  # noqa: ANN001
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.skipif(not POSTGRES_URL, reason="concurrent writers need PostgreSQL")
def test_two_scans_at_once_tell_nobody_twice(db_ctx) -> None:  # noqa: ANN001, ARG001
    place(due=wib(7, 9))
    with Session(db.engine) as first, Session(db.engine) as second:
        created = alerts.scan(first, CAL, wib(7, 10))
        assert created > 0

        def other() -> int:
            found = alerts.scan(second, CAL, wib(7, 10))
            second.commit()
            return found

        thread, result = _in_thread(other)
        time.sleep(0.5)
        assert thread.is_alive()  # waits on the first scan's rows
        first.commit()
        thread.join(10)
    assert result == {"value": 0}
    assert db.session.scalar(select(func.count()).select_from(Notification)) == created


@pytest.mark.skipif(not POSTGRES_URL, reason="concurrent writers need PostgreSQL")
def test_two_consumers_queue_one_digest(db_ctx) -> None:  # noqa: ANN001, ARG001
    outbox = FakeOutbox()
    with Session(db.engine) as first, Session(db.engine) as second:
        sent = alerts.queue_digest(first, CAL, wib(7, 7), base_url="http://loket", enqueue=lambda s, **kw: None)
        assert sent >= 3

        def other() -> int:
            found = alerts.queue_digest(second, CAL, wib(7, 7), base_url="http://loket",
                                        enqueue=lambda s, **kw: outbox.calls.append(kw))
            second.commit()
            return found

        thread, result = _in_thread(other)
        time.sleep(0.5)
        assert thread.is_alive()  # waits on the first one's claim of the day
        first.commit()
        thread.join(10)
    assert result == {"value": 0} and outbox.calls == []

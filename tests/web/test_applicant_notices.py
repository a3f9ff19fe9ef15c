"""The applicant hears of their dossier by e-mail and WhatsApp: the receipt, a return with its reason and missing
papers, the permit issued and ready to collect. Real moves, the scan (app.portal.notices), then the outbox sends
to a local SMTP server and a local HTTP WhatsApp gateway; nobody is told twice, nothing is lost while one is down."""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import DashboardState, Dossier, OutboxMessage, OutboxStatus, Permit, RequirementType, Stage, StageEvent
from app.outbox import Channel, enqueue, send_pending
from app.portal import notices
from app.printing import Office as PaperOffice
from app.printing import describe_permits
from app.sop.calendar import WorkingCalendar, as_utc
from app.sop.machine import Action, move
from app.whatsapp import MAX_TEXT_LENGTH
from tests.conftest import role_username
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import page_text

pytest_plugins = ("tests.smtp", "tests.wa_gateway")
pytestmark = pytest.mark.usefixtures("clean_db", "empty_outbox")

BASE = "https://loket.contoh.go.id"
PHONE, PHONE_SENT = "0812-3456-7890", "+6281234567890"
BOTH = (Channel.EMAIL, Channel.WHATSAPP)
CALENDAR = WorkingCalendar()


@pytest.fixture()
def both_app(make_gateway_app: Callable[..., Flask], wa_gateway, smtp_server) -> Flask:  # noqa: ANN001
    """An app sending e-mail to the local SMTP server and WhatsApp to the local gateway."""
    return make_gateway_app(wa_gateway.url, smtp_url=smtp_server.url)


def _office(app: Flask) -> notices.Office:
    return notices.Office.from_config(app.config, BASE)


def _scan(app: Flask, now: dt.datetime | None = None, **kwargs) -> notices.ScanReport:  # noqa: ANN003
    with app.app_context():
        return notices.scan(db.session, now or dt.datetime.now(dt.UTC), office=_office(app),
                            channels=kwargs.pop("channels", BOTH), enqueue=enqueue, **kwargs)


def _user_id(app: Flask, role: str) -> int:
    return app.appbuilder.sm.find_user(username=role_username(role)).id


def _opened(app: Flask, *, email: str | None = "pemohon@contoh.co.id", phone: str | None = PHONE,
            stage_code: str | None = None, verified: tuple[str, ...] = (), ago: dt.timedelta = dt.timedelta(minutes=1),
            ) -> tuple[int, str]:
    """A dossier opened at the counter `ago` before now, its applicant reachable as given: (id, receipt number)."""
    with app.app_context():
        applicant = make_applicant(make_company(), email=email, phone=phone)
        dossier = make_dossier(applicant.company, applicant, submitted_at=dt.datetime.now(dt.UTC) - ago,
                               stage_code=stage_code, verified=verified)
        return dossier.id, dossier.receipt_number


def _move(app: Flask, dossier_id: int, action: Action, role: str, note: str | None = None) -> None:
    with app.test_request_context():
        describe = describe_permits(PaperOffice.from_config(app.config, BASE))
        outcome = move(db.session, dossier_id, action, actor_id=_user_id(app, role), roles={role}, note=note,
                       now=dt.datetime.now(dt.UTC), calendar=CALENDAR, describe_permit=describe)
        assert outcome.moved, outcome.reasons
        db.session.commit()


def _mails(smtp_server, subject_part: str) -> list:  # noqa: ANN001
    return [mail for mail in smtp_server.messages if subject_part in mail["Subject"]]


def _body(mail) -> str:  # noqa: ANN001
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _texts(wa_gateway, part: str) -> list[dict]:  # noqa: ANN001
    return [r.json for r in wa_gateway.requests if part in r.json["text"]]


def _outbox(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ---------------------------------------------------------------------------- receipt


def test_a_dossier_opened_at_the_counter_sends_the_receipt_by_mail_and_whatsapp_once(app, both_app, smtp_server,
                                                                                   wa_gateway):
    dossier_id, receipt = _opened(app)
    assert _scan(app).queued == 2
    assert send_pending(both_app).sent == 2

    (mail,) = smtp_server.messages
    assert mail["To"] == "pemohon@contoh.co.id" and smtp_server.envelopes[0].rcpt_tos == ["pemohon@contoh.co.id"]
    assert receipt in mail["Subject"] and "Tanda terima" in mail["Subject"] and "Izin Pool Kendaraan" in mail["Subject"]
    body = _body(mail)
    with app.app_context():
        due = db.session.get(Dossier, dossier_id).due_at
    promised = as_utc(due).astimezone(CALENDAR.tz)
    assert f"Nomor pendaftaran: {receipt}" in body and "Jenis izin: Izin Pool Kendaraan" in body
    assert f"pukul {promised:%H.%M} WIB" in body.split("Janji penyelesaian:")[1].splitlines()[0]
    assert f"{BASE}/pemohon/berkas/{dossier_id}" in body and f"{BASE}/status?nomor={receipt}" in body
    html = mail.get_body(("html",)).get_content()
    assert f'<a href="{BASE}/pemohon/berkas/{dossier_id}">' in html

    (sent,) = [r.json for r in wa_gateway.requests]
    assert sent["to"] == PHONE_SENT and receipt in sent["text"] and f"{BASE}/status?nomor={receipt}" in sent["text"]
    assert re.fullmatch(r"loket-\d+", sent["reference"])

    # A second scan (or a restart) tells nobody again.
    assert _scan(app).queued == 0
    assert send_pending(both_app).sent == 0
    assert len(smtp_server.messages) == 1 and len(wa_gateway.requests) == 1
    keys = {m.dedup_key for m in _outbox(app)}
    assert len(keys) == 2 and all(k.startswith("pemohon:receipt:") for k in keys)


def test_an_applicant_without_email_gets_whatsapp_only(app, both_app, smtp_server, wa_gateway):
    _, receipt = _opened(app, email=None)
    assert _scan(app).queued == 1
    send_pending(both_app)
    assert smtp_server.messages == []
    (sent,) = _texts(wa_gateway, receipt)
    assert sent["to"] == PHONE_SENT


def test_a_phone_the_outbox_refuses_loses_whatsapp_for_that_applicant_only(app, both_app, smtp_server, wa_gateway,
                                                                          caplog):
    _, wrong = _opened(app, email="salah@contoh.co.id", phone="12345")
    _, right = _opened(app, email="benar@contoh.co.id")
    with caplog.at_level(logging.WARNING, logger="app.portal.notices"):
        assert _scan(app).queued == 3
    assert any(wrong in record.getMessage() and "whatsapp" in record.getMessage() for record in caplog.records)
    send_pending(both_app)
    assert {mail["To"] for mail in smtp_server.messages} == {"salah@contoh.co.id", "benar@contoh.co.id"}
    assert [r["to"] for r in _texts(wa_gateway, right)] == [PHONE_SENT] and _texts(wa_gateway, wrong) == []


# ---------------------------------------------------------------------------- return


def test_a_return_tells_the_reason_the_missing_papers_and_what_to_do(app, both_app, smtp_server, wa_gateway):
    dossier_id, receipt = _opened(app, stage_code="TANDA_TERIMA_BERKAS", verified=("SURAT_PERMOHONAN",))
    _move(app, dossier_id, Action.RETURN, "Front Office", note="Denah lokasi tidak terbaca")
    assert _scan(app).queued == 4  # receipt and return, two channels each
    send_pending(both_app)

    (mail,) = _mails(smtp_server, "dikembalikan")
    assert receipt in mail["Subject"] and mail["To"] == "pemohon@contoh.co.id"
    body = _body(mail)
    assert "Alasan: Denah lokasi tidak terbaca" in body
    missing = body.split("Kekurangan:\n")[1].split("\n\n")[0].splitlines()
    assert "- Dokumen belum ada atau belum diverifikasi: KTP penanggung jawab" in missing
    assert not any("Surat permohonan" in line for line in missing), "a verified paper is not asked for"
    assert "loket Front Office" in body and f"{BASE}/pemohon/berkas/{dossier_id}" in body
    assert app.config["OFFICE_HOURS"] in body

    (sent,) = _texts(wa_gateway, "dikembalikan")
    assert sent["to"] == PHONE_SENT and "Denah lokasi tidak terbaca" in sent["text"]
    assert "KTP penanggung jawab" in sent["text"]


def test_a_return_listing_many_papers_still_fits_one_whatsapp_message(app):
    notice = notices.Notice(
        event_id=1, kind=notices.Kind.RETURN, occurred_at=dt.datetime.now(dt.UTC),
        note="Berkas belum lengkap" + notices.MISSING_MARK + "; ".join(f"Dokumen nomor {n} " + "x" * 200
                                                                       for n in range(60)),
        dossier_id=1, receipt_number="IPK-26-AAAAAA", online=False, due_at=None, permit_type="Izin Pool Kendaraan",
        permit_number=None, full_name="Budi", email=None, phone=PHONE, has_account=True)
    message = notices.compose(notice, _office(app))
    assert len(message.text) <= MAX_TEXT_LENGTH
    assert "Dokumen nomor 0 " in message.text and "lainnya" in message.text
    assert "Kirim kelengkapan" in message.text, "what to do survives the cut"


# ---------------------------------------------------------------------------- issued, ready to collect


def test_the_handover_stage_is_read_from_the_sop(app):
    with app.app_context():
        numbering, handover = notices.told_stages(db.session)
        codes = dict(db.session.execute(select(Stage.id, Stage.code)).all())
    assert {codes[i] for i in numbering} == {"PENOMORAN_CETAK"} and {codes[i] for i in handover} == {"PENYERAHAN"}


def test_the_numbered_permit_and_the_handover_each_reach_the_applicant(app, both_app, smtp_server, wa_gateway):
    with app.app_context():
        every = tuple(db.session.scalars(select(RequirementType.code)))
    dossier_id, receipt = _opened(app, stage_code="PENANDATANGANAN", verified=every)
    _move(app, dossier_id, Action.ADVANCE, "Kepala Dinas")
    _scan(app)
    send_pending(both_app)
    with app.app_context():
        number = db.session.scalar(select(Permit.number).where(Permit.dossier_id == dossier_id))
    (issued,) = _mails(smtp_server, "Izin terbit")
    assert number in issued["Subject"] and receipt in issued["Subject"]
    assert f"Nomor izin: {number}" in _body(issued)
    assert _mails(smtp_server, "siap diambil") == [], "numbered is not yet at the counter"
    (sent,) = _texts(wa_gateway, "telah terbit")
    assert number in sent["text"] and sent["to"] == PHONE_SENT

    _move(app, dossier_id, Action.ADVANCE, "Back Office")  # into PENYERAHAN
    _scan(app)
    send_pending(both_app)
    (ready,) = _mails(smtp_server, "siap diambil")
    assert receipt in ready["Subject"]
    body = _body(ready)
    assert app.config["OFFICE_HOURS"] in body and app.config["LETTERHEAD_ADDRESS"] in body and number in body
    (sent,) = _texts(wa_gateway, "siap diambil di loket Front Office")
    assert app.config["OFFICE_HOURS"] in sent["text"]
    assert len(smtp_server.messages) == 3 and len(wa_gateway.requests) == 3  # receipt, issued, ready


# ---------------------------------------------------------------------------- never lost, never twice


def test_a_mail_server_that_is_down_keeps_the_mail_until_it_is_back(app, both_app, smtp_server, wa_gateway):
    _, receipt = _opened(app)
    smtp_server.stop()
    _scan(app)
    report = send_pending(both_app)
    assert report.sent == 1 and report.retried == 1  # WhatsApp went, the mail waits
    mail = next(m for m in _outbox(app) if m.channel == Channel.EMAIL)
    assert mail.status == OutboxStatus.PENDING and mail.attempts == 1 and mail.last_error
    assert len(_texts(wa_gateway, receipt)) == 1

    smtp_server.start()
    assert send_pending(both_app, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).sent == 1
    (arrived,) = smtp_server.messages
    assert receipt in arrived["Subject"]
    assert _scan(app).queued == 0 and len(wa_gateway.requests) == 1


def test_a_move_that_commits_behind_the_mark_is_still_told(app, both_app, smtp_server):
    now = dt.datetime.now(dt.UTC)
    _scan(app, now)  # the mark is now
    # A counter's transaction stamped a minute before the scan, committed after it.
    dossier_id, receipt = _opened(app, phone=None, ago=dt.timedelta(minutes=1))
    assert _scan(app, now + dt.timedelta(minutes=1)).queued == 1
    send_pending(both_app, now + dt.timedelta(minutes=1))
    assert [m["Subject"] for m in smtp_server.messages] == [f"Tanda terima berkas {receipt} – Izin Pool Kendaraan"]
    with app.app_context():
        mark = db.session.get(DashboardState, notices.STATE_ID).through
    assert as_utc(mark) == now + dt.timedelta(minutes=1)


def test_history_from_before_the_first_scan_and_backdated_imports_are_not_told(app):
    _opened(app, ago=dt.timedelta(days=30))  # an old dossier, or one a spreadsheet import opened with its old date
    assert _scan(app).queued == 0
    _opened(app, ago=dt.timedelta(days=2))
    assert _scan(app).queued == 0
    assert _outbox(app) == []


def test_the_scan_commits_chunk_by_chunk_and_tells_each_event_once(app):
    made = [_opened(app, ago=dt.timedelta(seconds=30 + n)) for n in range(5)]
    report = _scan(app, chunk=2)
    assert (report.events, report.queued) == (5, 10)
    assert _scan(app, chunk=2).queued == 0
    keys = [m.dedup_key for m in _outbox(app)]
    assert len(keys) == len(set(keys)) == 10
    assert {m.subject.split()[3] for m in _outbox(app)} == {receipt for _, receipt in made}


def test_two_consumers_scanning_at_once_tell_each_event_once(app):
    """The job's lock keeps scans apart; without it (two queues, a manual run) the dedup keys still do."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent writers need PostgreSQL")
    made = [_opened(app, ago=dt.timedelta(seconds=10 + n)) for n in range(30)]
    now, start = dt.datetime.now(dt.UTC), threading.Barrier(2)
    reports: list[notices.ScanReport] = []

    def consumer() -> None:
        start.wait()
        reports.append(_scan(app, now, chunk=7))

    threads = [threading.Thread(target=consumer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and sum(r.queued for r in reports) == 60
    keys = [m.dedup_key for m in _outbox(app)]
    assert len(keys) == len(set(keys)) == 2 * len(made)


def test_the_scan_reads_a_range_of_the_time_index_not_the_table(app):
    """The events' query, as the scan sends it, searches a time range of a stage_event index (SQLite's plan):
    of (occurred_at, id), or of (action, occurred_at, id) per action; never the whole table."""
    _opened(app)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan is read on SQLite; PostgreSQL's depends on its statistics")
        sent: list[tuple[str, tuple]] = []

        def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202, ARG001, PLR0913
            if "FROM stage_event" in statement:
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            notices.scan(db.session, dt.datetime.now(dt.UTC), office=_office(app), channels=BOTH, enqueue=enqueue)
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        (statement, parameters), *_ = sent
        driver = db.session.connection().connection.driver_connection
        plan = " ".join(str(row[-1]) for row in driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
        db.session.rollback()
    assert re.search(r"SEARCH stage_event USING INDEX ix_stage_event_\w+ \([^)]*occurred_at>\?", plan), plan
    assert "SCAN stage_event" not in plan, plan


# ---------------------------------------------------------------------------- the periodic job, Admin's grid


def _run_job(app: Flask) -> None:
    huey = app.extensions["loket_jobs"].huey
    huey.execute(huey._registry.string_to_task("app.jobs.queue.loket.notify_applicants")())  # noqa: SLF001


def test_the_periodic_job_queues_on_the_channels_the_office_set_up_once(app, make_gateway_app, smtp_server):
    _, receipt = _opened(app)
    mail_only = make_gateway_app(None, smtp_url=smtp_server.url)
    _run_job(mail_only)
    _run_job(mail_only)
    assert [(m.channel, m.recipient) for m in _outbox(app)] == [(Channel.EMAIL, "pemohon@contoh.co.id")]
    send_pending(mail_only)
    (mail,) = smtp_server.messages
    assert receipt in mail["Subject"]
    with app.app_context():
        assert db.session.get(DashboardState, notices.STATE_ID).through is not None


def test_admin_sees_the_applicants_messages_with_a_readable_subject(app, login_as):
    _, receipt = _opened(app)
    _scan(app)
    page = page_text(login_as("Admin").get("/outboxview/list/"))
    assert f"Tanda terima berkas {receipt} – Izin Pool Kendaraan" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        assert db.session.scalar(select(func.count()).select_from(StageEvent)) == 1

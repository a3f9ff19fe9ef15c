"""The mail outbox against a real SMTP server (aiosmtpd, tests/smtp.py): delivered with its parts,
kept and retried while the server is down, sent once by concurrent senders, failed after its last
try and sent again by Admin; and the SMTP URL that configures it."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db
from app.mail import smtp_settings
from app.models import OutboxMessage, OutboxStatus
from app.outbox import MAX_ATTEMPTS, SendReport, enqueue, flask_mail_sender, send_due, send_pending
from app.sop.calendar import as_utc
from config import TestConfig
from tests.conftest import csrf_token
from tests.web.helpers import indonesian, page_text

# The fixtures smtp_server (a real SMTP server) and mail_app (an app sending to it).
pytest_plugins = ("tests.smtp",)
pytestmark = pytest.mark.usefixtures("empty_outbox")

NOW = dt.datetime(2026, 12, 7, 0, 5, tzinfo=dt.UTC)  # Monday 07:05 WIB
SUBJECT = "Ringkasan harian 7 Desember 2026: 3 berkas melewati SLA"


def _queue(app, **kwargs) -> int:  # noqa: ANN001, ANN003
    values = {"recipient": "kabid@dinas.example", "subject": SUBJECT, "body_text": "Berkas terlambat: 3",
              "body_html": "<p>Berkas <b>terlambat</b>: 3</p>", "now": NOW, **kwargs}
    with app.app_context():
        message = enqueue(db.session, **values)
        db.session.commit()
        return message.id


def _row(app, message_id: int) -> OutboxMessage:  # noqa: ANN001
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


# ---------------------------------------------------------------------------- delivery and retries


def test_a_queued_message_reaches_the_mail_server_with_its_text_and_html(mail_app, smtp_server):
    message_id = _queue(mail_app)
    assert send_pending(mail_app, NOW) == SendReport(sent=1)

    (mail,) = smtp_server.messages
    assert mail["To"] == "kabid@dinas.example" and mail["From"] == mail_app.config["MAIL_FROM"]
    assert mail["Subject"] == SUBJECT
    assert mail.get_body(("plain",)).get_content().strip() == "Berkas terlambat: 3"
    assert mail.get_body(("html",)).get_content().strip() == "<p>Berkas <b>terlambat</b>: 3</p>"
    assert smtp_server.envelopes[0].rcpt_tos == ["kabid@dinas.example"]
    row = _row(mail_app, message_id)
    assert row.status == OutboxStatus.SENT and row.sent_at is not None and row.claimed_until is None
    assert send_pending(mail_app, NOW + dt.timedelta(hours=1)) == SendReport(), "a sent message is not sent again"
    assert len(smtp_server.messages) == 1


def test_a_down_mail_server_loses_nothing_and_the_message_leaves_once_it_is_back(mail_app, smtp_server):
    message_id = _queue(mail_app, body_html=None)
    smtp_server.stop()
    assert send_pending(mail_app, NOW) == SendReport(retried=1)
    row = _row(mail_app, message_id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert as_utc(row.next_attempt_at) >= NOW + dt.timedelta(minutes=1)

    smtp_server.start()
    assert send_pending(mail_app, NOW + dt.timedelta(seconds=30)) == SendReport(), "not due yet"
    assert smtp_server.messages == []
    assert send_pending(mail_app, NOW + dt.timedelta(minutes=2)) == SendReport(sent=1)
    assert send_pending(mail_app, NOW + dt.timedelta(minutes=3)) == SendReport()
    (mail,) = smtp_server.messages
    assert mail["Subject"] == SUBJECT and not mail.is_multipart()
    assert _row(mail_app, message_id).status == OutboxStatus.SENT


def test_an_unreachable_server_ends_the_round_and_leaves_the_other_messages_untouched(mail_app, smtp_server):
    first = _queue(mail_app)
    second = _queue(mail_app, now=NOW + dt.timedelta(seconds=1))
    smtp_server.stop()
    assert send_pending(mail_app, NOW + dt.timedelta(seconds=5)) == SendReport(retried=1)
    assert (_row(mail_app, first).attempts, _row(mail_app, second).attempts) == (1, 0)


def test_the_last_failed_try_leaves_the_message_failed_after_growing_waits(mail_app, smtp_server):
    message_id = _queue(mail_app)
    smtp_server.stop()
    now, waits = NOW, []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = send_pending(mail_app, now)
        assert report == (SendReport(failed=1) if attempt == MAX_ATTEMPTS else SendReport(retried=1))
        row = _row(mail_app, message_id)
        assert row.attempts == attempt
        waits.append(round((as_utc(row.next_attempt_at) - now).total_seconds() / 60))
        now = as_utc(row.next_attempt_at)
    assert waits[:-1] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert _row(mail_app, message_id).status == OutboxStatus.FAILED
    smtp_server.start()
    assert send_pending(mail_app, now + dt.timedelta(days=1)) == SendReport(), "a failed message waits for Admin"
    assert smtp_server.messages == []


@pytest.mark.parametrize("smtp_server", [("loket@landak", "p@ss/w:rd")], indirect=True)
def test_the_mail_server_login_uses_the_decoded_user_and_password(mail_app, smtp_server):
    assert "p%40ss%2Fw%3Ard" in mail_app.config["SMTP_URL"]
    _queue(mail_app)
    assert send_pending(mail_app, NOW) == SendReport(sent=1)
    assert [e.login for e in smtp_server.envelopes] == ["loket@landak"]


@pytest.mark.parametrize("smtp_server", [("loket", "rahasia")], indirect=True)
@pytest.mark.parametrize("mail_app", ["smtp://loket:salah@127.0.0.1:{port}"], indirect=True)
def test_a_refused_login_keeps_the_message_with_the_servers_answer(mail_app, smtp_server):
    message_id = _queue(mail_app)
    assert send_pending(mail_app, NOW) == SendReport(retried=1)
    row = _row(mail_app, message_id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and smtp_server.messages == []
    assert "SMTPAuthenticationError" in row.last_error and "salah" not in row.last_error


def test_without_a_mail_server_messages_wait_in_the_outbox(app):
    assert not app.config["SMTP_URL"]
    message_id = _queue(app)
    assert send_pending(app, NOW + dt.timedelta(days=1)) == SendReport()
    row = _row(app, message_id)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, None)


# ---------------------------------------------------------------------------- once, and only once


def test_a_dedup_key_queues_one_message_even_when_another_transaction_took_it_meanwhile(app):
    assert _queue(app, dedup_key="digest:2026-12-07:kabid")
    with app.app_context():
        assert enqueue(db.session, recipient="kabid@dinas.example", subject=SUBJECT, body_text="lagi",
                       dedup_key="digest:2026-12-07:kabid", now=NOW) is None
        db.session.rollback()
        # The caller's own work in the same transaction survives the taken key.
        with Session(db.engine) as other:
            kept = enqueue(other, recipient="kasi@dinas.example", subject="lain", body_text="lain", now=NOW)
            taken = enqueue(other, recipient="kabid@dinas.example", subject=SUBJECT, body_text="lagi",
                            dedup_key="digest:2026-12-07:kabid", now=NOW)
            assert kept is not None and taken is None
            other.commit()
        recipients = db.session.scalars(select(OutboxMessage.recipient).order_by(OutboxMessage.id)).all()
        assert recipients == ["kabid@dinas.example", "kasi@dinas.example"]


def test_two_senders_never_send_one_message_twice(mail_app, smtp_server):
    message_id = _queue(mail_app)
    others: list[SendReport] = []
    real = flask_mail_sender(mail_app)

    def send_while_another_sender_runs(message: OutboxMessage) -> None:
        with mail_app.app_context(), Session(db.engine) as other_session:
            others.append(send_due(other_session, real, NOW + dt.timedelta(minutes=1)))
        real(message)

    with mail_app.app_context():
        assert send_due(db.session, send_while_another_sender_runs, NOW) == SendReport(sent=1)
    assert others == [SendReport()], "the second sender found the message leased"
    assert len(smtp_server.messages) == 1 and _row(mail_app, message_id).status == OutboxStatus.SENT


class _Killed(BaseException):
    """A sender process killed in the middle of sending."""


def test_a_message_whose_sender_died_is_sent_by_another_when_the_lease_runs_out(mail_app, smtp_server):
    message_id = _queue(mail_app)

    def die(message: OutboxMessage) -> None:
        raise _Killed

    with mail_app.app_context(), pytest.raises(_Killed):
        send_due(db.session, die, NOW, lease=dt.timedelta(minutes=5))
    assert send_pending(mail_app, NOW + dt.timedelta(minutes=4)) == SendReport(), "the lease still holds"
    assert send_pending(mail_app, NOW + dt.timedelta(minutes=6)) == SendReport(sent=1)
    assert len(smtp_server.messages) == 1 and _row(mail_app, message_id).attempts == 0


# ---------------------------------------------------------------------------- Admin's grid


def _failed_and_sent(app) -> tuple[int, int]:  # noqa: ANN001
    failed, sent = _queue(app, recipient="gagal@dinas.example"), _queue(app, recipient="terkirim@dinas.example")
    with app.app_context():
        gave_up, delivered = db.session.get(OutboxMessage, failed), db.session.get(OutboxMessage, sent)
        gave_up.status, gave_up.attempts = OutboxStatus.FAILED, MAX_ATTEMPTS
        gave_up.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
        delivered.status, delivered.sent_at = OutboxStatus.SENT, NOW
        db.session.commit()
    return failed, sent


def _retry(client, *rowids):  # noqa: ANN001, ANN202
    token = csrf_token(client, "/resetmypassword/form")
    return client.post("/outboxview/action_post", data={"action": "retry", "rowid": list(rowids), "csrf_token": token},
                       follow_redirects=True)


def test_admin_sees_the_outbox_and_sends_a_failed_message_again(app, login_as, mail_app, smtp_server):
    failed, sent = _failed_and_sent(app)
    client = login_as("Admin")
    page = page_text(client.get("/outboxview/list/"))
    assert "gagal@dinas.example" in page and "terkirim@dinas.example" in page
    assert indonesian(app, "Outbox") in page and indonesian(app, "Send again") in page
    assert "Gagal" in page and "Terkirim" in page and "Connection refused" in page
    assert page.index("terkirim@dinas.example") < page.index("gagal@dinas.example"), "newest first"

    answer = page_text(_retry(client, failed))
    assert indonesian(app, "%(count)s message(s) will be sent again within a minute.", count=1) in answer
    row = _row(app, failed)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, MAX_ATTEMPTS)
    assert abs(as_utc(row.next_attempt_at) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert send_pending(mail_app) == SendReport(sent=1)
    assert [m["To"] for m in smtp_server.messages] == ["gagal@dinas.example"]


def test_send_again_refuses_a_sent_message_and_a_forged_id_and_changes_nothing(app, login_as):
    failed, sent = _failed_and_sent(app)
    client = login_as("Admin")
    answer = page_text(_retry(client, failed, sent))
    assert indonesian(app, "%(count)s of the chosen messages were sent already; only waiting or failed messages are "
                           "sent again. Nothing was changed.", count=1) in answer
    assert _row(app, failed).status == OutboxStatus.FAILED and _row(app, sent).status == OutboxStatus.SENT
    for forged in (str(sent + 1000), "abc", "1 OR 1=1"):
        assert _retry(client, failed, forged).status_code == 404
    assert _row(app, failed).status == OutboxStatus.FAILED


@pytest.mark.parametrize("role", ["Supervisor", "Front Office", "Kepala Dinas"])
def test_an_officer_has_no_access_to_the_outbox(app, login_as, role):
    failed, _ = _failed_and_sent(app)
    client = login_as(role)
    assert client.get("/outboxview/list/").status_code == 403
    assert client.get(f"/outboxview/show/{failed}").status_code == 403
    token = csrf_token(client, "/resetmypassword/form")
    client.post("/outboxview/action_post", data={"action": "retry", "rowid": [failed], "csrf_token": token})
    assert _row(app, failed).status == OutboxStatus.FAILED


# ---------------------------------------------------------------------------- LOKET_SMTP_URL


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.landakkab.go.id", ("mail.landakkab.go.id", 25, False, False, None, None)),
    ("smtp://loket:rahasia@10.0.0.5:2525", ("10.0.0.5", 2525, False, False, "loket", "rahasia")),
    ("smtp://loket%40landak:p%40ss%2Fw%3Ard@mail.example?starttls=1",
     ("mail.example", 587, True, False, "loket@landak", "p@ss/w:rd")),
    ("smtp://mail.example:25?starttls=0", ("mail.example", 25, False, False, None, None)),
    ("smtps://loket:rahasia@mail.example", ("mail.example", 465, False, True, "loket", "rahasia")),
    ("SMTPS://mail.example:4650/", ("mail.example", 4650, False, True, None, None)),
])
def test_the_smtp_url_gives_flask_mail_its_settings(url, expected):
    settings = smtp_settings(url)
    assert tuple(settings[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL",
                                           "MAIL_USERNAME", "MAIL_PASSWORD")) == expected


@pytest.mark.parametrize("url", [
    "mail.example:25", "http://mail.example", "smtp://", "smtp://:rahasia@mail.example",
    "smtp://loket@mail.example", "smtp://mail.example:port", "smtp://mail.example:99999",
    "smtp://mail.example?tls=1", "smtp://mail.example?starttls=ya", "smtps://mail.example?starttls=1",
    "smtp://mail.example/inbox", "smtp://loket:rahasia@[mail.example",
])
def test_an_unusable_smtp_url_is_refused_by_name_without_the_password(url):
    with pytest.raises(ValueError, match="LOKET_SMTP_URL") as refused:
        smtp_settings(url)
    assert "rahasia" not in str(refused.value)


def test_the_app_does_not_start_with_an_unusable_smtp_url(app):
    class Misconfigured(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        SMTP_URL = "smtp://mail.example:port"

    with pytest.raises(ValueError, match="LOKET_SMTP_URL"):
        create_app(Misconfigured)


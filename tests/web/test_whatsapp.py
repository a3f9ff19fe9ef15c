"""WhatsApp through the outbox against a real HTTP gateway (tests/wa_gateway.py): the documented
JSON with the bearer token, kept and retried while the gateway fails or is down, each channel in
its own round, waiting without a gateway, shown to Admin; phone numbers; the gateway URL."""
from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import force_locale

from app import create_app
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.outbox import Channel, SendReport, enqueue, send_pending
from app.sop.calendar import as_utc
from app.whatsapp import gateway_url, normalize_phone
from config import TestConfig
from tests.conftest import csrf_token
from tests.web.helpers import indonesian, page_text

pytest_plugins = ("tests.smtp", "tests.wa_gateway")
pytestmark = pytest.mark.usefixtures("empty_outbox")

NOW = dt.datetime(2026, 12, 7, 0, 5, tzinfo=dt.UTC)
TEXT = "Berkas 503/IPK/2026 dikembalikan: NPWP belum dilampirkan. Lengkapi di loket atau portal pemohon."


def _queue_wa(app: Flask, recipient: str = "0812-3456-7890", **kwargs) -> int:  # noqa: ANN003
    values = {"recipient": recipient, "subject": "Berkas dikembalikan", "body_text": TEXT, "now": NOW,
              "channel": Channel.WHATSAPP, **kwargs}
    with app.app_context():
        message = enqueue(db.session, **values)
        db.session.commit()
        return message.id


def _queue_mail(app: Flask, **kwargs) -> int:  # noqa: ANN003
    values = {"recipient": "pemohon@contoh.example", "subject": "Berkas dikembalikan", "body_text": TEXT, "now": NOW,
              **kwargs}
    with app.app_context():
        message = enqueue(db.session, **values)
        db.session.commit()
        return message.id


def _row(app: Flask, message_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


# ---------------------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(("written", "expected"), [
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("+62 (0) 812-3456-7890", "+6281234567890"),
    ("0062 812 3456 7890", "+6281234567890"),
    (" 0852.4567.890 ", "+628524567890"),
    ("(0563) 21234", "+6256321234"),
    ("021-1234-5678", "+622112345678"),
])
def test_indonesian_numbers_are_written_the_way_whatsapp_wants(written, expected):
    assert normalize_phone(written) == expected


@pytest.mark.parametrize(("written", "msgid"), [
    ("", "Enter a phone number."),
    ("0812-3456-789O", "A phone number holds only digits, spaces, hyphens and a leading +, e.g. 0812-3456-7890."),
    ("0812+34567890", "A phone number holds only digits, spaces, hyphens and a leading +, e.g. 0812-3456-7890."),
    ("+60 12 345 6789", "Only Indonesian phone numbers (+62 or 0...) can be used."),
    ("812-3456-7890", "Write the phone number with its leading 0 or +62, e.g. 0812-3456-7890."),
    ("0812-345", None),  # too short for a mobile number
    ("0812-3456-7890-12", None),  # too long
    ("0800-1234-567", None),  # a free-call number
    ("112", "Write the phone number with its leading 0 or +62, e.g. 0812-3456-7890."),
])
def test_a_number_that_is_no_indonesian_phone_is_refused_in_indonesian(app, written, msgid):
    with pytest.raises(ValueError) as refused, app.test_request_context():  # noqa: PT011
        normalize_phone(written)
    message = refused.value.args[0]
    if msgid is None:
        msgid = ("%(number)s is not an Indonesian mobile or landline number; write it as 0812-3456-7890 "
                 "or (0563) 21234.")
        assert indonesian(app, msgid, number=written.strip()) == _in_indonesian(app, message)
    else:
        assert indonesian(app, msgid) == _in_indonesian(app, message)


def _in_indonesian(app: Flask, lazy: object) -> str:
    with app.test_request_context(), force_locale("id"):
        return str(lazy)


def test_a_whatsapp_message_is_queued_with_the_number_in_international_form_and_text_only(app):
    message_id = _queue_wa(app, recipient="0812 3456 7890")
    row = _row(app, message_id)
    assert (row.channel, row.recipient, row.status) == (Channel.WHATSAPP, "+6281234567890", OutboxStatus.PENDING)
    with app.app_context(), pytest.raises(ValueError, match="HTML"):
        enqueue(db.session, recipient="0812 3456 7890", subject="x", body_text="x", body_html="<p>x</p>", now=NOW,
                channel=Channel.WHATSAPP)
    with app.app_context(), pytest.raises(ValueError, match="4096"):
        enqueue(db.session, recipient="0812 3456 7890", subject="x", body_text="x" * 4097, now=NOW,
                channel=Channel.WHATSAPP)
    with app.app_context(), pytest.raises(ValueError, match="unknown channel"):
        enqueue(db.session, recipient="0812 3456 7890", subject="x", body_text="x", now=NOW, channel="sms")
    with app.app_context(), pytest.raises(ValueError, match="e-mail"):
        enqueue(db.session, recipient="0812 3456 7890", subject="x", body_text="x", now=NOW)


# ---------------------------------------------------------------------------- delivery and retries


def test_a_queued_whatsapp_message_reaches_the_gateway_as_the_documented_json_with_the_token(wa_app, wa_gateway):
    message_id = _queue_wa(wa_app)
    assert send_pending(wa_app, NOW) == SendReport(sent=1)

    (request,) = wa_gateway.requests
    assert (request.method, request.path) == ("POST", "/send")
    assert request.json == {"to": "+6281234567890", "text": TEXT, "reference": f"loket-{message_id}"}
    token = wa_app.config["WA_GATEWAY_TOKEN"]
    assert token and request.headers["authorization"] == f"Bearer {token}"
    assert request.headers["content-type"].startswith("application/json")
    row = _row(wa_app, message_id)
    assert row.status == OutboxStatus.SENT and row.sent_at is not None and row.attempts == 0
    assert send_pending(wa_app, NOW + dt.timedelta(hours=1)) == SendReport(), "a sent message is not sent again"
    assert len(wa_gateway.requests) == 1


def test_without_a_token_no_authorization_header_is_sent(make_gateway_app, wa_gateway):
    tokenless = make_gateway_app(wa_gateway.url, token=None)
    _queue_wa(tokenless)
    assert send_pending(tokenless, NOW) == SendReport(sent=1)
    (request,) = wa_gateway.requests
    assert "authorization" not in request.headers


def test_a_gateway_answering_500_keeps_the_message_and_it_leaves_once_when_the_gateway_recovers(wa_app, wa_gateway):
    message_id = _queue_wa(wa_app)
    wa_gateway.status = 500
    assert send_pending(wa_app, NOW) == SendReport(retried=1)
    row = _row(wa_app, message_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "500" in row.last_error and wa_app.config["WA_GATEWAY_TOKEN"] not in row.last_error
    assert as_utc(row.next_attempt_at) >= NOW + dt.timedelta(minutes=1)

    wa_gateway.status = 200
    wa_gateway.clear()
    assert send_pending(wa_app, NOW + dt.timedelta(seconds=30)) == SendReport(), "not due yet"
    assert wa_gateway.requests == []
    assert send_pending(wa_app, NOW + dt.timedelta(minutes=2)) == SendReport(sent=1)
    assert send_pending(wa_app, NOW + dt.timedelta(minutes=3)) == SendReport()
    (request,) = wa_gateway.requests
    assert request.json["reference"] == f"loket-{message_id}", "the same reference on every try"
    assert _row(wa_app, message_id).status == OutboxStatus.SENT


def test_a_down_gateway_loses_nothing_ends_the_round_and_the_messages_leave_once_it_is_back(wa_app, wa_gateway):
    first = _queue_wa(wa_app)
    second = _queue_wa(wa_app, recipient="+62 852 1111 2222", now=NOW + dt.timedelta(seconds=1))
    wa_gateway.stop()
    assert send_pending(wa_app, NOW + dt.timedelta(seconds=5)) == SendReport(retried=1)
    row = _row(wa_app, first)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert _row(wa_app, second).attempts == 0, "the round stopped at the first message"

    wa_gateway.start()
    assert send_pending(wa_app, NOW + dt.timedelta(minutes=2)) == SendReport(sent=2)
    assert sorted(r.json["to"] for r in wa_gateway.requests) == ["+6281234567890", "+6285211112222"]
    assert send_pending(wa_app, NOW + dt.timedelta(minutes=5)) == SendReport()
    assert len(wa_gateway.requests) == 2


def test_a_redirect_is_no_delivery(wa_app, wa_gateway):
    message_id = _queue_wa(wa_app)
    wa_gateway.status = 302
    assert send_pending(wa_app, NOW) == SendReport(retried=1)
    assert [r.method for r in wa_gateway.requests] == ["POST"], "the redirect was not followed"
    assert _row(wa_app, message_id).status == OutboxStatus.PENDING


def test_a_down_mail_server_does_not_stop_whatsapp_and_a_down_gateway_does_not_stop_mail(
    make_gateway_app, smtp_server, wa_gateway,
):
    both = make_gateway_app(wa_gateway.url, smtp_url=smtp_server.url)
    mail, whatsapp = _queue_mail(both), _queue_wa(both)
    smtp_server.stop()
    assert send_pending(both, NOW) == SendReport(sent=1, retried=1)
    assert _row(both, whatsapp).status == OutboxStatus.SENT and len(wa_gateway.requests) == 1
    assert _row(both, mail).attempts == 1 and _row(both, mail).status == OutboxStatus.PENDING

    smtp_server.start()
    wa_gateway.stop()
    later = _queue_wa(both, recipient="0852-1111-2222", now=NOW + dt.timedelta(minutes=1))
    assert send_pending(both, NOW + dt.timedelta(minutes=2)) == SendReport(sent=1, retried=1)
    assert _row(both, mail).status == OutboxStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == ["pemohon@contoh.example"]
    assert (_row(both, later).status, _row(both, later).attempts) == (OutboxStatus.PENDING, 1)


def test_without_a_gateway_whatsapp_messages_wait_while_mail_leaves(app, mail_app, smtp_server):
    assert not mail_app.config["WA_GATEWAY_URL"]
    whatsapp, mail = _queue_wa(mail_app), _queue_mail(mail_app)
    assert send_pending(mail_app, NOW + dt.timedelta(days=1)) == SendReport(sent=1)
    assert _row(mail_app, mail).status == OutboxStatus.SENT
    row = _row(mail_app, whatsapp)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, None)
    assert send_pending(app, NOW + dt.timedelta(days=1)) == SendReport(), "no channel configured: nothing leaves"


# ---------------------------------------------------------------------------- Admin's grid


def test_admin_sees_the_channel_in_the_outbox_and_filters_by_it(app, login_as):
    _queue_mail(app, recipient="kabid@dinas.example")
    whatsapp = _queue_wa(app)
    client = login_as("Admin")
    page = page_text(client.get("/outboxview/list/"))
    assert indonesian(app, "Channel") in page
    assert "+6281234567890" in page and "kabid@dinas.example" in page
    assert page.count("WhatsApp") >= 2 and "Email" in page  # the cells, and the filter's choices

    only_whatsapp = page_text(client.get("/outboxview/list/?_flt_0_channel=whatsapp"))
    assert "+6281234567890" in only_whatsapp and "kabid@dinas.example" not in only_whatsapp
    only_mail = page_text(client.get("/outboxview/list/?_flt_0_channel=email"))
    assert "kabid@dinas.example" in only_mail and "+6281234567890" not in only_mail
    shown = page_text(client.get(f"/outboxview/show/{whatsapp}"))
    assert "WhatsApp" in shown and TEXT in shown


# ---------------------------------------------------------------------------- LOKET_WA_GATEWAY_URL


@pytest.mark.parametrize("url", [
    "gateway.example/send", "ftp://gateway.example/send", "https://", "https://user:rahasia@gateway.example/send",
    "https://gateway.example:port/send", "https://gateway.example:99999/send", "https://gateway.example/send#x",
])
def test_an_unusable_gateway_url_is_refused_by_name(url):
    with pytest.raises(ValueError, match="LOKET_WA_GATEWAY_URL") as refused:
        gateway_url(url)
    assert "rahasia" not in str(refused.value)


def test_a_usable_gateway_url_is_kept():
    assert gateway_url(" https://wa.landakkab.go.id:8443/api/send?akun=loket ") == (
        "https://wa.landakkab.go.id:8443/api/send?akun=loket")


@pytest.mark.parametrize(("url", "token", "setting"), [
    ("ftp://gateway.example/send", None, "LOKET_WA_GATEWAY_URL"),
    ("https://gateway.example/send", "abc def", "LOKET_WA_GATEWAY_TOKEN"),
])
def test_the_app_does_not_start_with_an_unusable_gateway_setting(app, url, token, setting):
    class Misconfigured(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        WA_GATEWAY_URL = url
        WA_GATEWAY_TOKEN = token

    with pytest.raises(ValueError, match=setting):
        create_app(Misconfigured)


def test_sending_a_whatsapp_message_again_without_a_gateway_warns_that_it_waits(app, login_as):
    failed = _queue_wa(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, failed)
        message.status, message.attempts, message.last_error = OutboxStatus.FAILED, 10, "GatewayRefused: 500"
        db.session.commit()
    client = login_as("Admin")
    token = csrf_token(client, "/resetmypassword/form")
    answer = page_text(client.post("/outboxview/action_post", data={"action": "retry", "rowid": [failed],
                                                                     "csrf_token": token}, follow_redirects=True))
    assert indonesian(app, "No WhatsApp gateway is set (LOKET_WA_GATEWAY_URL): the WhatsApp messages wait in the "
                           "outbox until one is.") in answer
    assert indonesian(app, "No mail server is set (LOKET_SMTP_URL): the messages wait in the outbox until one is.") \
        not in answer, "no e-mail was chosen"
    assert _row(app, failed).status == OutboxStatus.PENDING

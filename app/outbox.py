"""The outbox of e-mail and WhatsApp messages: a message is written in the transaction of what it
tells (enqueue) and sent later by a job, one at a time, with retries (send_due). A mail server or
gateway that is down loses nothing: the message stays, is tried again after 1, 2, 4, 8 ... minutes
(at most an hour apart), and after MAX_ATTEMPTS failed tries waits as failed until Admin sends it again (retry).

Senders may run at once (the embedded consumer and `loket worker`): each claims a message with a
guarded UPDATE that gives it a lease (claimed_until), commits the claim, and only then talks to
the mail server; another sender leaves a leased message alone until the lease runs out. So a
message goes out once, unless a sender dies between the server taking it and the row saying so:
then it goes out again when its lease ends (at least once, never lost).

Each channel has its own sender: e-mail through Flask-Mail (app.mail, LOKET_SMTP_URL), WhatsApp
through an HTTP gateway (app.whatsapp, LOKET_WA_GATEWAY_URL). send_pending gives each configured
channel its own round, so a channel that is down (its round stops at the first message that finds
it so) holds up neither the other channel nor anything else; a channel without configuration
leaves its messages waiting.

enqueue, send_due and retry take a plain SQLAlchemy session; only the sending (flask_mail_sender,
send_pending) needs the Flask app.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass

from flask import Flask
from flask_mail import Message
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.extensions import db
from app.mail import connect, mail_configured
from app.models import OutboxMessage, OutboxStatus
from app.sop.calendar import as_utc
from app.whatsapp import MAX_TEXT_LENGTH, GatewayUnavailable, gateway_sender, normalize_phone, wa_configured

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_DELAY = dt.timedelta(minutes=1)
LONGEST_DELAY = dt.timedelta(minutes=60)
DEFAULT_LEASE = dt.timedelta(minutes=5)
ERROR_LENGTH = 500  # of last_error: enough for the server's answer, short enough for a grid cell
SUBJECT_LENGTH = 300  # OutboxMessage.subject
# One address, as a digest's recipients are written (no display name, no list, no line break).
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")
# INSERT ... ON CONFLICT DO NOTHING, per database: one statement, so a dedup key taken meanwhile
# by another transaction neither raises nor spoils the caller's transaction.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class Channel:
    EMAIL = "email"
    WHATSAPP = "whatsapp"


CHANNELS = (Channel.EMAIL, Channel.WHATSAPP)


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0  # failed this time, tried again later
    failed: int = 0  # failed for the last time (MAX_ATTEMPTS): waits for Admin

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)


class MailServerUnavailable(Exception):
    """The mail server could not be reached or refused the session (connection, TLS, login): no
    message would go through, so the round stops after recording this one's failed try."""


# A sender raising one of these says its channel is down: the round of that channel stops.
CHANNEL_DOWN = (MailServerUnavailable, GatewayUnavailable)


def enqueue(  # noqa: PLR0913
    session: Session, *, recipient: str, subject: str, body_text: str, body_html: str | None = None,
    dedup_key: str | None = None, now: dt.datetime, channel: str = Channel.EMAIL,
) -> OutboxMessage | None:
    """Adds a pending message in the caller's transaction (no commit), due at `now`. With a
    dedup_key that is already in the outbox (sent or not, or queued meanwhile by another
    transaction), adds nothing and returns None.

    channel "email": recipient is one e-mail address. channel "whatsapp": recipient is an
    Indonesian phone number as people write it (stored as +62..., app.whatsapp.normalize_phone,
    whose ValueError carries a message for the person who typed it); body_text is what is sent
    (at most 4096 characters, no body_html), the subject only labels the message in Admin's grid."""
    if channel == Channel.EMAIL:
        recipient = recipient.strip()
        if not _ADDRESS.fullmatch(recipient):
            raise ValueError(f"not one e-mail address: {recipient!r}")
    elif channel == Channel.WHATSAPP:
        recipient = normalize_phone(recipient)
        if body_html is not None:
            raise ValueError("a WhatsApp message has no HTML part")
        if not body_text.strip() or len(body_text) > MAX_TEXT_LENGTH:
            raise ValueError(f"a WhatsApp message holds 1 to {MAX_TEXT_LENGTH} characters, not {len(body_text)}")
    else:
        raise ValueError(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})")
    subject = " ".join(subject.split())  # a line break in a header would be refused by the mail library
    if len(subject) > SUBJECT_LENGTH:
        subject = subject[: SUBJECT_LENGTH - 1] + "…"
    now = as_utc(now)
    values = {
        "channel": channel, "recipient": recipient, "subject": subject, "body_text": body_text,
        "body_html": body_html, "dedup_key": dedup_key, "status": OutboxStatus.PENDING, "attempts": 0,
        "created_at": now, "next_attempt_at": now,
    }
    insert = _INSERTS[session.connection().dialect.name]
    new_id = session.scalar(
        insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(OutboxMessage.id)
    )
    return None if new_id is None else session.get(OutboxMessage, new_id)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the n-th failed try: 1, 2, 4, 8 ... minutes, at most LONGEST_DELAY."""
    return min(FIRST_DELAY * 2 ** min(max(attempts - 1, 0), 16), LONGEST_DELAY)


def _claimable(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def _short(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, CHANNEL_DOWN) and exc.__cause__ else exc
    text = " ".join(f"{type(cause).__name__}: {cause}".split())
    return text if len(text) <= ERROR_LENGTH else text[: ERROR_LENGTH - 1] + "…"


def send_due(
    session: Session, send: Callable[[OutboxMessage], None], now: dt.datetime, *, limit: int = 50,
    lease: dt.timedelta = DEFAULT_LEASE, channel: str = Channel.EMAIL,
) -> SendReport:
    """Sends up to `limit` messages of `channel` due at `now`, oldest due first, each in its own short
    transactions: claim (committed), send, record. `send` gets a copy of the message outside the
    session and raises on failure. Commits the session: call it with nothing else pending.

    The clock runs on from `now` as the round takes real time, so a lease taken late in a slow
    round still lasts `lease`. A failure that says the channel is down (CHANNEL_DOWN) ends the round:
    the messages after it wait for the next one untouched."""
    started, start = time.monotonic(), as_utc(now)

    def clock() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - started)

    due = list(session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.channel == channel, *_claimable(start))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    ))
    session.commit()
    sent = retried = failed = 0
    for message_id in due:
        message, until = _claim(session, message_id, clock(), lease)
        if message is None:
            continue  # another sender has it, or it was sent meanwhile
        try:
            send(message)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
            session.rollback()
            outcome = _record_failure(session, message, until, exc, clock())
            retried += outcome == OutboxStatus.PENDING
            failed += outcome == OutboxStatus.FAILED
            log.warning("outbox message %s to %s not sent (%s): %s", message_id, message.recipient,
                        outcome or "taken over by another sender", _short(exc))
            if isinstance(exc, CHANNEL_DOWN):
                break  # the rest wait for the next round untouched
            continue
        _record_sent(session, message_id, clock())
        sent += 1
    return SendReport(sent=sent, retried=retried, failed=failed)


def _claim(
    session: Session, message_id: int, now: dt.datetime, lease: dt.timedelta,
) -> tuple[OutboxMessage | None, dt.datetime]:
    """Takes the message for `lease` if nobody has it; (a detached copy of it, the lease's end)."""
    until = now + lease
    claimed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, *_claimable(now))
        .values(claimed_until=until).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        return None, until
    columns = OutboxMessage.__table__.columns
    row = session.execute(select(*columns).where(OutboxMessage.id == message_id)).mappings().one()
    session.commit()
    # A copy in no session: the caller's own objects stay as they were, and nothing the sender
    # does to it is written.
    return OutboxMessage(**row), until


def _record_sent(session: Session, message_id: int, now: dt.datetime) -> None:
    # Not guarded by the lease: the server has the message, whoever holds the row now.
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _record_failure(
    session: Session, message: OutboxMessage, until: dt.datetime, exc: BaseException, now: dt.datetime,
) -> str | None:
    """Counts the failed try while this sender's lease still holds the message; the new status,
    or None if the lease ran out and another sender has taken the message over."""
    attempts = message.attempts + 1
    status = OutboxStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
    changed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.claimed_until == until)
        .values(attempts=attempts, status=status, last_error=_short(exc), next_attempt_at=now + backoff(attempts),
                claimed_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return status if changed == 1 else None


def retry(session: Session, ids: Iterable[int], now: dt.datetime) -> int:
    """Failed (or pending) messages due again at `now`, their attempts kept (so a failed one gets
    one more try before it fails again). A message a sender holds keeps its lease. In the
    caller's transaction; returns how many messages it changed."""
    ids = list(ids)
    if not ids:
        return 0
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING)))
        .values(status=OutboxStatus.PENDING, next_attempt_at=as_utc(now))
        .execution_options(synchronize_session=False)
    ).rowcount


def flask_mail_sender(app: Flask) -> Callable[[OutboxMessage], None]:
    """A `send` for send_due: the message through the app's Flask-Mail, from MAIL_FROM, with its
    HTML part when it has one. Raises MailServerUnavailable when no SMTP session could be opened."""

    def send(message: OutboxMessage) -> None:
        with app.app_context(), ExitStack() as stack:
            mail = Message(subject=message.subject, recipients=[message.recipient], body=message.body_text,
                           html=message.body_html, sender=app.config["MAIL_FROM"])
            try:
                connection = stack.enter_context(connect(app))
            except OSError as exc:  # refused, timed out, TLS or login failed (smtplib's errors are OSErrors)
                raise MailServerUnavailable(str(exc)) from exc
            mail.send(connection)

    return send


def senders(app: Flask) -> dict[str, Callable[[OutboxMessage], None]]:
    """The `send` of each channel the app has configured (SMTP_URL, WA_GATEWAY_URL)."""
    found: dict[str, Callable[[OutboxMessage], None]] = {}
    if mail_configured(app):
        found[Channel.EMAIL] = flask_mail_sender(app)
    if wa_configured(app):
        found[Channel.WHATSAPP] = gateway_sender(app)
    return found


def send_pending(app: Flask, now: dt.datetime | None = None) -> SendReport:
    """The periodic job: sends what is due, one round per configured channel (a channel that is
    down ends only its own round). A channel not configured sends nothing; its messages wait in
    the outbox until it is."""
    report = SendReport()
    with app.app_context():
        for channel, send in senders(app).items():
            report += send_due(db.session, send, now or dt.datetime.now(dt.UTC), channel=channel)
    return report

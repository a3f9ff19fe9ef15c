"""What the office is told: SLA alerts per officer (the bell), the mail outbox, and the
dashboard's tallies. Plain SQLAlchemy, like every model."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account import account_fk
from app.models.base import Base
from app.models.dossier import Dossier


class AlertKind:
    DUE_SOON = "due_soon"  # the promise runs out within one working day
    OVERDUE = "overdue"  # melewati SLA: past the promise with no decision


class Notification(Base):
    """One alert for one officer. The unique key is the event: a dossier's promise (due_at) at
    risk or missed; a resume moves the promise, and a new miss is a new event. So a scan that runs
    twice, or on two consumers at once, never tells anyone the same thing twice."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("recipient_id", "dossier_id", "kind", "due_at", name="uq_notification_event"),
        # The bell: a user's unread alerts, newest first.
        Index("ix_notification_recipient_read", "recipient_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(account_fk(ondelete="CASCADE"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    dossier: Mapped[Dossier] = relationship()


class OutboxStatus:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; Admin can send it again


class OutboxMessage(Base):
    """A message waiting to leave (e-mail or WhatsApp, app.outbox). Written in the transaction
    of what it tells, sent by a job with retries: a mail server that is down loses nothing, and
    the dedup key stops the same message (the digest of one day) from being queued twice."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # A sender's lease: another sender leaves the message alone until it runs out.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class TallyMeasure:
    RECEIVED = "received"  # dossiers received that day
    ISSUED = "issued"  # permits issued that day
    ISSUED_ON_TIME = "issued_on_time"  # of those, within the promise
    RETURNED = "returned"  # returns to the applicant that day
    REJECTED = "rejected"
    MOVES = "moves"  # stage moves by one officer (ref_id) that day
    RETURN_REASON = "return_reason"  # one missing item (label) named by a return that day
    STAGE_MINUTES = "stage_minutes"  # finished visits of stage ref_id taking `value` working minutes,
    #                                   of dossiers received that day (as the register's summary)
    STAGE_MINUTES_MONTH = "stage_minutes_month"  # the same for a whole past month (day: its 1st)


class DashboardTally(Base):
    """Counts per office day and permit type, kept by a periodic job (app.dashboard.tallies) so
    the dashboard sums a few thousand rows instead of reading a million dossiers."""

    __tablename__ = "dashboard_tally"
    __table_args__ = (
        UniqueConstraint("day", "permit_type_id", "measure", "ref_id", "value", "label", name="uq_dashboard_tally_key"),
        Index("ix_dashboard_tally_measure_day", "measure", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"))
    measure: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[int] = mapped_column(Integer)


class DashboardState(Base):
    """How far a periodic scan has read. Row 1: the tallies (events up to `through` are counted),
    when they ran, and the digest's day. Row 2: the applicants' notices (app.portal.notices)."""

    __tablename__ = "dashboard_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The last day the daily digest was queued for (one per office day).
    digest_day: Mapped[dt.date | None] = mapped_column(Date)

"""What the applicant is told of their dossier: the receipt (opened online or at the counter), a return
with its reason and missing papers, the permit numbered (issued), and the permit ready to collect.
Each by e-mail (Applicant.email) and WhatsApp (Applicant.phone) through the outbox (app.outbox), so a
move never waits on the mail server or the gateway, and nothing is lost while either is down.

The history (StageEvent, append-only) is the source: a periodic job (app.jobs.queue) reads the
events since the last run and queues their messages. Each message's dedup key names its event and
channel ("pemohon:<event id>:<channel>"), so a second scan, two consumers at once or a restart
never tell twice (the outbox's unique key, INSERT .. ON CONFLICT DO NOTHING).

How far the scan has read is a mark in time, DashboardState row STATE_ID's `through`, read by
ix_stage_event_occurred_id (occurred_at, id): a range of the index, never the table, at any size.
A mark in time rather than an id because (1) DashboardState keeps instants, not ids, and (2) a
spreadsheet import opens old dossiers with their old submission times: a time mark leaves them
untold, an id mark would send receipts for last year's papers.
Late commits: occurred_at (like a PostgreSQL id) is taken before the transaction commits, so a move
that commits late can land behind the mark. Each run therefore reads again OVERLAP behind the mark;
what it finds told already is skipped by its dedup key (one look-up by the unique index per chunk).
Moves commit within a second; a bulk move commits chunk by chunk with its clock read per chunk.

Plain Python and SQLAlchemy; callers pass the session, `now`, the office and the outbox's enqueue.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Applicant, DashboardState, Dossier, OutboxMessage, Permit, PermitType, Stage, StageEvent
from app.outbox import Channel
from app.sop.calendar import as_utc
from app.sop.intake import SUBMIT_ACTION
from app.sop.machine import MISSING_MARK, Action
from app.sop.worklist import as_stored
from app.whatsapp import MAX_TEXT_LENGTH

log = logging.getLogger(__name__)

# DashboardState row 1 is the dashboard's and the digest's; this row is the notices' mark alone.
STATE_ID = 2
OVERLAP = dt.timedelta(minutes=10)
CHUNK = 200  # events per transaction (their messages and the mark commit together)
KEY_PREFIX = "pemohon"
REASON_MAX = 1000  # characters of an officer's reason quoted in a message
ITEM_MAX = 300  # of one missing item

# app.outbox.enqueue(session, *, recipient, subject, body_text, body_html, dedup_key, now, channel)
Enqueue = Callable[..., object]


class Kind:
    RECEIPT = "receipt"
    RETURN = "return"
    ISSUED = "issued"
    READY = "ready"


@dataclass(frozen=True)
class Office:
    """What a message says of the office: its name, counter and hours, its clock and its address on the web."""

    name: str
    address: str
    hours: str
    timezone: str
    base_url: str  # e.g. https://loket.landakkab.go.id (no trailing slash)

    @classmethod
    def from_config(cls, config: Mapping, base_url: str) -> Office:
        return cls(name=config["OFFICE_NAME"], address=config["LETTERHEAD_ADDRESS"], hours=config["OFFICE_HOURS"],
                   timezone=config["OFFICE_TIMEZONE"], base_url=base_url.rstrip("/"))

    def portal_url(self, dossier_id: int) -> str:
        return f"{self.base_url}/pemohon/berkas/{dossier_id}"

    def status_url(self, receipt_number: str) -> str:
        return f"{self.base_url}/status?nomor={receipt_number}"


@dataclass(frozen=True)
class Notice:
    """One event to tell, with what the messages need."""

    event_id: int
    kind: str
    occurred_at: dt.datetime
    note: str | None
    dossier_id: int
    receipt_number: str
    online: bool
    due_at: dt.datetime | None
    permit_type: str
    permit_number: str | None
    full_name: str
    email: str | None
    phone: str | None
    has_account: bool


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


@dataclass(frozen=True)
class ScanReport:
    events: int  # events read (told now, or told before)
    queued: int  # messages queued
    through: dt.datetime


def dedup_key(event_id: int, kind: str, channel: str) -> str:
    return f"{KEY_PREFIX}:{kind}:{event_id}:{channel}"


# --------------------------------------------------------------------------- which events


def told_stages(session: Session) -> tuple[set[int], set[int]]:
    """(numbering stages, handover stages), read from the SOP rows.

    Numbering: the stages flagged issues_permit. Handover ("ready to collect"): the first stage
    after a numbering stage that is served by the role receiving applicants at the SOP's first
    stage (the Front Office at BERKAS), i.e. the permit is back at the counter. Data, not a stage
    code: a SOP with another handover stage, or none, needs no change here."""
    numbering: set[int] = set()
    handover: set[int] = set()
    by_type: dict[int, list] = {}
    for row in session.execute(
        select(Stage.id, Stage.permit_type_id, Stage.role_name, Stage.issues_permit).order_by(Stage.seq, Stage.id)
    ):
        by_type.setdefault(row.permit_type_id, []).append(row)
    for stages in by_type.values():
        counter_role = stages[0].role_name
        numbered = False
        for stage in stages:
            if numbered and stage.role_name == counter_role:
                handover.add(stage.id)
                break
            if stage.issues_permit:
                numbering.add(stage.id)
                numbered = True
    return numbering, handover


def _kind(action: str, to_stage_id: int | None, numbering: set[int], handover: set[int]) -> str:
    if action == SUBMIT_ACTION:
        return Kind.RECEIPT
    if action == Action.RETURN.value:
        return Kind.RETURN
    return Kind.ISSUED if to_stage_id in numbering else Kind.READY


def _read(
    session: Session, after: tuple[dt.datetime, int], upto: dt.datetime, numbering: set[int], handover: set[int],
    limit: int,
) -> tuple[list[Notice], tuple[dt.datetime, int] | None]:
    """The next `limit` events to tell after the cursor (occurred_at, id), up to `upto`; and the
    cursor after the last one read (None when none was left)."""
    since, last_id = as_stored(session, after[0]), after[1]
    rows = session.execute(
        select(StageEvent.id, StageEvent.action, StageEvent.to_stage_id, StageEvent.occurred_at, StageEvent.note,
               Dossier.id.label("dossier_id"), Dossier.receipt_number, Dossier.submitted_online, Dossier.due_at,
               PermitType.name.label("permit_type"), Permit.number.label("permit_number"),
               Applicant.full_name, Applicant.email, Applicant.phone, Applicant.account_id)
        .select_from(StageEvent)
        .join(Dossier, Dossier.id == StageEvent.dossier_id)
        .join(Applicant, Applicant.id == Dossier.applicant_id)
        .join(PermitType, PermitType.id == Dossier.permit_type_id)
        .outerjoin(Permit, Permit.dossier_id == Dossier.id)
        .where(
            # The range of ix_stage_event_occurred_id; the OR only settles ties at the cursor's instant.
            StageEvent.occurred_at >= since, StageEvent.occurred_at <= as_stored(session, upto),
            or_(StageEvent.occurred_at > since, StageEvent.id > last_id),
            or_(StageEvent.action.in_((SUBMIT_ACTION, Action.RETURN.value)),
                and_(StageEvent.action == Action.ADVANCE.value, StageEvent.to_stage_id.in_(numbering | handover))),
        )
        .order_by(StageEvent.occurred_at, StageEvent.id)
        .limit(limit)
    ).all()
    if not rows:
        return [], None
    notices = [
        Notice(row.id, _kind(row.action, row.to_stage_id, numbering, handover), as_utc(row.occurred_at), row.note,
               row.dossier_id, row.receipt_number, bool(row.submitted_online),
               as_utc(row.due_at) if row.due_at is not None else None, row.permit_type, row.permit_number,
               row.full_name, _present(row.email), _present(row.phone), row.account_id is not None)
        for row in rows
    ]
    return notices, (as_utc(rows[-1].occurred_at), rows[-1].id)


def _present(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


# --------------------------------------------------------------------------- the messages


def _moment(office: Office, instant: dt.datetime) -> str:
    local = as_utc(instant).astimezone(ZoneInfo(office.timezone))
    day = babel_dates.format_date(local.date(), "d MMMM yyyy", locale="id")
    return f"{day} pukul {local:%H.%M} {local.tzname()}"


def missing_items(note: str | None) -> list[str]:
    """The items a return's note lists after MISSING_MARK ("a; b"), as the return letter printed them."""
    listed = (note or "").partition(MISSING_MARK)[2]
    return [item.strip()[:ITEM_MAX] for item in listed.split(";") if item.strip()]


def _reason(note: str | None) -> str:
    reason = (note or "").partition(MISSING_MARK)[0].strip()
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


def _closing(office: Office) -> list[str]:
    return ["", f"Hormat kami,\n{office.name}", "", "Pesan ini dikirim otomatis oleh Loket; mohon tidak dibalas."]


def _receipt(notice: Notice, office: Office) -> Message:
    how = "Anda ajukan secara daring" if notice.online else "Anda serahkan di loket"
    promise = _moment(office, notice.due_at) if notice.due_at else "-"
    portal = "Portal pemohon" if notice.has_account else (
        "Portal pemohon (daftar dengan NIK dan alamat e-mail yang tercatat di loket untuk melihat berkas Anda)")
    lines = [
        f"Yth. {notice.full_name},", "",
        f"Permohonan {notice.permit_type} yang {how} telah kami terima pada {_moment(office, notice.occurred_at)}.",
        "",
        f"Nomor pendaftaran: {notice.receipt_number}",
        f"Jenis izin: {notice.permit_type}",
        f"Janji penyelesaian: {promise}",
        "",
        f"{portal}: {office.portal_url(notice.dossier_id)}",
        f"Status berkas (tanpa masuk): {office.status_url(notice.receipt_number)}",
        "",
        "Simpan nomor pendaftaran ini untuk menanyakan berkas Anda.",
        *_closing(office),
    ]
    return Message(f"Tanda terima berkas {notice.receipt_number} – {notice.permit_type}", "\n".join(lines))


def _return(notice: Notice, office: Office, items: Sequence[str], more: int = 0) -> Message:
    if notice.has_account:
        todo = (f"Unggah dokumen yang kurang melalui portal pemohon, lalu tekan \"Kirim kelengkapan\": "
                f"{office.portal_url(notice.dossier_id)}\natau bawa ke loket Front Office.")
    else:
        todo = (f"Bawa kelengkapan ke loket Front Office, atau daftar di portal pemohon dengan NIK dan alamat "
                f"e-mail yang tercatat di loket, lalu unggah dari sana: {office.portal_url(notice.dossier_id)}")
    lines = [
        f"Yth. {notice.full_name},", "",
        f"Berkas {notice.receipt_number} ({notice.permit_type}) dikembalikan kepada Anda pada "
        f"{_moment(office, notice.occurred_at)} untuk dilengkapi.",
        "",
        f"Alasan: {_reason(notice.note) or '-'}",
    ]
    if items:
        lines += ["", "Kekurangan:", *(f"- {item}" for item in items)]
        if more:
            lines.append(f"- … dan {more} lainnya (lihat portal pemohon atau halaman status)")
    lines += [
        "", "Yang perlu Anda lakukan:", todo,
        f"Loket: {office.address}, {office.hours}.",
        "Jangka waktu penyelesaian berhenti sementara sampai kelengkapan kami terima.",
        "",
        f"Status berkas: {office.status_url(notice.receipt_number)}",
        *_closing(office),
    ]
    return Message(f"Berkas {notice.receipt_number} dikembalikan – mohon dilengkapi", "\n".join(lines))


def _issued(notice: Notice, office: Office) -> Message:
    lines = [
        f"Yth. {notice.full_name},", "",
        f"Izin {notice.permit_type} Anda (berkas {notice.receipt_number}) telah terbit pada "
        f"{_moment(office, notice.occurred_at)}.",
        "",
        f"Nomor izin: {notice.permit_number}",
        "",
        f"Lihat dan unduh izin di portal pemohon: {office.portal_url(notice.dossier_id)}",
        "Kami akan memberi tahu Anda lagi bila izin asli siap diambil di loket.",
        *_closing(office),
    ]
    return Message(f"Izin terbit: {notice.permit_number} – {notice.receipt_number}", "\n".join(lines))


def _ready(notice: Notice, office: Office) -> Message:
    number = f" nomor {notice.permit_number}" if notice.permit_number else ""
    lines = [
        f"Yth. {notice.full_name},", "",
        f"Izin {notice.permit_type}{number} (berkas {notice.receipt_number}) siap diambil di loket Front Office.",
        "",
        f"Alamat: {office.address}",
        f"Jam layanan: {office.hours}",
        f"Sebutkan nomor pendaftaran {notice.receipt_number} di loket.",
        "",
        f"Status berkas: {office.status_url(notice.receipt_number)}",
        *_closing(office),
    ]
    return Message(f"Izin siap diambil – {notice.receipt_number}", "\n".join(lines))


def compose(notice: Notice, office: Office) -> Message:
    """The message of one event; within WhatsApp's length (a long list of missing papers is cut short)."""
    if notice.kind == Kind.RECEIPT:
        message = _receipt(notice, office)
    elif notice.kind == Kind.ISSUED:
        message = _issued(notice, office)
    elif notice.kind == Kind.READY:
        message = _ready(notice, office)
    else:
        items = missing_items(notice.note)
        message = _return(notice, office, items)
        shown = len(items)
        while len(message.text) > MAX_TEXT_LENGTH and shown:
            shown -= 1
            message = _return(notice, office, items[:shown], len(items) - shown)
    assert len(message.text) <= MAX_TEXT_LENGTH, "every part of a message is bounded"
    return message


_LINK = re.compile(r"https?://[^\s<>\"]+")


def as_html(text: str) -> str:
    """The e-mail's HTML part: the text's paragraphs, its links clickable."""
    paragraphs = []
    for block in text.split("\n\n"):
        escaped = html.escape(block.strip("\n"))
        linked = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return "\n".join(paragraphs) + "\n"


# --------------------------------------------------------------------------- the scan


def _already_queued(session: Session, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(tuple(keys)))))


def queue_notices(
    session: Session, notices: Sequence[Notice], office: Office, now: dt.datetime, *, channels: Collection[str],
    enqueue: Enqueue,
) -> int:
    """Queues each notice's messages on the channels the applicant can be reached by; returns how
    many. A recipient the outbox refuses (an unusable address or phone) loses that channel only,
    logged; the rest go on. Adds to the caller's transaction."""
    wanted = {
        (notice, channel): dedup_key(notice.event_id, notice.kind, channel)
        for notice in notices for channel in channels
        if (notice.email if channel == Channel.EMAIL else notice.phone)
        and (notice.kind != Kind.ISSUED or notice.permit_number)
    }
    done = _already_queued(session, set(wanted.values()))
    queued = 0
    for (notice, channel), key in wanted.items():
        if key in done:
            continue
        message = compose(notice, office)
        recipient = notice.email if channel == Channel.EMAIL else notice.phone
        try:
            made = enqueue(session, recipient=recipient, subject=message.subject, body_text=message.text,
                           body_html=as_html(message.text) if channel == Channel.EMAIL else None,
                           dedup_key=key, now=now, channel=channel)
        except ValueError as refused:
            log.warning("Pemberitahuan %s berkas %s tidak dikirim lewat %s: %s", notice.kind, notice.receipt_number,
                        channel, refused)
            continue
        queued += made is not None
    return queued


def _mark(session: Session) -> dt.datetime | None:
    """The notices' mark, its row made on first use (another consumer making it meanwhile is fine)."""
    if session.get(DashboardState, STATE_ID) is None:
        try:
            with session.begin_nested():
                session.add(DashboardState(id=STATE_ID))
        except IntegrityError:
            pass
    through = session.scalar(select(DashboardState.through).where(DashboardState.id == STATE_ID))
    return as_utc(through) if through is not None else None


def _move_mark(session: Session, through: dt.datetime, now: dt.datetime) -> None:
    """Moves the mark forward only (a slower scan running at once never moves it back)."""
    stored = as_stored(session, through)
    session.execute(
        update(DashboardState)
        .where(DashboardState.id == STATE_ID, or_(DashboardState.through.is_(None), DashboardState.through < stored))
        .values(through=stored, refreshed_at=as_stored(session, now))
        .execution_options(synchronize_session=False)
    )


def scan(
    session: Session, now: dt.datetime, *, office: Office, channels: Collection[str], enqueue: Enqueue,
    chunk: int = CHUNK,
) -> ScanReport:
    """Queues the messages of the events since the mark (and OVERLAP before it) up to `now`, on
    `channels` (the ones the office has set up; none: the mark moves on and nothing is queued).
    Commits once per chunk: its messages and the mark move together, so a crash loses nothing
    and repeats nothing. Run by one job at a time (app.jobs.queue); two at once are still safe.

    The first run starts at `now`: events from before notices existed are not told."""
    now = as_utc(now)
    through = _mark(session)
    session.commit()
    if through is None or through > now:  # the first run, or a clock set back
        through = min(through or now, now)
    cursor: tuple[dt.datetime, int] = (through - OVERLAP, 0)
    events = queued = 0
    if channels:
        numbering, handover = told_stages(session)
        while True:
            notices, after = _read(session, cursor, now, numbering, handover, chunk)
            if after is None:
                break
            events += len(notices)
            queued += queue_notices(session, notices, office, now, channels=channels, enqueue=enqueue)
            _move_mark(session, after[0], now)
            session.commit()
            cursor = after
            if len(notices) < chunk:
                break
    _move_mark(session, now, now)
    session.commit()
    return ScanReport(events=events, queued=queued, through=now)

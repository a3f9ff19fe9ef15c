"""SLA alerts: which dossiers are at risk, the notifications (the bell) and the supervisors' daily digest.

Plain Python and SQLAlchemy, no Flask: callers pass the session, the office calendar and `now`.
The definitions, used by the bell, the grid filters (app.views.grid), the dossier page and the
monthly register alike:

- melewati SLA (AlertKind.OVERDUE): no decision yet and the promise (Dossier.due_at, already
  pushed by every resume) ran out: status in_progress and due_at < now; or status returned and
  due_at < the time of its last 'return' event (it was already late when handed back; while it
  waits with the applicant its clock stands still, so a dossier returned in time is not late).
- jatuh tempo <= 1 hari kerja (AlertKind.DUE_SOON): status in_progress and
  now <= due_at < add_working_minutes(calendar, now, calendar.day_minutes).

Issued, rejected and archived dossiers are decided: never at risk.

Alerts (the scan, the bell's list, the digest) are about running clocks: dossiers in progress,
overdue or due soon. A returned dossier's clock stands still, and one that was late when handed
back was told about while it ran (the scan runs every five minutes); asking every returned
dossier for its last return would read the history of each (tens of thousands at a million
dossiers) on every bell page. The mark itself (grid filter, dossier page, register) keeps the
whole definition.

Each list and count is one statement over ix_dossier_status_stage_due (status, stage_id, due_at,
id), the in-progress part of it alone. The scan writes one Notification per (recipient, dossier,
kind, due_at), the table's unique key, with INSERT .. ON CONFLICT DO NOTHING: two scans at once,
or a scan run twice, tell nobody twice; a due-soon dossier that becomes overdue is a new event,
and so is a promise moved by a resume.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from babel import dates as babel_dates
from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AlertKind, Company, DashboardState, Dossier, DossierStatus, Notification, Stage, StageEvent
from app.models.account import ACCOUNT_ROLE_TABLE, ACCOUNT_TABLE, ROLE_TABLE
from app.security.roles import DASHBOARD, ROLE_GRANTS
from app.sop.calendar import WorkingCalendar, as_utc
from app.sop.sla import RETURN_ACTION, add_working_minutes
from app.sop.worklist import as_stored

IN_PROGRESS = DossierStatus.IN_PROGRESS.value
RETURNED = DossierStatus.RETURNED.value
# Those who answer for the office's figures: every at-risk dossier is theirs to know about.
OVERSIGHT_ROLES: tuple[str, ...] = tuple(role for role, grants in ROLE_GRANTS.items() if DASHBOARD in grants)
log = logging.getLogger(__name__)
DIGEST_TIME = dt.time(7, 0)  # office time, on working days
DIGEST_LIST_LIMIT = 500  # dossiers listed in one digest (the counts cover them all)
_CHUNK = 500

# app.outbox.enqueue(session, *, recipient, subject, body_text, body_html, dedup_key, now)
Enqueue = Callable[..., object]


@dataclass(frozen=True)
class AtRisk:
    dossier_id: int
    receipt_number: str
    stage_id: int
    stage: str
    company: str
    due_at: dt.datetime  # aware UTC
    kind: str  # AlertKind.OVERDUE or AlertKind.DUE_SOON


# --------------------------------------------------------------------------- the definitions


def last_return_at():  # noqa: ANN201 - a correlated scalar subquery on Dossier
    """The time of the dossier's last 'return' to the applicant (NULL if never returned)."""
    return (
        select(func.max(StageEvent.occurred_at))
        .where(StageEvent.dossier_id == Dossier.id, StageEvent.action == RETURN_ACTION)
        .scalar_subquery()
    )


def due_soon_horizon(calendar: WorkingCalendar, now: dt.datetime) -> dt.datetime:
    """One working day of office time after now (UTC): a promise before it is due soon."""
    return add_working_minutes(calendar, now, calendar.day_minutes)


def overdue_condition(now_stored: dt.datetime):  # noqa: ANN201 - a SQL condition
    """Melewati SLA, as a WHERE clause; `now_stored` as the database compares it (see _stored)."""
    return or_(
        and_(Dossier.status == IN_PROGRESS, Dossier.due_at < now_stored),
        and_(Dossier.status == RETURNED, Dossier.due_at < last_return_at()),
    )


def due_soon_condition(now_stored: dt.datetime, horizon_stored: dt.datetime):  # noqa: ANN201
    """Jatuh tempo <= 1 hari kerja, as a WHERE clause (times as the database compares them)."""
    return and_(Dossier.status == IN_PROGRESS, Dossier.due_at >= now_stored, Dossier.due_at < horizon_stored)


def is_past_sla(status: str, due_at: dt.datetime | None, last_return: dt.datetime | None, now: dt.datetime) -> bool:
    """Melewati SLA for one dossier already read (the dossier page, the register)."""
    if due_at is None:
        return False
    if status == IN_PROGRESS:
        return as_utc(due_at) < as_utc(now)
    if status == RETURNED:
        return last_return is not None and as_utc(due_at) < as_utc(last_return)
    return False


def _conditions(session: Session, calendar: WorkingCalendar, now: dt.datetime):  # noqa: ANN202
    """(overdue, due soon) of a running clock, as WHERE clauses."""
    stored_now = as_stored(session, now)
    horizon = as_stored(session, due_soon_horizon(calendar, now))
    return and_(Dossier.status == IN_PROGRESS, Dossier.due_at < stored_now), due_soon_condition(stored_now, horizon)


# --------------------------------------------------------------------------- reading


def at_risk(
    session: Session,
    calendar: WorkingCalendar,
    now: dt.datetime,
    *,
    stage_ids: Collection[int] | None = None,
    limit: int | None = None,
) -> list[AtRisk]:
    """The dossiers overdue or due soon (at these stages, or all), the earliest promise first."""
    if stage_ids is not None and not stage_ids:
        return []
    overdue, due_soon = _conditions(session, calendar, now)
    query = (
        select(
            Dossier.id, Dossier.receipt_number, Dossier.stage_id, Stage.name, Company.name, Dossier.due_at,
            case((overdue, AlertKind.OVERDUE), else_=AlertKind.DUE_SOON),
        )
        .join(Stage, Stage.id == Dossier.stage_id)
        .join(Company, Company.id == Dossier.company_id)
        .where(Dossier.status == IN_PROGRESS, or_(overdue, due_soon))
        .order_by(Dossier.due_at, Dossier.id)
    )
    if stage_ids is not None:
        query = query.where(Dossier.stage_id.in_(tuple(stage_ids)))
    if limit is not None:
        query = query.limit(limit)
    return [
        AtRisk(id_, receipt, stage_id, stage, company, as_utc(due), kind)
        for id_, receipt, stage_id, stage, company, due, kind in session.execute(query).all()
    ]


def risk_counts(
    session: Session,
    calendar: WorkingCalendar,
    now: dt.datetime,
    *,
    stage_ids: Collection[int] | None = None,
) -> dict[int, tuple[int, int]]:
    """stage id -> (due soon, overdue), stages with neither left out; one GROUP BY."""
    if stage_ids is not None and not stage_ids:
        return {}
    overdue, due_soon = _conditions(session, calendar, now)
    query = (
        select(
            Dossier.stage_id,
            func.sum(case((due_soon, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(Dossier.status == IN_PROGRESS, or_(overdue, due_soon))
        .group_by(Dossier.stage_id)
    )
    if stage_ids is not None:
        query = query.where(Dossier.stage_id.in_(tuple(stage_ids)))
    return {stage_id: (int(soon or 0), int(late or 0)) for stage_id, soon, late in session.execute(query).all()}


# --------------------------------------------------------------------------- recipients


def _active_users_by_role(session: Session, roles: Collection[str]) -> dict[str, set[int]]:
    users: dict[str, set[int]] = {}
    rows = session.execute(
        select(ROLE_TABLE.c.name, ACCOUNT_TABLE.c.id)
        .join(ACCOUNT_ROLE_TABLE, ACCOUNT_ROLE_TABLE.c.role_id == ROLE_TABLE.c.id)
        .join(ACCOUNT_TABLE, ACCOUNT_TABLE.c.id == ACCOUNT_ROLE_TABLE.c.user_id)
        .where(ROLE_TABLE.c.name.in_(tuple(roles)), ACCOUNT_TABLE.c.active.is_(True))
    ).all()
    for role, user_id in rows:
        users.setdefault(role, set()).add(user_id)
    return users


def oversight_recipients(session: Session) -> list[tuple[int, str]]:
    """(user id, e-mail) of the active oversight users with an e-mail address, by id."""
    rows = session.execute(
        select(ACCOUNT_TABLE.c.id, ACCOUNT_TABLE.c.email)
        .join(ACCOUNT_ROLE_TABLE, ACCOUNT_ROLE_TABLE.c.user_id == ACCOUNT_TABLE.c.id)
        .join(ROLE_TABLE, ROLE_TABLE.c.id == ACCOUNT_ROLE_TABLE.c.role_id)
        .where(ROLE_TABLE.c.name.in_(OVERSIGHT_ROLES), ACCOUNT_TABLE.c.active.is_(True))
        .distinct()
        .order_by(ACCOUNT_TABLE.c.id)
    ).all()
    return [(user_id, email.strip()) for user_id, email in rows if email and email.strip()]


def is_oversight(roles: Collection[str]) -> bool:
    return any(role in OVERSIGHT_ROLES for role in roles)


# --------------------------------------------------------------------------- the scan


def scan(session: Session, calendar: WorkingCalendar, now: dt.datetime) -> int:
    """One Notification per at-risk dossier for each active officer of its stage's role and each
    active oversight user, unless already told about that very event. Returns how many were
    created. The caller commits."""
    risks = at_risk(session, calendar, now)
    if not risks:
        return 0
    roles = dict(session.execute(select(Stage.id, Stage.role_name).where(
        Stage.id.in_({r.stage_id for r in risks}))).all())
    users = _active_users_by_role(session, {*roles.values(), *OVERSIGHT_ROLES})
    oversight = set().union(*(users.get(role, set()) for role in OVERSIGHT_ROLES))
    created_at = as_utc(now)
    wanted: dict[tuple, dict] = {}
    for risk in risks:
        for recipient in users.get(roles[risk.stage_id], set()) | oversight:
            key = (recipient, risk.dossier_id, risk.kind, risk.due_at)
            wanted[key] = {"recipient_id": recipient, "dossier_id": risk.dossier_id, "kind": risk.kind,
                           "due_at": risk.due_at, "created_at": created_at}
    # What was told already: left out before writing (the unique key settles any race).
    ids = sorted({r.dossier_id for r in risks})
    for start in range(0, len(ids), _CHUNK):
        for recipient, dossier_id, kind, due in session.execute(
            select(Notification.recipient_id, Notification.dossier_id, Notification.kind, Notification.due_at)
            .where(Notification.dossier_id.in_(ids[start : start + _CHUNK]))
        ).all():
            wanted.pop((recipient, dossier_id, kind, as_utc(due)), None)
    return _insert_missing(session, list(wanted.values()))


def _insert_missing(session: Session, rows: list[dict]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        created = 0
        for start in range(0, len(rows), _CHUNK):
            statement = (
                dialect_insert(Notification).values(rows[start : start + _CHUNK])
                .on_conflict_do_nothing(index_elements=["recipient_id", "dossier_id", "kind", "due_at"])
                .returning(Notification.id)  # the rows written (rowcount is not reported by every driver)
            )
            created += len(session.execute(statement).all())
        return created
    created = 0  # any other database: one savepoint per row
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(insert(Notification).values(**row))
            created += 1
        except IntegrityError:
            pass
    return created


# --------------------------------------------------------------------------- one's own notifications


def unread_count(session: Session, user_id: int) -> int:
    """The bell's number: one COUNT over ix_notification_recipient_read."""
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    ) or 0


def notifications_of(session: Session, user_id: int, *, limit: int) -> Sequence:
    """The user's newest `limit` notifications with their dossier's receipt number and stage:
    rows of (id, dossier_id, receipt_number, stage, kind, due_at, created_at, read_at)."""
    return session.execute(
        select(
            Notification.id, Notification.dossier_id, Dossier.receipt_number, Stage.name.label("stage"),
            Notification.kind, Notification.due_at, Notification.created_at, Notification.read_at,
        )
        .join(Dossier, Dossier.id == Notification.dossier_id)
        .join(Stage, Stage.id == Dossier.stage_id)
        .where(Notification.recipient_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(session: Session, user_id: int, ids: Collection[int] | None, now: dt.datetime) -> int:
    """Marks the user's own unread notifications read (these ids, or all of them when None);
    another user's ids are left alone. Returns how many changed."""
    statement = (
        update(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=as_utc(now))
    )
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        statement = statement.where(Notification.id.in_(ids))
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


# --------------------------------------------------------------------------- the daily digest


def _claim_digest_day(session: Session, day: dt.date) -> bool:
    """Sets DashboardState.digest_day to `day` unless it is there already: True for the one caller
    that moved it (a second consumer waits on the row lock and then finds it moved)."""
    if session.get(DashboardState, 1) is None:
        try:
            with session.begin_nested():
                session.add(DashboardState(id=1))
        except IntegrityError:
            pass  # another consumer created it meanwhile
    moved = session.execute(
        update(DashboardState)
        .where(DashboardState.id == 1, or_(DashboardState.digest_day.is_(None), DashboardState.digest_day < day))
        .values(digest_day=day)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


def _tanggal(day: dt.date) -> str:
    return babel_dates.format_date(day, "d MMMM yyyy", locale="id")


def _moment(calendar: WorkingCalendar, instant: dt.datetime) -> str:
    local = as_utc(instant).astimezone(calendar.tz)
    return f"{_tanggal(local.date())} {local.hour:02d}.{local.minute:02d}"


KIND_TEXT = {AlertKind.OVERDUE: "Melewati SLA", AlertKind.DUE_SOON: "Jatuh tempo ≤ 1 hari kerja"}


@dataclass(frozen=True)
class Digest:
    subject: str
    body_text: str
    body_html: str


def build_digest(
    session: Session, calendar: WorkingCalendar, now: dt.datetime, day: dt.date, base_url: str,
) -> Digest:
    """The day's digest (one text for every recipient): counts per stage, then the dossiers."""
    counts = risk_counts(session, calendar, now)
    stage_names = dict(session.execute(select(Stage.id, Stage.name).where(Stage.id.in_(tuple(counts)))).all()) \
        if counts else {}
    order = sorted(counts, key=lambda s: (-counts[s][1], -counts[s][0], stage_names.get(s, "")))
    risks = at_risk(session, calendar, now, limit=DIGEST_LIST_LIMIT)
    total_soon = sum(c[0] for c in counts.values())
    total_late = sum(c[1] for c in counts.values())
    base = base_url.rstrip("/")
    subject = f"Ringkasan harian Loket — {_tanggal(day)}"
    intro = (f"Per {_moment(calendar, now)}: {total_late} berkas melewati SLA dan {total_soon} berkas "
             f"jatuh tempo dalam 1 hari kerja.")
    text = [subject, "", intro, ""]
    page = [f"<h2>{html.escape(subject)}</h2>", f"<p>{html.escape(intro)}</p>"]
    if counts:
        text.append("Per tahapan (melewati SLA / jatuh tempo ≤ 1 hari kerja):")
        page.append('<table border="1" cellpadding="4" cellspacing="0"><thead><tr><th>Tahapan</th>'
                    "<th>Melewati SLA</th><th>Jatuh tempo ≤ 1 hari kerja</th></tr></thead><tbody>")
        for stage_id in order:
            soon, late = counts[stage_id]
            name = stage_names.get(stage_id, str(stage_id))
            text.append(f"- {name}: {late} / {soon}")
            page.append(f"<tr><td>{html.escape(name)}</td><td>{late}</td><td>{soon}</td></tr>")
        page.append("</tbody></table>")
        text += ["", "Daftar berkas:"]
        page.append("<h3>Daftar berkas</h3><table border=\"1\" cellpadding=\"4\" cellspacing=\"0\"><thead><tr>"
                    "<th>Nomor pendaftaran</th><th>Perusahaan</th><th>Tahapan</th><th>Jatuh tempo</th>"
                    "<th>Keterangan</th></tr></thead><tbody>")
        for risk in risks:
            link = f"{base}/dossierview/show/{risk.dossier_id}"
            due = _moment(calendar, risk.due_at)
            text.append(f"- {risk.receipt_number} · {risk.company} · {risk.stage} · jatuh tempo {due} · "
                        f"{KIND_TEXT[risk.kind]} · {link}")
            page.append(
                f'<tr><td><a href="{html.escape(link)}">{html.escape(risk.receipt_number)}</a></td>'
                f"<td>{html.escape(risk.company)}</td><td>{html.escape(risk.stage)}</td><td>{html.escape(due)}</td>"
                f"<td>{html.escape(KIND_TEXT[risk.kind])}</td></tr>"
            )
        page.append("</tbody></table>")
        more = total_soon + total_late - len(risks)
        if more > 0:
            note = f"… dan {more} berkas lainnya (lihat Loket)."
            text.append(note)
            page.append(f"<p>{html.escape(note)}</p>")
    else:
        text.append("Tidak ada berkas yang melewati SLA atau jatuh tempo dalam 1 hari kerja.")
        page.append("<p>Tidak ada berkas yang melewati SLA atau jatuh tempo dalam 1 hari kerja.</p>")
    text += ["", "Pesan ini dikirim otomatis oleh Loket."]
    page.append("<p><small>Pesan ini dikirim otomatis oleh Loket.</small></p>")
    return Digest(subject, "\n".join(text) + "\n", "\n".join(page) + "\n")


def queue_digest(
    session: Session, calendar: WorkingCalendar, now: dt.datetime, *, base_url: str, enqueue: Enqueue,
) -> int:
    """From 07:00 office time on a working day, once per office day: one digest e-mail per active
    oversight user with an e-mail address, through `enqueue` (app.outbox.enqueue). Returns the
    number queued (0 before 07:00, on a day off, or when the day's digest was queued already).
    The caller commits: the day's mark and the messages go together."""
    local = as_utc(now).astimezone(calendar.tz)
    day = local.date()
    if not calendar.is_working_day(day) or local.time() < DIGEST_TIME:
        return 0
    if not _claim_digest_day(session, day):
        return 0
    recipients = oversight_recipients(session)
    if not recipients:
        return 0
    digest = build_digest(session, calendar, now, day, base_url)
    queued = 0
    for user_id, email in recipients:
        try:
            enqueue(session, recipient=email, subject=digest.subject, body_text=digest.body_text,
                    body_html=digest.body_html, dedup_key=f"digest:{day.isoformat()}:{user_id}", now=now)
        except ValueError:  # an address the outbox refuses: the others still get theirs
            log.warning("Ringkasan harian tidak dikirim ke pengguna %s: alamat e-mail tidak sah", user_id)
            continue
        queued += 1
    return queued

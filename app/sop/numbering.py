"""Gapless permit and register numbers, handed out inside the transaction that issues the permit.

A counter row per (series, year) holds the last number. Taking the next one is a single
UPDATE ... RETURNING on that row: PostgreSQL locks the row until the transaction ends, so
concurrent issuers queue behind it; SQLite takes the database write lock, which we make sure
is held from BEGIN IMMEDIATE on (SQLAlchemy drops FOR UPDATE on SQLite). A rolled-back
transaction rolls its number back with it, so numbers never skip; UNIQUE(series, year, seq)
on the numbered rows is the backstop against repeats.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.audit import Change, write
from app.audit.trail import jsonable
from app.models import AuditAction, Dossier, NumberCounter, Permit, PermitType, RegisterEntry
from app.sop.calendar import as_utc
from app.sop.number_format import format_permit_number
from app.transactions import begin_immediate

# The register book is one for the whole office; permits count per permit type.
REGISTER_SERIES = "REGISTER"
REGISTER_NUMBER_FORMAT = "REG/{seq:04d}/{year}"


def lock_counters(session: Session, series: Iterable[str], year: int) -> None:
    """Locks the counters a numbering move takes numbers from, before it locks any dossier.

    Every transaction that numbers takes its locks in this one order (the counters by name, the
    register's included, then its dossiers), so a bulk move and a single move never wait for
    each other in a circle: the one that holds the counters finishes, the other waits. Missing
    counter rows are made. SQLite: the write lock taken up front serialises them instead.
    """
    begin_immediate(session)
    names = sorted({*series, REGISTER_SERIES})
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for name in names:
        session.execute(dialect_insert(NumberCounter).values(series=name, year=year, last_seq=0).on_conflict_do_nothing())
    session.execute(
        select(NumberCounter.series).where(NumberCounter.year == year, NumberCounter.series.in_(names))
        .order_by(NumberCounter.series).with_for_update()
    ).all()


def numbering_year(now: dt.datetime, timezone: str) -> int:
    """The year a permit numbered now counts in: the office's, not UTC's."""
    return as_utc(now).astimezone(ZoneInfo(timezone)).year


def next_number(session: Session, series: str, year: int) -> int:
    """The next number of the series in this transaction: 1, 2, 3 … with no gap and no repeat."""
    begin_immediate(session)
    taken = session.execute(_TAKE_NEXT, {"counter_series": series, "counter_year": year}).scalar()
    if taken is not None:
        return taken
    # The series' first number this year: make its counter, then take from it.
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        dialect_insert(NumberCounter).values(series=series, year=year, last_seq=0).on_conflict_do_nothing()
    )
    return session.execute(_TAKE_NEXT, {"counter_series": series, "counter_year": year}).scalar_one()


_TAKE_NEXT = (
    update(NumberCounter)
    .where(NumberCounter.series == bindparam("counter_series"), NumberCounter.year == bindparam("counter_year"))
    .values(last_seq=NumberCounter.last_seq + 1)
    .returning(NumberCounter.last_seq)
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True)
class Issued:
    permit_number: str
    register_number: str
    token: str


@dataclass(frozen=True)
class Numbered:
    """What numbering decides about a permit, besides the records it prints."""

    number: str
    token: str
    issued_on: dt.date
    valid_until: dt.date | None


# Everything the permit prints, as it will be printed for ever (app.printing.describe_permits):
# called with the dossier (company and applicant loaded), its permit type and the numbers.
DescribePermit = Callable[[Session, Dossier, PermitType, Numbered], dict[str, Any]]


def issue_permit(
    session: Session, dossier: Dossier, now: dt.datetime, timezone: str, describe: DescribePermit
) -> Issued:
    """Numbers the dossier's permit and writes its Permit row (with what it prints, frozen from
    now on) and its register line, and their audit trail.

    The year is the issue date's year in the office's time zone (1 January 00:30 WIB is the new
    year, although it is still 31 December in UTC). The caller's transaction commits or rolls
    back the numbers together with the move. A correction's permit supersedes the permit its
    dossier corrects.
    """
    now = as_utc(now)  # SQLite keeps no zone: every stored instant is UTC
    issued_on = now.astimezone(ZoneInfo(timezone)).date()
    year = issued_on.year
    permit_type = session.get(PermitType, dossier.permit_type_id)
    seq = next_number(session, permit_type.code, year)
    number = format_permit_number(
        permit_type.permit_number_format, seq=seq, year=year, prefix=permit_type.receipt_prefix
    )
    register_seq = next_number(session, REGISTER_SERIES, year)
    register_number = REGISTER_NUMBER_FORMAT.format(seq=register_seq, year=year)
    valid_until = (
        issued_on + relativedelta(months=permit_type.validity_months) - dt.timedelta(days=1)
        if permit_type.validity_months
        else None
    )
    token = secrets.token_urlsafe(24)
    snapshot = describe(session, dossier, permit_type, Numbered(number, token, issued_on, valid_until))
    permit = dict(
        dossier_id=dossier.id, permit_type_id=permit_type.id, series=permit_type.code, year=year, seq=seq,
        number=number, issued_at=now, issued_on=issued_on, valid_until=valid_until, token=token,
        supersedes_id=dossier.corrects_permit_id,
    )
    line = dict(
        register_number=register_number, year=year, seq=register_seq, entry_date=issued_on,
        dossier_id=dossier.id, permit_number=number, company_id=dossier.company_id,
        applicant_id=dossier.applicant_id, permit_type_id=permit_type.id, issue_date=issued_on,
    )
    permit_id = session.execute(insert(Permit).returning(Permit.id), [{**permit, "snapshot": snapshot}]).scalar_one()
    line_id = session.execute(insert(RegisterEntry).returning(RegisterEntry.id), [line]).scalar_one()
    # Their trail from the values written (one cached INSERT: numbering happens one by one).
    write(session, [
        Change("permit", permit_id, AuditAction.CREATE, _filled(permit), dossier.id),
        Change("register_entry", line_id, AuditAction.CREATE, _filled(line), dossier.id),
    ], now=now)
    return Issued(number, register_number, token)


def _filled(values: dict) -> dict:
    return {key: jsonable(value) for key, value in values.items() if value is not None}


def permit_of(session: Session, dossier_id: int) -> Permit | None:
    return session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))

"""The one search box: what an officer types (a receipt or permit number, a NIK, NIB or NPWP, or
part of a company's or applicant's name) -> the dossiers, companies and applicants it names.

Plain SQLAlchemy, no Flask: search(session, text, kinds) runs a few indexed statements and
returns at most GROUP_LIMIT rows per group, each group knowing whether there were more.

- digits (separators ignored): NIK, NIB and NPWP starting with them, in number order: a range on
  each column's btree index (digit strings sort digit by digit under any collation) that stops at
  the group's last row, however many numbers share the prefix;
- a code (no spaces, a digit and a letter or separator): the receipt or permit number equal to it
  (unique indexes), else receipt numbers starting with it;
- anything else, or a code that named nothing: names containing every word. PostgreSQL answers
  that from the trigram indexes (migration 0012); SQLite walks the name's own index in name order
  and stops at the group's last row (a name no row has costs one pass over the index).
The dossiers of a party search are those of the parties found (their foreign key indexes).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, or_, select, union
from sqlalchemy.orm import Session

from app.models import Applicant, Company, Dossier, Permit, RegisterEntry, Stage

DOSSIERS, COMPANIES, APPLICANTS = "dossiers", "companies", "applicants"
KINDS = (DOSSIERS, COMPANIES, APPLICANTS)
GROUP_LIMIT = 20
MIN_LENGTH = 3
MAX_LENGTH = 100

# How the text was read.
DIGITS, CODE, NAME = "digits", "code", "name"
# Why nothing was searched.
EMPTY, TOO_SHORT, TOO_LONG = "empty", "too_short", "too_long"

_SEPARATORS = re.compile(r"[\s.\-/]")
_LIKE_SPECIAL = re.compile(r"([\\%_])")
# Above every character: the upper end of "starts with" as a range (SQLite compares bytes).
_LAST_CHARACTER = "\U0010ffff"


@dataclass(frozen=True)
class DossierHit:
    id: int
    receipt_number: str
    company_name: str | None
    applicant_name: str | None
    stage_name: str | None
    status: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class CompanyHit:
    id: int
    name: str
    nib: str
    npwp: str | None


@dataclass(frozen=True)
class ApplicantHit:
    id: int
    full_name: str
    nik: str
    company_name: str | None


@dataclass
class Group:
    hits: list = field(default_factory=list)
    more: bool = False  # more rows matched than are listed


@dataclass
class SearchResult:
    text: str  # as searched: trimmed, spaces collapsed
    problem: str | None = None  # EMPTY, TOO_SHORT or TOO_LONG: nothing was searched
    reading: str | None = None  # DIGITS, CODE or NAME: how the text was last read
    digits: str = ""  # the text without separators (for DIGITS)
    groups: dict[str, Group] = field(default_factory=dict)  # only the kinds asked for
    # The one dossier whose receipt or permit number is exactly the text.
    exact_dossier_id: int | None = None

    @property
    def found(self) -> bool:
        return any(group.hits for group in self.groups.values())


def search(session: Session, text: str, kinds: Collection[str] = KINDS, limit: int = GROUP_LIMIT) -> SearchResult:
    """The dossiers, companies and applicants the text names, for the kinds asked for (the ones
    the officer may list); at most `limit` of each."""
    text = " ".join(str(text or "").replace("\x00", "").split())
    result = SearchResult(text=text[:MAX_LENGTH])
    if not text:
        result.problem = EMPTY
    elif len(text) > MAX_LENGTH:
        result.problem = TOO_LONG
    elif len(text) < MIN_LENGTH:
        result.problem = TOO_SHORT
    if result.problem or not kinds:
        return result
    digits = _SEPARATORS.sub("", text)
    searcher = _Searcher(session, set(kinds), limit)
    if digits.isdigit():
        result.reading, result.digits = DIGITS, digits
        result.groups = searcher.parties(
            _company_number_prefix(digits, limit), _digit_prefix(Applicant.nik, digits),
            company_order=(Company.nib, Company.id), applicant_order=(Applicant.nik, Applicant.id),
        )
        return result
    if DOSSIERS in kinds and " " not in text and any(c.isdigit() for c in text):
        result.reading = CODE
        exact = searcher.dossiers(_named_by_number(text))
        if exact.hits:
            result.groups = {DOSSIERS: exact}
            if len(exact.hits) == 1:
                result.exact_dossier_id = exact.hits[0].id
            return result
        prefix = searcher.dossiers(_receipt_prefix(session, text.upper()), order=(Dossier.receipt_number,))
        if prefix.hits:
            result.groups = {DOSSIERS: prefix}
            return result
    result.reading = NAME
    result.groups = searcher.parties(_contains_words(session, Company.name, text),
                                     _contains_words(session, Applicant.full_name, text))
    return result


class _Searcher:
    def __init__(self, session: Session, kinds: set[str], limit: int) -> None:
        self.session, self.kinds, self.limit = session, kinds, limit

    def _group(self, rows: Sequence, make: type) -> Group:
        return Group([make(*row) for row in rows[: self.limit]], len(rows) > self.limit)

    def parties(
        self, company_match: ColumnElement[bool], applicant_match: ColumnElement[bool],
        company_order: tuple = (Company.name, Company.id), applicant_order: tuple = (Applicant.full_name, Applicant.id),
    ) -> dict[str, Group]:
        """Companies and applicants matching, and the dossiers of those listed."""
        groups: dict[str, Group] = {}
        companies = applicants = Group()
        if self.kinds & {COMPANIES, DOSSIERS}:
            companies = self._group(self.session.execute(
                select(Company.id, Company.name, Company.nib, Company.npwp).where(company_match)
                .order_by(*company_order).limit(self.limit + 1)
            ).all(), CompanyHit)
        if self.kinds & {APPLICANTS, DOSSIERS}:
            applicants = self._group(self.session.execute(
                select(Applicant.id, Applicant.full_name, Applicant.nik, Company.name)
                .outerjoin(Applicant.company).where(applicant_match)
                .order_by(*applicant_order).limit(self.limit + 1)
            ).all(), ApplicantHit)
        if DOSSIERS in self.kinds:
            company_ids = [hit.id for hit in companies.hits]
            applicant_ids = [hit.id for hit in applicants.hits]
            if company_ids or applicant_ids:
                dossiers = self.dossiers(or_(Dossier.company_id.in_(company_ids), Dossier.applicant_id.in_(applicant_ids)))
                # Dossiers of parties not listed may match too.
                dossiers.more = dossiers.more or companies.more or applicants.more
            else:
                dossiers = Group()
            groups[DOSSIERS] = dossiers
        if COMPANIES in self.kinds:
            groups[COMPANIES] = companies
        if APPLICANTS in self.kinds:
            groups[APPLICANTS] = applicants
        return groups

    def dossiers(self, match: ColumnElement[bool], order: tuple = ()) -> Group:
        """Matching dossiers with their parties' and stage's names, newest first by default."""
        order = order or (Dossier.submitted_at.desc(), Dossier.id.desc())
        rows = self.session.execute(
            select(Dossier.id, Dossier.receipt_number, Company.name, Applicant.full_name, Stage.name, Dossier.status,
                   Dossier.submitted_at)
            .select_from(Dossier).outerjoin(Dossier.company).outerjoin(Dossier.applicant).outerjoin(Dossier.stage)
            .where(match).order_by(*order).limit(self.limit + 1)
        ).all()
        return self._group(rows, DossierHit)


def _named_by_number(text: str) -> ColumnElement[bool]:
    """The dossier whose receipt number, permit number or register line's permit number is the
    text (as typed or in capitals): unique indexes, one statement."""
    values = list(dict.fromkeys((text, text.upper())))
    ids = union(
        select(Dossier.id).where(Dossier.receipt_number.in_(values)),
        select(Permit.dossier_id).where(Permit.number.in_(values)),
        select(RegisterEntry.dossier_id).where(RegisterEntry.permit_number.in_(values),
                                              RegisterEntry.dossier_id.is_not(None)),
    )
    return Dossier.id.in_(ids.scalar_subquery())


def _company_number_prefix(digits: str, limit: int) -> ColumnElement[bool]:
    """Companies whose NIB or NPWP starts with the digits: per column the first limit + 1 in
    number order, so each index walk stops early however many numbers share the prefix."""
    firsts = (
        select(select(Company.id).where(_digit_prefix(column, digits)).order_by(column).limit(limit + 1).subquery())
        for column in (Company.nib, Company.npwp)
    )
    return Company.id.in_(union(*firsts).scalar_subquery())


def _receipt_prefix(session: Session, prefix: str) -> ColumnElement[bool]:
    """Receipt numbers starting with the prefix: LIKE on PostgreSQL (its trigram index), a range
    on SQLite's unique index (its LIKE ignores case, so it cannot use that index)."""
    column = Dossier.receipt_number
    if session.get_bind().dialect.name == "sqlite":
        return and_(column >= prefix, column < prefix + _LAST_CHARACTER)
    return column.startswith(prefix, autoescape=True)


def _digit_prefix(column: ColumnElement, digits: str) -> ColumnElement[bool]:
    """A digits-only column starting with these digits, as a range its btree index answers."""
    upper = _next_digits(digits)
    return and_(column >= digits, column < upper) if upper else column >= digits


def _next_digits(digits: str) -> str | None:
    """The smallest digit string above every string starting with `digits` ("6199" -> "62");
    None when they are all nines."""
    stripped = digits.rstrip("9")
    if not stripped:
        return None
    return stripped[:-1] + str(int(stripped[-1]) + 1)


def _contains_words(session: Session, column: ColumnElement, text: str) -> ColumnElement[bool]:
    """Every word of the text somewhere in the column, ignoring case (the grids' "contains").
    SQLite's own LIKE ignores case already (ASCII, as its lower() does): without ILIKE's lower()
    on every row a scan takes a third of the time."""
    words = [_LIKE_SPECIAL.sub(r"\\\1", word) for word in text.split()]
    like = column.like if session.get_bind().dialect.name == "sqlite" else column.ilike
    return and_(*(like(f"%{word}%", escape="\\") for word in words))

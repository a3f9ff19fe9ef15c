"""Gapless permit and register numbers (app.sop.numbering) on SQLite, with a bare SQLAlchemy session.

Numbers count 1, 2, 3 per (series, year) in the office's time zone; a rolled-back transaction gives
its number back; the engine numbers a permit in the same transaction as the move into the issuing
stage; concurrent issuers on one SQLite file queue on the write lock and never share a number.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every table known before create_all)
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    NumberCounter,
    Permit,
    PermitType,
    RegisterEntry,
    create_all,
)
from app.security.roles import KEPALA_DINAS, STAGE_ROLES
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier
from app.sop.loader import load_sops, parse_sop_dir
from app.sop.machine import Action, load_situation, move
from app.sop.numbering import REGISTER_SERIES, issue_permit, next_number, permit_of
from tests.paper_samples import DESCRIBE_PERMIT

SEED = Path(__file__).resolve().parents[2] / "seed" / "sop"
POOL = "IZIN_POOL_KENDARAAN"
OTHER = "IZIN_UJI_NOMOR"  # a second permit type, made from SOP 76's file in _second_permit_type
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # Monday 09.00 WIB
WIB = dt.timezone(dt.timedelta(hours=7))
TZ = "Asia/Jakarta"

_n = itertools.count(1)


# --- helpers ---------------------------------------------------------------------------------------------


def _permit_type(session: Session, code: str = POOL) -> PermitType:
    return session.scalar(select(PermitType).where(PermitType.code == code))


def _dossier(session: Session, code: str = POOL, *, stage_code: str | None = None, ready: bool = False) -> int:
    """A dossier opened as the Front Office opens one; optionally placed at a stage, and with every
    mandatory requirement verified (ready=True) so the stage's role may advance it."""
    permit = _permit_type(session, code)
    n = next(_n)
    company = Company(
        name=f"PT Nomor Uji {n}", legal_form="PT", nib=f"{9130000000000 + n}", npwp="012345678901000",
        deed_number="12", deed_date=dt.date(2020, 3, 4), address="Jl. Pangeran Cinata 1",
    )
    with session.no_autoflush:
        dossier = Dossier(
            company=company,
            applicant=Applicant(full_name=f"Uji {n}", nik=f"61080145089{n:05d}", email=f"uji{n}@contoh.id"),
            site_address="Jl. Raya Ngabang Km 3", vehicle_capacity=12,
        )
        open_dossier(dossier, permit, NOW, WorkingCalendar(), actor_id=None)
        if stage_code:
            dossier.stage = next(s for s in permit.stages if s.code == stage_code)
    session.add(dossier)
    session.flush()
    if ready:
        for requirement in permit.requirements:
            if requirement.is_mandatory:
                session.add(Document(
                    dossier_id=dossier.id, requirement_type_id=requirement.id,
                    original_filename=f"{requirement.code}.pdf", storage_key="x" * 64, size_bytes=1,
                    sha256="x" * 64, verified_at=NOW,
                ))
    session.commit()
    return dossier.id


def _second_permit_type(session: Session, tmp_path: Path) -> None:
    """Loads a copy of SOP 76 under another code, prefix and number format (valid 12 months)."""
    text = (SEED / "izin_pool_kendaraan.yaml").read_text(encoding="utf-8")
    text = text.replace(f"code: {POOL}", f"code: {OTHER}", 1)
    text = text.replace("receipt_prefix: IPK", "receipt_prefix: IUN", 1)
    text = text.replace("/IPK/DPMPTSPTK/", "/IUN/DPMPTSPTK/", 1)
    text = re.sub(r"(?m)^validity_months: null.*$", "validity_months: 12", text)
    directory = tmp_path / "second_sop"
    directory.mkdir()
    (directory / "izin_uji_nomor.yaml").write_text(text, encoding="utf-8")
    load_sops(session, parse_sop_dir(directory, STAGE_ROLES, 510))


def _counter(session: Session, series: str, year: int) -> int | None:
    return session.scalar(
        select(NumberCounter.last_seq).where(NumberCounter.series == series, NumberCounter.year == year)
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _file_database(tmp_path: Path, *, with_sops: bool = False) -> str:
    """A SQLite file with the whole schema (and SOP 76 loaded if asked); returns its URL."""
    url = f"sqlite:///{tmp_path / 'numbers.db'}"
    engine = create_engine(url)
    create_all(engine)
    if with_sops:
        shutil.copytree(SEED, tmp_path / "sop")
        with Session(engine) as session:
            load_sops(session, parse_sop_dir(tmp_path / "sop", STAGE_ROLES, 510))
    engine.dispose()
    return url


# --- numbering per series and year ------------------------------------------------------------------------


def test_next_number_counts_one_two_three_per_series_and_year_independently(session):
    taken = [
        (series, year, next_number(session, series, year))
        for series, year in [
            ("A", 2026), ("A", 2026), ("B", 2026), ("A", 2027), ("A", 2026), ("B", 2026), ("A", 2027), ("B", 2027),
        ]
    ]
    session.commit()
    assert taken == [
        ("A", 2026, 1), ("A", 2026, 2), ("B", 2026, 1), ("A", 2027, 1),
        ("A", 2026, 3), ("B", 2026, 2), ("A", 2027, 2), ("B", 2027, 1),
    ]
    assert (_counter(session, "A", 2026), _counter(session, "B", 2026), _counter(session, "A", 2027)) == (3, 2, 2)


def test_issue_permit_numbers_per_permit_type_and_year_in_asia_jakarta(session, tmp_path):
    _second_permit_type(session, tmp_path)
    pool = [_dossier(session, POOL) for _ in range(4)]
    other = [_dossier(session, OTHER) for _ in range(2)]
    last_wib_minute_of_2026 = dt.datetime(2026, 12, 31, 16, 59, tzinfo=dt.timezone.utc)  # 31 Dec 23.59 WIB
    new_year_in_wib = dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.timezone.utc)  # 1 Jan 2027 00.30 WIB
    plan = [
        (pool[0], NOW), (other[0], NOW), (pool[1], last_wib_minute_of_2026),
        (pool[2], new_year_in_wib), (other[1], new_year_in_wib), (pool[3], new_year_in_wib + dt.timedelta(hours=1)),
    ]
    issued = []
    for dossier_id, when in plan:
        issued.append(issue_permit(session, session.get(Dossier, dossier_id), when, TZ, DESCRIBE_PERMIT))
        session.commit()

    assert [i.permit_number for i in issued] == [
        "503/0001/IPK/DPMPTSPTK/2026",
        "503/0001/IUN/DPMPTSPTK/2026",  # its own series: starts at 1 too
        "503/0002/IPK/DPMPTSPTK/2026",
        "503/0001/IPK/DPMPTSPTK/2027",  # still 2026 in UTC, already 2027 in Ngabang
        "503/0001/IUN/DPMPTSPTK/2027",
        "503/0002/IPK/DPMPTSPTK/2027",
    ]
    # One register book for the office: it counts across permit types, per year.
    assert [i.register_number for i in issued] == [
        "REG/0001/2026", "REG/0002/2026", "REG/0003/2026", "REG/0001/2027", "REG/0002/2027", "REG/0003/2027",
    ]
    new_year = permit_of(session, pool[2])
    assert (new_year.series, new_year.year, new_year.seq) == (POOL, 2027, 1)
    assert new_year.issued_on == dt.date(2027, 1, 1)
    assert permit_of(session, pool[1]).issued_on == dt.date(2026, 12, 31)
    assert permit_of(session, pool[0]).valid_until is None  # SOP 76 states no validity
    assert permit_of(session, other[0]).valid_until == dt.date(2027, 11, 29)  # 12 months less a day
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.dossier_id == pool[2]))
    assert (entry.year, entry.seq, entry.entry_date, entry.permit_number) == (
        2027, 1, dt.date(2027, 1, 1), "503/0001/IPK/DPMPTSPTK/2027"
    )
    tokens = session.scalars(select(Permit.token)).all()
    assert len(set(tokens)) == len(tokens) == 6 and all(len(t) >= 32 for t in tokens)
    assert {(c.series, c.year): c.last_seq for c in session.scalars(select(NumberCounter))} == {
        (POOL, 2026): 2, (POOL, 2027): 2, (OTHER, 2026): 1, (OTHER, 2027): 1,
        (REGISTER_SERIES, 2026): 3, (REGISTER_SERIES, 2027): 3,
    }


def test_a_rolled_back_number_is_handed_out_again_so_no_gap(session):
    first, lost, second = (_dossier(session) for _ in range(3))
    assert issue_permit(session, session.get(Dossier, first), NOW, TZ, DESCRIBE_PERMIT).permit_number == "503/0001/IPK/DPMPTSPTK/2026"
    session.commit()

    taken = issue_permit(session, session.get(Dossier, lost), NOW, TZ, DESCRIBE_PERMIT)
    assert taken.permit_number == "503/0002/IPK/DPMPTSPTK/2026"
    session.rollback()
    assert _counter(session, POOL, 2026) == 1 and _counter(session, REGISTER_SERIES, 2026) == 1
    assert permit_of(session, lost) is None

    again = issue_permit(session, session.get(Dossier, second), NOW, TZ, DESCRIBE_PERMIT)
    session.commit()
    assert (again.permit_number, again.register_number) == ("503/0002/IPK/DPMPTSPTK/2026", "REG/0002/2026")
    assert sorted(session.scalars(select(Permit.seq))) == [1, 2]
    assert sorted(session.scalars(select(RegisterEntry.seq))) == [1, 2]


def test_a_transaction_that_read_first_still_takes_the_write_lock_before_numbering(tmp_path):
    """begin_immediate: the numbering transaction holds SQLite's write lock until it ends, even when
    the session had only read before (pysqlite would otherwise begin a deferred transaction)."""
    url = _file_database(tmp_path)
    engine = create_engine(url, connect_args={"timeout": 30})
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(NumberCounter)) == 0  # a read first
            assert next_number(session, "IPK", 2026) == 1
            other = sqlite3.connect(tmp_path / "numbers.db", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                session.commit()
                other.execute("BEGIN IMMEDIATE")  # free again once the numbering transaction ended
                other.execute("ROLLBACK")
            finally:
                other.close()
    finally:
        engine.dispose()


# --- the engine numbers the permit in the move's transaction ---------------------------------------------


def test_advancing_into_penomoran_cetak_issues_one_permit_and_one_register_line(session):
    dossier_id = _dossier(session, stage_code="PENANDATANGANAN", ready=True)
    outcome = move(session, dossier_id, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS}, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT)
    session.commit()

    assert outcome.moved, outcome.reasons
    assert outcome.to_stage == "Penomoran dan Cetak"
    assert outcome.permit_number == "503/0001/IPK/DPMPTSPTK/2026"
    session.expire_all()
    dossier = session.get(Dossier, dossier_id)
    assert (dossier.stage.code, dossier.status) == ("PENOMORAN_CETAK", "issued")
    permit = session.scalars(select(Permit)).one()
    assert (permit.dossier_id, permit.series, permit.year, permit.seq, permit.number) == (
        dossier_id, POOL, 2026, 1, "503/0001/IPK/DPMPTSPTK/2026"
    )
    assert permit.issued_on == dt.date(2026, 11, 30)
    entry = session.scalars(select(RegisterEntry)).one()
    assert (entry.dossier_id, entry.register_number, entry.permit_number, entry.company_id, entry.applicant_id) == (
        dossier_id, "REG/0001/2026", permit.number, dossier.company_id, dossier.applicant_id
    )

    # Moving on (handover) keeps the permit as it is and numbers nothing more.
    outcome = move(session, dossier_id, Action.ADVANCE, actor_id=None, roles={"Back Office"}, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT)
    session.commit()
    assert outcome.moved and outcome.permit_number == ""
    assert (_count(session, Permit), _count(session, RegisterEntry)) == (1, 1)
    assert _counter(session, POOL, 2026) == 1


def test_a_move_rolled_back_after_numbering_leaves_no_permit_no_register_line_and_no_gap(session):
    first = _dossier(session, stage_code="PENANDATANGANAN", ready=True)
    second = _dossier(session, stage_code="PENANDATANGANAN", ready=True)
    assert move(session, first, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS}, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT).moved
    session.commit()

    outcome = move(session, second, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS}, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT)
    assert outcome.moved and outcome.permit_number == "503/0002/IPK/DPMPTSPTK/2026"
    session.rollback()  # e.g. the request failed after the move

    assert (_count(session, Permit), _count(session, RegisterEntry)) == (1, 1)
    assert permit_of(session, second) is None
    assert (_counter(session, POOL, 2026), _counter(session, REGISTER_SERIES, 2026)) == (1, 1)
    dossier = session.get(Dossier, second)
    assert (dossier.stage.code, dossier.status, dossier.version) == ("PENANDATANGANAN", "in_progress", 1)

    retried = move(session, second, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS}, note=None, now=NOW,
                   describe_permit=DESCRIBE_PERMIT)
    session.commit()
    assert retried.permit_number == "503/0002/IPK/DPMPTSPTK/2026"
    assert sorted(session.scalars(select(RegisterEntry.register_number))) == ["REG/0001/2026", "REG/0002/2026"]


# --- concurrent issuers on one SQLite file ---------------------------------------------------------------


class _Abandoned(Exception):
    """A worker's transaction fails after it took its number."""


def _take_concurrently(url: str, workers: int, failing: int | None = None, hold: float = 0.03) -> list[int | None]:
    """Each worker: its own engine and connection, waits at a barrier, takes a number in its own
    transaction, sleeps inside it, then commits (or, for `failing`, raises and rolls back)."""
    barrier = threading.Barrier(workers, timeout=60)

    def worker(index: int) -> int | None:
        engine = create_engine(url, connect_args={"timeout": 30})
        try:
            with Session(engine) as session:
                session.scalar(select(func.count()).select_from(NumberCounter))  # connected before the race
                barrier.wait()
                number = next_number(session, "IPK", 2026)
                time.sleep(hold)
                if index == failing:
                    try:
                        raise _Abandoned(number)
                    except _Abandoned:
                        session.rollback()
                        return None
                session.commit()
                return number
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(worker, range(workers)))


def test_twenty_concurrent_transactions_on_a_sqlite_file_take_one_to_twenty(tmp_path):
    url = _file_database(tmp_path)
    numbers = _take_concurrently(url, 20)
    assert sorted(numbers) == list(range(1, 21))
    engine = create_engine(url)
    with Session(engine) as session:
        assert _counter(session, "IPK", 2026) == 20
    engine.dispose()


def test_a_concurrent_transaction_rolled_back_in_the_middle_leaves_no_gap_on_sqlite(tmp_path):
    url = _file_database(tmp_path)
    numbers = _take_concurrently(url, 20, failing=9)
    assert numbers[9] is None
    assert sorted(n for n in numbers if n is not None) == list(range(1, 20))
    engine = create_engine(url)
    with Session(engine) as session:
        assert _counter(session, "IPK", 2026) == 19
    engine.dispose()


def test_concurrent_engine_moves_into_the_issuing_stage_on_a_sqlite_file(tmp_path):
    """The real path on the default database: ten Kepala Dinas moves at once, one failing after numbering."""
    url = _file_database(tmp_path, with_sops=True)
    setup = create_engine(url)
    with Session(setup) as session:
        dossier_ids = [_dossier(session, stage_code="PENANDATANGANAN", ready=True) for _ in range(10)]
    workers, failing = len(dossier_ids), 4
    barrier = threading.Barrier(workers, timeout=60)

    def kepala_dinas_signs(index: int) -> str:
        engine = create_engine(url, connect_args={"timeout": 30})
        try:
            with Session(engine) as session:
                situation = load_situation(session, dossier_ids[index])
                barrier.wait()
                outcome = move(session, situation.dossier.id, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS},
                               note=None, now=NOW, describe_permit=DESCRIBE_PERMIT)
                assert outcome.moved, outcome.reasons
                time.sleep(0.03)
                if index == failing:
                    session.rollback()
                    return ""
                session.commit()
                return outcome.permit_number
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = list(pool.map(kepala_dinas_signs, range(workers)))

    assert numbers[failing] == ""
    assert sorted(n for n in numbers if n) == [f"503/{s:04d}/IPK/DPMPTSPTK/2026" for s in range(1, workers)]
    with Session(setup) as session:
        assert sorted(session.scalars(select(Permit.seq))) == list(range(1, workers))
        assert sorted(session.scalars(select(RegisterEntry.seq))) == list(range(1, workers))
        assert sorted(session.scalars(select(Permit.dossier_id))) == sorted(
            d for i, d in enumerate(dossier_ids) if i != failing
        )
        assert session.get(Dossier, dossier_ids[failing]).stage.code == "PENANDATANGANAN"
    setup.dispose()


# --- the UNIQUE backstop ---------------------------------------------------------------------------------


def test_a_second_permit_with_the_same_series_year_and_seq_is_refused(session):
    issued, intruder = _dossier(session), _dossier(session)
    issue_permit(session, session.get(Dossier, issued), NOW, TZ, DESCRIBE_PERMIT)
    session.commit()
    permit = permit_of(session, issued)
    with pytest.raises(IntegrityError, match=r"permit\.series, permit\.year, permit\.seq"):
        session.execute(insert(Permit), [dict(
            dossier_id=intruder, permit_type_id=permit.permit_type_id, series=permit.series, year=permit.year,
            seq=permit.seq, number="503/0001/IPK/DPMPTSPTK/2026-dup", issued_at=NOW, issued_on=NOW.date(),
            token="another-token", snapshot=permit.snapshot,
        )])
    session.rollback()
    assert _count(session, Permit) == 1


def test_a_second_register_line_with_the_same_year_and_seq_is_refused(session):
    issued, intruder = _dossier(session), _dossier(session)
    issue_permit(session, session.get(Dossier, issued), NOW, TZ, DESCRIBE_PERMIT)
    session.commit()
    entry = session.scalars(select(RegisterEntry)).one()
    other = session.get(Dossier, intruder)
    with pytest.raises(IntegrityError, match=r"register_entry\.year, register_entry\.seq"):
        session.execute(insert(RegisterEntry), [dict(
            register_number="REG/0001/2026-dup", year=entry.year, seq=entry.seq, entry_date=entry.entry_date,
            dossier_id=intruder, permit_number="dup", company_id=other.company_id, applicant_id=other.applicant_id,
            permit_type_id=entry.permit_type_id, issue_date=entry.issue_date,
        )])
    session.rollback()

"""Realistic, deterministic demo data for Kabupaten Landak (SOP 76, Izin Pool Kendaraan).

`generate(dossiers, seed)` fills an EMPTY database with companies, applicants, dossiers (each with
its vehicle pool site) spread over the twelve months before the reference date, each dossier's
stage history, the verified documents of each dossier, and for every dossier that advanced into
the SOP's issuing stage (Stage.issues_permit) what app.sop.numbering would have written: the
numbered Permit, its register line, and the number counters the next real issue continues from.

- Deterministic: the same seed and the same reference date give identical rows (one seeded
  random.Random drives everything; nothing reads the clock except the default reference date).
- Plausible: submissions fall on working days (WorkingCalendar) within office hours 07:30-16:00
  WIB, every later event too; stage stays follow the SOP time standards, sometimes over; NIK,
  NIB, NPWP, e-mail and phone pass app.validators. E-mail addresses use the reserved `.example`
  domain so demo data can never mail a real inbox.
- Fast and lean: streamed a chunk at a time (COPY on PostgreSQL, the driver's executemany on
  SQLite), no ORM objects; what later steps need stays in flat arrays, and uniqueness is kept
  as ints and per-name counts, not sets of strings (about 480 MB peak at 1,000,000 dossiers).
  Ends with ANALYZE (VACUUM ANALYZE on PostgreSQL), so the planner knows the new rows.
- Refuses a database that already holds companies, applicants, dossiers, permits or number
  counters: demo rows must never mix with real ones (a demo permit would otherwise take a number
  in the real register book).
"""
from __future__ import annotations

import datetime as dt
import random
import time
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    DossierStatus,
    NumberCounter,
    Permit,
    PermitType,
    RegisterEntry,
    RequirementType,
    Stage,
    StageEvent,
)
from app.printing import Office
from app.sop.calendar import WorkingCalendar
from app.sop.numbering import Numbered

from .errors import DemoError
from .identities import _Generator
from .records import REQUIREMENT_FILES, _documents, _issue, _Numbers, _PermitKind, snapshot_maker
from .walk import REJECT, RETURN, STAGE_CODES, WorkClock, _Walker
from .writer import (
    APPLICANT_COLUMNS,
    CHUNK,
    COMPANY_COLUMNS,
    COUNTER_COLUMNS,
    DOCUMENT_COLUMNS,
    DOSSIER_COLUMNS,
    EVENT_COLUMNS,
    PERMIT_COLUMNS,
    REGISTER_COLUMNS,
    _Writer,
)

__all__ = ["DEFAULT_SEED", "DEMO_PERMIT_CODE", "DemoError", "WorkClock", "generate"]

# Read by generate() from this module's globals, so tests can patch seed.demo.DEMO_PERMIT_CODE.
DEMO_PERMIT_CODE = "IZIN_POOL_KENDARAAN"
DEFAULT_SEED = 76
WINDOW_DAYS = 365
DOCUMENTS_UP_TO = 20_000


# --------------------------------------------------------------------------- entry point

def generate(
    dossiers: int,
    seed: int = DEFAULT_SEED,
    reference_date: dt.date | None = None,
    with_documents: bool | None = None,
) -> str:
    """Fills an empty database with demo data; returns a one-line Indonesian summary.

    reference_date: "today" of the data (default: today in the office's timezone). Dossiers are
    submitted on the working days of the 365 days before it; nothing happens on or after it.
    with_documents: a verified Document row per requirement a dossier has passed (~9 per
    dossier). Default: only up to DOCUMENTS_UP_TO dossiers, since at 100,000 dossiers they
    would add about 40 % to the run time and no grid benchmark reads them.
    """
    started = time.perf_counter()
    session = db.session
    permit = session.scalar(select(PermitType).where(PermitType.code == DEMO_PERMIT_CODE))
    if permit is None:
        raise DemoError(
            f"Jenis izin {DEMO_PERMIT_CODE} belum dimuat. Jalankan dulu `flask --app run.py loket init` "
            "(atau `loket load-sop`), lalu ulangi."
        )
    stages = list(session.scalars(select(Stage).where(Stage.permit_type_id == permit.id).order_by(Stage.seq)))
    missing = [code for code in STAGE_CODES if code not in {s.code for s in stages}]
    if missing:
        raise DemoError(f"SOP {DEMO_PERMIT_CODE} tidak memuat tahapan yang dibutuhkan data demo: {', '.join(missing)}.")
    counts = {
        "perusahaan": session.scalar(select(func.count()).select_from(Company)),
        "pemohon": session.scalar(select(func.count()).select_from(Applicant)),
        "berkas": session.scalar(select(func.count()).select_from(Dossier)),
        "izin": session.scalar(select(func.count()).select_from(Permit)),
        "penghitung nomor": session.scalar(select(func.count()).select_from(NumberCounter)),
    }
    if any(counts.values()):
        found = ", ".join(f"{_n(n)} {what}" for what, n in counts.items() if n)
        raise DemoError(
            f"Basis data sudah berisi data ({found}). Data demo hanya diisi ke basis data yang kosong, "
            "agar tidak tercampur dengan data nyata dan tidak mengambil nomor di buku register. "
            "Gunakan basis data baru (DATABASE_URL), jalankan `loket init`, lalu `loket demo`."
        )
    if with_documents is None:
        with_documents = dossiers <= DOCUMENTS_UP_TO
    requirements = list(
        session.scalars(
            select(RequirementType).where(RequirementType.permit_type_id == permit.id).order_by(RequirementType.seq)
        )
    )
    permit_id, prefix, service_days = permit.id, permit.receipt_prefix, permit.service_days
    kind = _PermitKind(permit.id, permit.code, permit.permit_number_format, prefix, permit.validity_months)
    stage_ids = [s.id for s in stages]
    stage_index = {s.id: i for i, s in enumerate(stages)}
    requirement_plan = [
        (r.id, stage_index[r.due_stage_id], r.is_mandatory, f"{REQUIREMENT_FILES.get(r.code, r.code.lower())}.pdf")
        for r in requirements
    ]

    calendar = WorkingCalendar(timezone=current_app.config.get("OFFICE_TIMEZONE", "Asia/Jakarta"))
    reference = reference_date or dt.datetime.now(calendar.tz).date()
    clock = WorkClock(calendar, reference - dt.timedelta(days=WINDOW_DAYS), reference)
    # A string seed is hashed with SHA-512: stable across runs, machines and PYTHONHASHSEED.
    rng = random.Random(f"loket-demo:{seed}")
    conn = session.connection()
    writer = _Writer(conn)
    # Timestamps as text in the database's own format where the driver's path takes text.
    stamp = clock.text_stamp(writer.stamp_suffix) if writer.text_stamps else clock.at
    day_value = dt.date.isoformat if writer.text_dates else (lambda d: d)
    gen = _Generator(rng, clock, calendar)
    walker = _Walker(rng, clock, stages, stamp)
    # Empty tables (checked above), but ids may not restart at 1: continue after the highest.
    next_id = {
        model: (session.scalar(select(func.max(model.id))) or 0) + 1
        for model in (Company, Applicant, Dossier, Permit, RegisterEntry)
    }

    # Streamed: rows go to the database a chunk at a time; what later steps need of the parties
    # and the dossiers stays behind in flat arrays (a few bytes per row), never as objects.
    try:
        n_companies = max(1, dossiers // 3)
        plan = _plan(rng, clock, n_companies, dossiers)
        parties = _write_parties(rng, clock, gen, writer, stamp, day_value, reference, plan, n_companies, next_id)

        due_cache: dict[int, Any] = {}
        issued_keys = array("q")  # t issued * dossiers + dossier index, per issued dossier
        archived_at = array("q", [-1]) * dossiers  # per dossier index: when it reached the archive stage
        site = gen.site
        kecamatan = gen.kecamatan
        random_ = rng.random
        status_counts: dict[str, int] = defaultdict(int)
        n_events = n_documents = 0
        first_dossier = next_id[Dossier]
        dossier_id = first_dossier
        for start in range(0, dossiers, CHUNK):
            dossier_rows, event_rows, document_rows = [], [], []
            for key in plan[start : start + CHUNK]:
                t0, c = divmod(key, n_companies)
                a = 0 if parties.applicants[c] == 1 or random_() < 0.75 else 1
                applicant_id = parties.first_applicant[c] + a
                walked = walker.walk(t0, dossier_id, event_rows)
                if walked.last_action == REJECT:
                    status = DossierStatus.REJECTED.value
                elif walked.last_action == RETURN:
                    status = DossierStatus.RETURNED.value
                elif walked.finished:
                    status = DossierStatus.ARCHIVED.value
                elif walked.issued_at is not None:
                    status = DossierStatus.ISSUED.value
                else:
                    status = DossierStatus.IN_PROGRESS.value
                status_counts[status] += 1
                day = t0 // clock.day_seconds
                if day not in due_cache:
                    due = calendar.due_at(clock.opens_utc[day], service_days)
                    due_cache[day] = due.replace(tzinfo=None).isoformat(" ") + ".000000" if writer.text_dates else due
                pool = site(kecamatan[parties.kecamatan[c]])
                dossier_rows.append(
                    (dossier_id, gen.receipt(prefix, t0), permit_id, parties.first_id + c, applicant_id,
                     stage_ids[walked.stage], status, stamp(t0), due_cache[day], None, walked.moves, *pool)
                )
                if walked.issued_at is not None:  # issued, or issued and since archived
                    issued_keys.append(walked.issued_at * dossiers + dossier_id - first_dossier)
                    if walked.archived_at is not None:
                        archived_at[dossier_id - first_dossier] = walked.archived_at
                if with_documents:
                    _documents(rng, stamp, dossier_id, t0, walked.left_at, requirement_plan, document_rows)
                dossier_id += 1
            writer.insert(Dossier, DOSSIER_COLUMNS, dossier_rows)
            writer.insert(StageEvent, EVENT_COLUMNS, event_rows)
            writer.insert(Document, DOCUMENT_COLUMNS, document_rows)
            n_events += len(event_rows)
            n_documents += len(document_rows)
        del plan, parties, due_cache

        office = Office.from_config(current_app.config, current_app.config.get("PUBLIC_BASE_URL") or "http://localhost")
        describe = snapshot_maker(office, permit)

        def snapshot(printed: SimpleNamespace, numbered: Numbered) -> Any:  # noqa: ANN401
            return writer.json(describe(printed, numbered))

        numbers = _Numbers(clock, issued_keys, dossiers, first_dossier)
        del issued_keys
        n_permits = _write_permits(
            rng, clock, stamp, day_value, writer, kind, snapshot, numbers, archived_at, next_id
        )
        writer.insert(NumberCounter, COUNTER_COLUMNS, numbers.counter_rows(kind.series))
        writer.sync_sequences((Company, Applicant, Dossier, Permit, RegisterEntry))
        writer.close()
        session.commit()
    except Exception:
        session.rollback()
        raise
    # Fresh statistics for the planner: a million rows it believes are not there plan badly. On
    # PostgreSQL also VACUUM, as autovacuum would after a while: until the visibility map is set,
    # no index-only scan (the work queues, the dashboard) can skip the rows themselves.
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()

    seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
    return (
        f"Data demo dibuat: {_n(n_companies)} perusahaan, {_n(gen.n_applicants)} pemohon, {_n(dossiers)} berkas "
        f"({_n(status_counts['in_progress'])} diproses, {_n(status_counts['returned'])} dikembalikan, "
        f"{_n(status_counts['rejected'])} ditolak, {_n(status_counts['issued'])} terbit, "
        f"{_n(status_counts['archived'])} diarsipkan), {_n(n_events)} riwayat tahapan, "
        f"{_n(n_permits)} izin bernomor, {_n(n_permits)} baris register, "
        f"{_n(n_documents) + ' dokumen' if with_documents else 'tanpa dokumen'}; "
        f"seed {seed}, tanggal acuan {reference:%d-%m-%Y}; statistik diperbarui (ANALYZE); {seconds} detik."
    )


@dataclass
class _Parties:
    """What the dossiers need of each company (by index): its id, kecamatan, applicants."""

    first_id: int
    kecamatan: array  # index into _Generator.kecamatan
    first_applicant: array  # id of its first applicant
    applicants: array  # how many (1 or 2)


def _plan(rng: random.Random, clock: WorkClock, n: int, dossiers: int) -> array:
    """Per dossier, in submission order: submission time * n + company index.

    Every company files at least once when there are enough dossiers; a few busy operators file
    many (one pool per depot or route). Volume grows gently over the year.
    """
    owners = list(range(n)) if dossiers >= n else rng.sample(range(n), dossiers)
    weights = [rng.paretovariate(1.6) for _ in range(n)]
    owners += rng.choices(range(n), weights=weights, k=max(0, dossiers - len(owners)))
    del weights
    end, random_ = clock.end, rng.random
    keys = [int(end * random_() ** 0.8) * n + c for c in owners]
    del owners
    keys.sort()
    return array("q", keys)


def _write_parties(
    rng: random.Random, clock: WorkClock, gen: _Generator, writer: _Writer, stamp, day_value,  # noqa: ANN001
    reference: dt.date, plan: array, n: int, next_id: dict[type, int],
) -> _Parties:
    """Companies and their applicants, a chunk at a time; a company is registered shortly
    before its first file (or any time in the window when it has none)."""
    first_filed = array("q", [-1]) * n
    for key in plan:
        t0, c = divmod(key, n)
        if first_filed[c] < 0:
            first_filed[c] = t0
    parties = _Parties(next_id[Company], array("B"), array("q"), array("B"))
    applicant_id = next_id[Applicant]
    for start in range(0, n, CHUNK):
        company_rows, applicant_rows = [], []
        for c in range(start, min(n, start + CHUNK)):
            company = gen.company(reference)
            t = first_filed[c]
            t = max(0, t - rng.randint(300, 3600)) if t >= 0 else rng.randrange(clock.end)
            company_id = parties.first_id + c
            row = company.row
            company_rows.append(
                (company_id, row["name"], row["legal_form"], row["nib"], row["npwp"], row["deed_number"],
                 day_value(row["deed_date"]), row["sk_kemenkumham"], row["address"], row["kecamatan_code"],
                 row["desa_code"], row["phone"], row["email"], stamp(t))
            )
            parties.kecamatan.append(gen.kecamatan_index[row["kecamatan_code"]])
            parties.first_applicant.append(applicant_id)
            parties.applicants.append(len(company.applicants))
            for applicant in company.applicants:
                applicant_rows.append(
                    (applicant_id, applicant["full_name"], applicant["nik"], applicant["email"], applicant["phone"],
                     applicant["position"], company_id, stamp(t))
                )
                applicant_id += 1
        writer.insert(Company, COMPANY_COLUMNS, company_rows)
        writer.insert(Applicant, APPLICANT_COLUMNS, applicant_rows)
    return parties


# Read back per issued dossier: what its permit prints of it and of its parties.
_PRINTED = text(
    "SELECT d.id, d.company_id, d.applicant_id, d.site_address, d.site_area_m2, d.vehicle_capacity, "
    "c.name, c.legal_form, c.nib, c.npwp, c.address, c.kecamatan_code, c.desa_code, a.full_name "
    "FROM dossier d JOIN company c ON c.id = d.company_id JOIN applicant a ON a.id = d.applicant_id "
    "WHERE d.id >= :low AND d.id < :high ORDER BY d.id"
)


def _write_permits(
    rng: random.Random, clock: WorkClock, stamp, day_value, writer: _Writer, kind: _PermitKind,  # noqa: ANN001
    snapshot: Callable[[SimpleNamespace, Numbered], Any], numbers: _Numbers, archived_at: array,
    next_id: dict[type, int],
) -> int:
    """Permits and register lines of the issued dossiers, numbered in issue order (see _Numbers),
    written in dossier order a chunk at a time with the ids issue order gives them; the printed
    parties are read back from the rows just written."""
    written = 0
    first = numbers.first_dossier
    for low in range(first, first + len(numbers.rank), CHUNK):
        permit_rows, register_rows = [], []
        for row in writer.conn.execute(_PRINTED, {"low": low, "high": low + CHUNK}):
            rank = numbers.rank[row.id - first]
            if rank < 0:
                continue
            printed = SimpleNamespace(
                company=SimpleNamespace(name=row.name, legal_form=row.legal_form, nib=row.nib, npwp=row.npwp,
                                        address=row.address, kecamatan_code=row.kecamatan_code,
                                        desa_code=row.desa_code),
                applicant=SimpleNamespace(full_name=row.full_name), site_address=row.site_address,
                site_area_m2=row.site_area_m2, vehicle_capacity=row.vehicle_capacity,
            )
            permit_row, register_row = _issue(
                rng, clock, stamp, day_value, kind, numbers, rank, row.id, row.company_id, row.applicant_id,
                archived_at[row.id - first], snapshot, printed,
            )
            permit_rows.append((next_id[Permit] + rank, *permit_row))
            register_rows.append((next_id[RegisterEntry] + rank, *register_row))
        writer.insert(Permit, ("id", *PERMIT_COLUMNS), permit_rows)
        writer.insert(RegisterEntry, ("id", *REGISTER_COLUMNS), register_rows)
        written += len(permit_rows)
    return written


def _n(value: int) -> str:
    """1234567 -> 1.234.567 (Indonesian thousands separator)."""
    return f"{value:,}".replace(",", ".")


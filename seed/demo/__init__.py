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
- Fast: SQLAlchemy Core executemany in chunks, no ORM objects.
- Refuses a database that already holds companies, applicants, dossiers, permits or number
  counters: demo rows must never mix with real ones (a demo permit would otherwise take a number
  in the real register book).
"""
from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import func, select

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
from app.printing import Office, describe_permits
from app.sop.calendar import WorkingCalendar
from app.sop.numbering import Numbered

from .errors import DemoError
from .identities import _Company, _Generator
from .records import REQUIREMENT_FILES, _documents, _issue, _PermitKind
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
    _chunks,
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
    stamp = clock.stamp_text if writer.text_dates else clock.at
    day_value = dt.date.isoformat if writer.text_dates else (lambda d: d)
    gen = _Generator(rng, clock, calendar)
    walker = _Walker(rng, clock, stages, stamp)
    # Empty tables (checked above), but ids may not restart at 1: continue after the highest.
    next_id = {
        model: (session.scalar(select(func.max(model.id))) or 0) + 1 for model in (Company, Applicant, Dossier)
    }

    try:
        # Parties first, then who files what and when; a company is registered with its first file.
        companies = [gen.company(reference) for _ in range(max(1, dossiers // 3))]
        plan = _assign_dossiers(rng, clock, companies, dossiers)
        first_filed: dict[int, int] = {}
        for t0, c, _ in plan:
            first_filed.setdefault(c, t0)
        company_rows, applicant_rows = [], []
        for c, company in enumerate(companies):
            t = first_filed.get(c)
            t = max(0, t - rng.randint(300, 3600)) if t is not None else rng.randrange(clock.end)
            company.id = next_id[Company] + c
            row = company.row
            company_rows.append(
                (company.id, row["name"], row["legal_form"], row["nib"], row["npwp"], row["deed_number"],
                 day_value(row["deed_date"]), row["sk_kemenkumham"], row["address"], row["kecamatan_code"],
                 row["desa_code"], row["phone"], row["email"], stamp(t))
            )
            for applicant in company.applicants:
                applicant["id"] = next_id[Applicant] + len(applicant_rows)
                applicant_rows.append(
                    (applicant["id"], applicant["full_name"], applicant["nik"], applicant["email"], applicant["phone"],
                     applicant["position"], company.id, stamp(t))
                )
        writer.insert(Company, COMPANY_COLUMNS, company_rows)
        writer.insert(Applicant, APPLICANT_COLUMNS, applicant_rows)

        due_cache: dict[int, Any] = {}
        issued: list[tuple[int, int, int, int, int | None]] = []  # (t issued, dossier, company, applicant, t archived)
        printed: dict[int, SimpleNamespace] = {}  # issued dossier -> what its permit prints of it
        site = gen.site
        status_counts: dict[str, int] = defaultdict(int)
        n_events = n_documents = 0
        dossier_id = next_id[Dossier]
        for batch in _chunks(plan, CHUNK):
            dossier_rows, event_rows, document_rows = [], [], []
            for t0, c, a in batch:
                company = companies[c]
                applicant_id = company.applicants[a]["id"]
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
                pool = site(company.row["kecamatan_code"])
                dossier_rows.append(
                    (dossier_id, gen.receipt(prefix, t0), permit_id, company.id, applicant_id,
                     stage_ids[walked.stage], status, stamp(t0), due_cache[day], None, walked.moves, *pool)
                )
                if walked.issued_at is not None:  # issued, or issued and since archived
                    issued.append((walked.issued_at, dossier_id, company.id, applicant_id, walked.archived_at))
                    printed[dossier_id] = _printed_dossier(company, company.applicants[a], pool)
                if with_documents:
                    _documents(rng, stamp, dossier_id, t0, walked.left_at, requirement_plan, document_rows)
                dossier_id += 1
            writer.insert(Dossier, DOSSIER_COLUMNS, dossier_rows)
            writer.insert(StageEvent, EVENT_COLUMNS, event_rows)
            writer.insert(Document, DOCUMENT_COLUMNS, document_rows)
            n_events += len(event_rows)
            n_documents += len(document_rows)

        office = Office.from_config(current_app.config, current_app.config.get("PUBLIC_BASE_URL") or "http://localhost")
        describe = describe_permits(office)

        def snapshot(dossier_id: int, numbered: Numbered) -> Any:  # noqa: ANN401
            return writer.json(describe(session, printed[dossier_id], permit, numbered))

        permit_rows, register_rows, counter_rows = _issue(rng, clock, stamp, day_value, issued, kind, snapshot)
        writer.insert(Permit, PERMIT_COLUMNS, permit_rows)
        writer.insert(RegisterEntry, REGISTER_COLUMNS, register_rows)
        writer.insert(NumberCounter, COUNTER_COLUMNS, counter_rows)
        writer.sync_sequences((Company, Applicant, Dossier))
        writer.close()
        session.commit()
    except Exception:
        session.rollback()
        raise

    seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
    return (
        f"Data demo dibuat: {_n(len(company_rows))} perusahaan, {_n(len(applicant_rows))} pemohon, {_n(dossiers)} berkas "
        f"({_n(status_counts['in_progress'])} diproses, {_n(status_counts['returned'])} dikembalikan, "
        f"{_n(status_counts['rejected'])} ditolak, {_n(status_counts['issued'])} terbit, "
        f"{_n(status_counts['archived'])} diarsipkan), {_n(n_events)} riwayat tahapan, "
        f"{_n(len(permit_rows))} izin bernomor, {_n(len(register_rows))} baris register, "
        f"{_n(n_documents) + ' dokumen' if with_documents else 'tanpa dokumen'}; "
        f"seed {seed}, tanggal acuan {reference:%d-%m-%Y}; {seconds} detik."
    )


def _printed_dossier(company: _Company, applicant: dict[str, Any], pool: tuple[str, int, int]) -> SimpleNamespace:
    """The dossier as app.printing.permit_paper reads it, without loading it back."""
    site_address, site_area_m2, vehicle_capacity = pool
    return SimpleNamespace(
        company=SimpleNamespace(**company.row), applicant=SimpleNamespace(full_name=applicant["full_name"]),
        site_address=site_address, site_area_m2=site_area_m2, vehicle_capacity=vehicle_capacity,
    )


def _n(value: int) -> str:
    """1234567 -> 1.234.567 (Indonesian thousands separator)."""
    return f"{value:,}".replace(",", ".")


def _assign_dossiers(
    rng: random.Random, clock: WorkClock, companies: list[_Company], dossiers: int
) -> list[tuple[int, int, int]]:
    """(submission time, company index, applicant index) per dossier, in submission order.

    Every company files at least once when there are enough dossiers; a few busy operators file
    many (one pool per depot or route). Volume grows gently over the year.
    """
    n = len(companies)
    owners = list(range(n)) if dossiers >= n else rng.sample(range(n), dossiers)
    weights = [rng.paretovariate(1.6) for _ in range(n)]
    owners += rng.choices(range(n), weights=weights, k=max(0, dossiers - len(owners)))
    plan = []
    for c in owners:
        t0 = int(clock.end * rng.random() ** 0.8)
        a = 0 if len(companies[c].applicants) == 1 or rng.random() < 0.75 else 1
        plan.append((t0, c, a))
    plan.sort()
    return plan

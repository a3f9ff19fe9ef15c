"""Valid Indonesian test identities and records, deterministic per counter."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from app.extensions import db
from app.models import Applicant, Company, Document, Dossier, PermitType
from app.sop.calendar import WorkingCalendar
from app.sop.intake import open_dossier

_counter = itertools.count(1)


def valid_nik(n: int | None = None, female: bool = False) -> str:
    """A structurally valid NIK from Ngabang, Kabupaten Landak (61.08.01)."""
    n = next(_counter) if n is None else n
    day = 5 + (40 if female else 0)
    return f"610801{day:02d}0895{n % 10000 or 1:04d}"


def valid_nib(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return f"{9120000000000 + n:013d}"


def valid_npwp(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return f"{12345678000000 + n:015d}"


def make_company(**overrides) -> Company:  # noqa: ANN003
    n = next(_counter)
    values = dict(
        name=f"PT Angkutan Landak {n}",
        legal_form="PT",
        nib=valid_nib(n),
        npwp=valid_npwp(n),
        address="Jl. Pangeran Cinata No. 1",
        kecamatan_code="61.08.01",
        desa_code="61.08.01.2001",
    )
    values.update(overrides)
    company = Company(**values)
    db.session.add(company)
    db.session.commit()
    return company


def make_applicant(company: Company | None = None, **overrides) -> Applicant:  # noqa: ANN003
    n = next(_counter)
    values = dict(full_name=f"Budi Santoso {n}", nik=valid_nik(n), email=f"budi{n}@contoh.co.id", company=company)
    values.update(overrides)
    applicant = Applicant(**values)
    db.session.add(applicant)
    db.session.commit()
    return applicant


def make_dossier(
    company: Company | None = None,
    applicant: Applicant | None = None,
    *,
    submitted_at: dt.datetime | None = None,
    stage_code: str | None = None,
    actor_id: int | None = None,
    verified: tuple[str, ...] = (),
) -> Dossier:
    """A dossier opened as the Front Office opens one; optionally placed at a stage and with
    verified documents for the given requirement codes."""
    company = company or make_company()
    applicant = applicant or make_applicant(company)
    submitted_at = submitted_at or dt.datetime.now(dt.timezone.utc)
    permit = db.session.scalar(select(PermitType))
    with db.session.no_autoflush:
        dossier = Dossier(
            company=company, applicant=applicant, site_address="Jl. Raya Ngabang Km 3, Ngabang", vehicle_capacity=12,
        )
        open_dossier(dossier, permit, submitted_at, WorkingCalendar(), actor_id)
        if stage_code:
            dossier.stage = next(s for s in permit.stages if s.code == stage_code)
    db.session.add(dossier)
    db.session.flush()
    for requirement in (r for r in permit.requirements if r.code in verified):
        db.session.add(Document(
            dossier_id=dossier.id, requirement_type_id=requirement.id, original_filename=f"{requirement.code}.pdf",
            storage_key="k" * 64, size_bytes=1, sha256="k" * 64, verified_at=submitted_at,
        ))
    db.session.commit()
    return dossier

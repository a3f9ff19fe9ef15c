"""What a walked dossier leaves behind: its verified documents, its numbered permit and its register line."""
from __future__ import annotations

import base64
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from app.sop.number_format import format_permit_number
from app.sop.numbering import REGISTER_NUMBER_FORMAT, REGISTER_SERIES, Numbered

from .walk import WorkClock

BOOK_LINES_PER_PAGE = 25
ARCHIVE_BOX_SIZE = 50
SHELVES = ("A", "B", "C", "D")
REQUIREMENT_FILES = {
    "SURAT_PERMOHONAN": "surat_permohonan", "PROFIL_PERUSAHAAN": "profil_perusahaan",
    "AKTA_PENDIRIAN": "akta_pendirian", "NIB": "nib_oss", "NPWP": "npwp_perusahaan",
    "KTP_PENANGGUNG_JAWAB": "ktp_penanggung_jawab", "BUKTI_PENGUASAAN_LAHAN": "sertifikat_lahan_pool",
    "DENAH_LOKASI": "denah_lokasi_pool", "DAFTAR_KENDARAAN": "daftar_kendaraan_stnk",
    "REKOMENDASI_ANDALALIN": "rekomendasi_andalalin",
}
P_OPTIONAL_DOCUMENT = 0.4


def _documents(
    rng: random.Random,
    stamp,  # noqa: ANN001
    dossier_id: int,
    t0: int,
    left_at: dict[int, int],
    requirement_plan: list[tuple[int, int, bool, str]],
    out: list[tuple],
) -> None:
    """One verified document per requirement whose due stage the dossier has already left."""
    random = rng.random
    for requirement_id, due_i, mandatory, filename in requirement_plan:
        verified_t = left_at.get(due_i)
        if verified_t is None or (not mandatory and random() >= P_OPTIONAL_DOCUMENT):
            continue
        uploaded_t = t0 + int((verified_t - t0) * random() * 0.5)
        digest = f"{rng.getrandbits(256):064x}"
        out.append(
            (dossier_id, requirement_id, filename, digest, 80_000 + int(random() * 3_920_000), digest,
             stamp(uploaded_t), None, None, stamp(verified_t), None)
        )


@dataclass(frozen=True)
class _PermitKind:
    """What numbering needs of the permit type, read once."""

    id: int
    series: str  # the permit type's code: permits count per type and year
    number_format: str
    prefix: str
    validity_months: int | None


def _issue(
    rng: random.Random,
    clock: WorkClock,
    stamp,  # noqa: ANN001
    day_value,  # noqa: ANN001
    issued: list[tuple[int, int, int, int, int | None]],
    kind: _PermitKind,
    describe: Callable[[int, Numbered], Any],
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Permits, register lines and number counters, as app.sop.numbering.issue_permit leaves them.
    `describe(dossier id, numbers)` gives the snapshot of what the permit prints.

    In issue order, numbered without gaps within each year of issue (the office's date of the
    advance into the issuing stage), the permit per permit type and the register line across the
    office; the register line carries the permit's number and is entered on the issue date. The
    counters hold the last number of each (series, year), so the next real issue continues after.
    Tokens come from the seeded generator: reproducible, yet as opaque as secrets.token_urlsafe(24).
    """
    permit_rows, register_rows = [], []
    permit_seq: dict[int, int] = defaultdict(int)
    register_seq: dict[int, int] = defaultdict(int)
    tokens: set[str] = set()
    getrandbits = rng.getrandbits
    validity = relativedelta(months=kind.validity_months) if kind.validity_months else None
    for t_issued, dossier_id, company_id, applicant_id, t_archived in sorted(issued):
        issued_on = clock.local_date(t_issued)
        year = issued_on.year
        permit_seq[year] += 1
        seq = permit_seq[year]
        number = format_permit_number(kind.number_format, seq=seq, year=year, prefix=kind.prefix)
        valid_until = issued_on + validity - dt.timedelta(days=1) if validity else None
        token = base64.urlsafe_b64encode(getrandbits(192).to_bytes(24, "big")).decode()
        while token in tokens:
            token = base64.urlsafe_b64encode(getrandbits(192).to_bytes(24, "big")).decode()
        tokens.add(token)
        day = day_value(issued_on)
        permit_rows.append(
            (dossier_id, kind.id, kind.series, year, seq, number, stamp(t_issued), day,
             day_value(valid_until) if valid_until else None, token,
             describe(dossier_id, Numbered(number, token, issued_on, valid_until)))
        )
        register_seq[year] += 1
        line = register_seq[year]
        archived = t_archived is not None
        box = (line - 1) // ARCHIVE_BOX_SIZE + 1
        register_rows.append(
            (REGISTER_NUMBER_FORMAT.format(seq=line, year=year), year, line, day, dossier_id, number, company_id,
             applicant_id, kind.id, day, (line - 1) // BOOK_LINES_PER_PAGE + 1, (line - 1) % BOOK_LINES_PER_PAGE + 1,
             f"BOKS {year}-{box:03d}" if archived else None,
             f"RAK {SHELVES[(box - 1) // 20 % len(SHELVES)]}-{(box - 1) % 20 // 5 + 1}" if archived else None)
        )
    counter_rows = [(kind.series, year, last) for year, last in sorted(permit_seq.items())]
    counter_rows += [(REGISTER_SERIES, year, last) for year, last in sorted(register_seq.items())]
    return permit_rows, register_rows, counter_rows

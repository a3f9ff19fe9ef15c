"""What a walked dossier leaves behind: its verified documents, its numbered permit and its register line."""
from __future__ import annotations

import base64
import datetime as dt
import random
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta

from app.printing import SNAPSHOT_VERSION, Office, PermitPaper, permit_paper
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
    "REKOMENDASI_ANDALALIN": "rekomendasi_andalalin", "BAP_PEMERIKSAAN_LAPANGAN": "bap_pemeriksaan_lapangan",
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
class _DemoOffice(Office):
    """The office, with each printed date formatted once: ~250 issue days, up to a million permits."""

    def day(self, value: dt.date | dt.datetime) -> str:
        return _office_day(self, value)


@lru_cache(maxsize=4096)
def _office_day(office: Office, value: dt.date | dt.datetime) -> str:
    return Office.day(office, value)


def snapshot_maker(office: Office, permit_type: Any) -> Callable[[Any, Numbered], dict[str, Any]]:  # noqa: ANN401
    """describe_permits(office) for many permits at once: the same snapshot (app.printing's
    permit_paper and permit_snapshot), without converting the office's constant letterhead and
    signatory again for every permit, as dataclasses.asdict would (most of the time at 1M).
    tests/web/test_demo_command.py holds it equal to describe_permits on the stored permits."""
    office = _DemoOffice(**{f.name: getattr(office, f.name) for f in fields(office)})
    letterhead = asdict(office.letterhead)
    signatory = asdict(office.signatory)
    names = [f.name for f in fields(PermitPaper)]

    def describe(printed: Any, numbered: Numbered) -> dict[str, Any]:  # noqa: ANN401
        paper = permit_paper(numbered, printed, permit_type, office)
        assert paper.signatory is office.signatory, "the permit is signed by the office's signatory"
        values = {name: getattr(paper, name) for name in names}
        values["legal_bases"] = list(paper.legal_bases)
        values["signatory"] = dict(signatory)
        return {"version": SNAPSHOT_VERSION, "paper": values, "letterhead": dict(letterhead),
                "paper_size": office.paper_size}

    return describe


@dataclass(frozen=True)
class _PermitKind:
    """What numbering needs of the permit type, read once."""

    id: int
    series: str  # the permit type's code: permits count per type and year
    number_format: str
    prefix: str
    validity_months: int | None


class _Numbers:
    """Numbering of the issued dossiers, as app.sop.numbering.issue_permit leaves it.

    In issue order, numbered without gaps within each year of issue (the office's date of the
    advance into the issuing stage), the permit per permit type and the register line across the
    office. Flat arrays by rank (the place in issue order), and each dossier's rank by its index.
    """

    def __init__(self, clock: WorkClock, issued_keys: array, dossiers: int, first_dossier: int) -> None:
        self.first_dossier = first_dossier
        self.rank = array("i", [-1]) * dossiers
        self.t = array("q")
        self.year = array("H")
        self.seq = array("I")
        self.line = array("I")
        self.permit_last: dict[int, int] = defaultdict(int)
        self.register_last: dict[int, int] = defaultdict(int)
        for rank, key in enumerate(sorted(issued_keys)):  # key: t issued * dossiers + dossier index
            t, index = divmod(key, dossiers)
            self.rank[index] = rank
            year = clock.local_date(t).year
            self.permit_last[year] += 1
            self.register_last[year] += 1
            self.t.append(t)
            self.year.append(year)
            self.seq.append(self.permit_last[year])
            self.line.append(self.register_last[year])

    def counter_rows(self, series: str) -> list[tuple]:
        """The last number of each (series, year): the next real issue continues after it."""
        rows = [(series, year, last) for year, last in sorted(self.permit_last.items())]
        rows += [(REGISTER_SERIES, year, last) for year, last in sorted(self.register_last.items())]
        return rows


def _issue(
    rng: random.Random,
    clock: WorkClock,
    stamp,  # noqa: ANN001
    day_value,  # noqa: ANN001
    kind: _PermitKind,
    numbers: _Numbers,
    rank: int,
    dossier_id: int,
    company_id: int,
    applicant_id: int,
    t_archived: int,
    describe: Callable[[Any, Numbered], Any],
    printed: Any,  # noqa: ANN401
) -> tuple[tuple, tuple]:
    """The permit row and the register line of the issued dossier at `rank` in issue order.
    The register line carries the permit's number and is entered on the issue date.
    `describe(printed dossier, numbers)` gives the snapshot of what the permit prints.
    Tokens come from the seeded generator: reproducible, yet as opaque as secrets.token_urlsafe(24)
    (192 bits: the permit table's unique token would refuse the impossible repeat).
    """
    t_issued, year, seq, line = numbers.t[rank], numbers.year[rank], numbers.seq[rank], numbers.line[rank]
    issued_on = clock.local_date(t_issued)
    number = format_permit_number(kind.number_format, seq=seq, year=year, prefix=kind.prefix)
    valid_until = issued_on + relativedelta(months=kind.validity_months) - dt.timedelta(days=1) if kind.validity_months else None
    token = base64.urlsafe_b64encode(rng.getrandbits(192).to_bytes(24, "big")).decode()
    day = day_value(issued_on)
    permit_row = (
        dossier_id, kind.id, kind.series, year, seq, number, stamp(t_issued), day,
        day_value(valid_until) if valid_until else None, token,
        describe(printed, Numbered(number, token, issued_on, valid_until)),
    )
    archived = t_archived >= 0
    box = (line - 1) // ARCHIVE_BOX_SIZE + 1
    register_row = (
        REGISTER_NUMBER_FORMAT.format(seq=line, year=year), year, line, day, dossier_id, number, company_id,
        applicant_id, kind.id, day, (line - 1) // BOOK_LINES_PER_PAGE + 1, (line - 1) % BOOK_LINES_PER_PAGE + 1,
        f"BOKS {year}-{box:03d}" if archived else None,
        f"RAK {SHELVES[(box - 1) // 20 % len(SHELVES)]}-{(box - 1) % 20 // 5 + 1}" if archived else None,
    )
    return permit_row, register_row

"""What a walked dossier leaves behind: its verified documents and its line in the register book."""
from __future__ import annotations

import random
from collections import defaultdict

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


def _register(
    clock: WorkClock,
    day_value,  # noqa: ANN001
    issued: list[tuple[int, int, int, int, int | None]],
    permit_type_id: int,
    prefix: str,
) -> list[tuple]:
    """Register lines in issue order, numbered without gaps within each year of issue."""
    rows = []
    seq_by_year: dict[int, int] = defaultdict(int)
    for t_issued, dossier_id, company_id, applicant_id, t_archived in sorted(issued):
        issue_date = clock.local_date(t_issued)
        year = issue_date.year
        seq_by_year[year] += 1
        seq = seq_by_year[year]
        archived = t_archived is not None
        entry_date = clock.local_date(t_archived) if archived else issue_date
        box = (seq - 1) // ARCHIVE_BOX_SIZE + 1
        rows.append(
            (f"REG/{seq:04d}/{year}", year, seq, day_value(entry_date), dossier_id,
             f"503/{seq:04d}/{prefix}/DPMPTSPTK/{year}", company_id, applicant_id, permit_type_id,
             day_value(issue_date), (seq - 1) // BOOK_LINES_PER_PAGE + 1, (seq - 1) % BOOK_LINES_PER_PAGE + 1,
             f"BOKS {year}-{box:03d}" if archived else None,
             f"RAK {SHELVES[(box - 1) // 20 % len(SHELVES)]}-{(box - 1) % 20 // 5 + 1}" if archived else None)
        )
    return rows

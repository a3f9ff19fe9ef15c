"""What can be imported: per entity, its columns (the headers its grid exports), its natural key,
and how a checked row becomes the model's values.

Headers are the grid's Indonesian labels, so a file exported from a grid imports back as it is;
displayed values (a legal form's label, a kecamatan's name, a formatted NPWP) are read back to
what the database stores.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import LEGAL_FORMS, Applicant, Company
from app.regions import kecamatan_choices
from app.security import roles
from app.spreadsheets.reading import Column
from app.validators import normalize_email, normalize_nib, normalize_nik, normalize_npwp, normalize_phone
from app.views.parties import APPLICANT_LABELS, COMPANY_LABELS


@dataclass(frozen=True)
class ImportSpec:
    entity: str                 # URL and ImportBatch code
    title: object               # what staff read
    model: type
    resource: str               # permissions needed: can_add and can_edit on it
    key: str                    # natural key attribute
    columns: tuple[Column, ...]
    # Turns the checked values of one row into model attributes; raises ValueError(column, message).
    resolve: Callable[[Session, dict[str, Any]], dict[str, Any]]
    required_on_create: tuple[str, ...] = ()

    def header(self, key: str) -> str:
        return next(c.header for c in self.columns if c.key == key)


class CellProblem(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _label(labels: dict, key: str) -> str:
    with force_locale("id"):
        return str(labels[key])


def _aliases(labels: dict, key: str) -> tuple[str, ...]:
    with force_locale("en"):
        return (str(labels[key]),)


def _legal_form(value: str) -> str:
    wanted = value.strip().upper()
    if wanted in LEGAL_FORMS:
        return wanted
    for locale in ("id", "en"):
        with force_locale(locale):
            for code, label in LEGAL_FORMS.items():
                if str(label).strip().upper() == wanted:
                    return code
    raise ValueError(f"Bentuk badan usaha tidak dikenal: '{value}' (contoh: PT, CV, Koperasi).")


def _kecamatan(regency_code: str) -> Callable[[str], str]:
    """Name (any case) or Kemendagri code of a kecamatan of the regency -> its code."""
    codes = {}
    for code, name in kecamatan_choices(regency_code):
        codes[code] = codes[name.upper()] = code

    def check(value: str) -> str:
        code = codes.get(value.strip().upper())
        if code is None:
            raise ValueError(f"Kecamatan '{value}' tidak ada di kabupaten ini.")
        return code

    return check


def _message(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """The app's validators raise InvalidValue with a lazy, translated message: keep it as text."""
    def run(value: str) -> Any:  # noqa: ANN401
        try:
            return check(value)
        except ValueError as exc:
            raise ValueError(str(getattr(exc, "message", exc))) from exc

    return run


def company_spec(regency_code: str) -> ImportSpec:
    def col(key: str, **kwargs) -> Column:  # noqa: ANN003
        return Column(key, _label(COMPANY_LABELS, key), aliases=_aliases(COMPANY_LABELS, key), **kwargs)

    columns = (
        col("name", required=True, max_length=200),
        Column("legal_form", _label(COMPANY_LABELS, "legal_form"), check=_legal_form,
               aliases=_aliases(COMPANY_LABELS, "legal_form")),
        col("nib", required=True, check=_message(normalize_nib)),
        col("npwp", check=_message(normalize_npwp)),
        col("deed_number", max_length=100),
        col("deed_date", kind="date"),
        col("sk_kemenkumham", max_length=100),
        col("address", max_length=300),
        Column("kecamatan_code", _label(COMPANY_LABELS, "kecamatan_code"), check=_kecamatan(regency_code),
               aliases=_aliases(COMPANY_LABELS, "kecamatan_code")),
        col("phone", check=_message(normalize_phone)),
        col("email", check=_message(normalize_email)),
    )
    return ImportSpec("company", _l("Companies"), Company, roles.COMPANY, "nib", columns,
                      lambda _session, values: values, required_on_create=("legal_form",))


def applicant_spec() -> ImportSpec:
    def col(key: str, **kwargs) -> Column:  # noqa: ANN003
        return Column(key, _label(APPLICANT_LABELS, key), aliases=_aliases(APPLICANT_LABELS, key), **kwargs)

    columns = (
        col("full_name", required=True, max_length=150),
        col("nik", required=True, check=_message(normalize_nik)),
        Column("company", _label(APPLICANT_LABELS, "company"), aliases=_aliases(APPLICANT_LABELS, "company"),
               max_length=200),
        Column("company_nib", "NIB Perusahaan", check=_message(normalize_nib)),
        col("position", max_length=100),
        col("phone", check=_message(normalize_phone)),
        col("email", check=_message(normalize_email)),
    )
    return ImportSpec("applicant", _l("Applicants"), Applicant, roles.APPLICANT, "nik", columns,
                      _resolve_applicant_company)


def _resolve_applicant_company(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The company by NIB if given, else by its exact name (which must then be unique)."""
    values = dict(values)
    nib, name = values.pop("company_nib", None), values.pop("company", None)
    if nib:
        company_id = session.scalar(select(Company.id).where(Company.nib == nib))
        if company_id is None:
            raise CellProblem("NIB Perusahaan", f"Tidak ada perusahaan terdaftar dengan NIB {nib}.")
        values["company_id"] = company_id
    elif name:
        ids = session.scalars(select(Company.id).where(Company.name == name).limit(2)).all()
        if len(ids) != 1:
            problem = "tidak ditemukan" if not ids else "tidak unik"
            raise CellProblem(_label(APPLICANT_LABELS, "company"),
                              f"Perusahaan '{name}' {problem}; isi kolom NIB Perusahaan.")
        values["company_id"] = ids[0]
    return values

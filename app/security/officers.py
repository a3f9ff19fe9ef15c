"""Officers: Flask-AppBuilder's user with the NIP and jabatan printed under their signature.

FAB's documented way to extend its user: a subclass (single-table, on ab_user) that the security
manager names as its user_model, and user screens that show the new fields. The records read
the same columns through app.models.Account.
"""
from __future__ import annotations

import re

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.forms import UserInfoEdit
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField
from wtforms.validators import Length

from app.forms import Normalized
from app.validators import InvalidValue

# NIP: birth date (8), appointment month (6), sex (1), serial (3); written with spaces on cards.
_NIP = re.compile(r"[0-9]{18}")
_NIP_SEPARATORS = re.compile(r"[\s.\-]")


def normalize_nip(value: str) -> str:
    nip = _NIP_SEPARATORS.sub("", value or "")
    if not _NIP.fullmatch(nip):
        raise InvalidValue(_l("NIP must be exactly 18 digits."))
    return nip


class Officer(User):
    nip: Mapped[str | None] = mapped_column(String(18))
    position: Mapped[str | None] = mapped_column(String(100))  # jabatan


def _blank_is_none(value: object) -> object:
    """An emptied field stores NULL, not '' (no NIP is no NIP)."""
    return (value.strip() or None) if isinstance(value, str) else value


def nip_field() -> StringField:
    return StringField(
        _l("NIP"), filters=[_blank_is_none], validators=[Normalized(normalize_nip)], widget=BS3TextFieldWidget(),
        description=_l("Civil servant number, 18 digits; printed under the officer's signature on papers."),
    )


def position_field() -> StringField:
    return StringField(
        _l("Position"), filters=[_blank_is_none], validators=[Length(max=100)], widget=BS3TextFieldWidget(),
        description=_l("Jabatan, as printed under the officer's name on papers they sign."),
    )


OFFICER_LABELS = {"nip": _l("NIP"), "position": _l("Position")}
OFFICER_FIELDS = ("nip", "position")


class OfficerInfoEdit(UserInfoEdit):
    """The signed-in officer's own details (Edit User Information)."""

    nip = nip_field()
    position = position_field()

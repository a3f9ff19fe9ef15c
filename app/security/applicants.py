"""Applicants' accounts: Flask-AppBuilder's self-registration, with the NIK and phone number
SOP 76 step 2 asks for.

FAB keeps a registration in ab_register_user until its e-mail link is opened, then makes the
user (AUTH_USER_REGISTRATION_ROLE, Pemohon). Like app.security.officers for staff, its model is
extended by a subclass on the same table (migration 0023) that the security manager names as
its registeruser_model.
"""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import RegisterUser
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class ApplicantRegistration(RegisterUser):
    nik: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(30))

"""How an officer's name is written on screens and papers."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User


def full_name(user: User | None) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part) if user else ""

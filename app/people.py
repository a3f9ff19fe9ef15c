"""How an officer's name is written on screens and papers."""
from __future__ import annotations

from app.models import Account


def full_name(user: Account | None) -> str:
    return user.full_name if user else ""

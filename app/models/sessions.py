"""What signing in leaves behind beyond FAB's own tables: each account's session generation (a
session is honoured only while it carries the current one) and the failed sign-ins per name."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.account import account_fk
from app.models.base import Base


class SessionGeneration(Base):
    """Signing out or changing the password moves it on: every session of the account started
    before then ends, a cookie copied earlier included."""

    __tablename__ = "session_generation"

    user_id: Mapped[int] = mapped_column(account_fk(ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class LoginThrottle(Base):
    """Failed sign-ins per user name (known or not), and until when the name must wait."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)  # as typed, case-folded
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

"""Accounts: the password policy, sessions that end when the account signs out or changes its
password, and a growing wait after failed sign-ins per user name (the per-address limit stays
FAB's AUTH_RATE_LIMIT, behind a proxy on the real address: LOKET_TRUSTED_PROXIES)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import Flask, current_app, request, session
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from app.models import LoginThrottle, SessionGeneration
from app.sop.calendar import as_utc

# zxcvbn's scale: 0 (guessable within 10^3 tries) .. 4 (beyond 10^10); 3 resists an online attack
# by far and an offline one on a slow hash (scrypt) for long.
GOOD_ENOUGH = 3
# Words anyone guesses first for this office.
OFFICE_WORDS = ("loket", "landak", "ngabang", "dpmptsp", "dpmptsptk", "perizinan", "pemkab", "kalbar")
SESSION_KEY = "loket_generation"


# ---------------------------------------------------------------------------- password policy

def password_problem(password: str, names: Iterable[str], min_length: int) -> str | None:
    """Why this password may not be used (Indonesian), or None. `names` are the account's own
    names (user name, first and last name): a password may not contain them."""
    if len(password) < min_length:
        return f"Kata sandi paling sedikit {min_length} karakter."
    lowered = password.casefold()
    names = [name.strip() for name in names if name and len(name.strip()) >= 3]
    if any(name.casefold() in lowered for name in names):
        return "Kata sandi tidak boleh memuat nama pengguna atau nama pemiliknya."
    if zxcvbn(password, user_inputs=[*names, *OFFICE_WORDS])["score"] < GOOD_ENOUGH:
        return ("Kata sandi terlalu mudah ditebak (kata umum, nama, tanggal, urutan atau pola papan ketik). "
                "Gunakan beberapa kata yang tidak berkaitan, atau campuran huruf, angka dan tanda baca.")
    return None


def _names_in_request() -> list[str]:
    """The names of the account whose password a form sets: the one a form creates, the one an
    admin resets (?pk=), or the signed-in user's own."""
    names = [request.form.get(key, "") for key in ("username", "first_name", "last_name")]
    model = current_app.appbuilder.sm.user_model
    pk = request.args.get("pk", type=int)
    account = current_app.appbuilder.sm.get_user_by_id(pk) if pk else None
    if account is None and current_user.is_authenticated and not request.form.get("username"):
        account = current_user
    if isinstance(account, model):
        names += [account.username, account.first_name, account.last_name]
    return names


def check_password_policy(password: str) -> None:
    """FAB's FAB_PASSWORD_COMPLEXITY_VALIDATOR: every form that sets a password asks it."""
    problem = password_problem(password or "", _names_in_request(), current_app.config["PASSWORD_MIN_LENGTH"])
    if problem:
        raise PasswordComplexityValidationError(problem)


# ---------------------------------------------------------------------------- sessions

def current_generation(db_session: Session, user_id: int) -> int:
    return db_session.scalar(select(SessionGeneration.generation).where(SessionGeneration.user_id == user_id)) or 0


def start_session(db_session: Session, user_id: int) -> None:
    """The signed-in session carries the account's generation; a later one ends it."""
    session[SESSION_KEY] = current_generation(db_session, user_id)


def cookie_session_is_current(user_id: int, generation: int) -> bool:
    """False for a cookie session of this account started before its generation moved on (a
    request authenticated otherwise, by a bearer token, has no such session)."""
    return session.get("_user_id") != str(user_id) or session.get(SESSION_KEY, 0) == generation


def end_sessions(db_session: Session, user_id: int) -> None:
    """Every session of the account started so far ends (committed at once: it is a guard)."""
    moved = db_session.execute(
        update(SessionGeneration).where(SessionGeneration.user_id == user_id)
        .values(generation=SessionGeneration.generation + 1).execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db_session.add(SessionGeneration(user_id=user_id, generation=1))
    db_session.commit()


# ---------------------------------------------------------------------------- failed sign-ins

def sign_in_wait(db_session: Session, username: str, now: dt.datetime) -> int:
    """Seconds this user name must still wait before the next try (0: none)."""
    until = db_session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.username == _key(username)))
    return max(0, int((as_utc(until) - now).total_seconds()) + 1) if until is not None and as_utc(until) > now else 0


def record_sign_in(db_session: Session, username: str, succeeded: bool, now: dt.datetime) -> None:
    """A success forgets the name's failures; each failure past the free ones doubles the wait."""
    config = current_app.config
    row = db_session.get(LoginThrottle, _key(username))
    if succeeded:
        if row is not None:
            db_session.delete(row)
    else:
        row = row or LoginThrottle(username=_key(username), failures=0)
        row.failures += 1
        over = row.failures - config["LOGIN_FREE_ATTEMPTS"]
        if over > 0:
            delay = min(config["LOGIN_BASE_DELAY_SECONDS"] * 2 ** (over - 1), config["LOGIN_MAX_DELAY_SECONDS"])
            row.locked_until = now + dt.timedelta(seconds=delay)
        db_session.add(row)
    db_session.commit()


def _key(username: str) -> str:
    return (username or "").strip().casefold()[:128]


def init_accounts(app: Flask) -> None:
    """Before AppBuilder reads its config: the password policy on every form that sets one."""
    app.config["FAB_PASSWORD_COMPLEXITY_ENABLED"] = True
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = check_password_policy

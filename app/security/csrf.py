"""CSRF on every state-changing request that rides on the session cookie.

FAB exempts its REST APIs from CSRF; with browser login allowed that would let another site
post with the staff member's cookie. We check every request instead, except one that a valid
bearer token authenticates (a browser never attaches one by itself). Any other Authorization
header, a forged or expired token included, exempts nothing.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_jwt_extended import verify_jwt_in_request

from app.extensions import csrf


def _valid_bearer_token() -> bool:
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        return False
    try:
        verify_jwt_in_request()
    except Exception:  # noqa: BLE001 - any flaw in the token: not authenticated by it
        return False
    return True


def protect_unless_bearer() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if _valid_bearer_token():
        return
    csrf.protect(apply_exemptions=True)


def init_csrf(app: Flask) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # protect_unless_bearer does the check
    csrf.init_app(app)
    app.before_request(protect_unless_bearer)

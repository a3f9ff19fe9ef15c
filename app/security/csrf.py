"""CSRF on every state-changing request that rides on the session cookie.

FAB exempts its REST APIs from CSRF; with browser login allowed that would let another site
post with the staff member's cookie. We check every request instead, except those carrying a
bearer token, which a browser never attaches by itself.
"""
from __future__ import annotations

from flask import Flask, current_app, request

from app.extensions import csrf


def protect_unless_bearer() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    csrf.protect(apply_exemptions=True)


def init_csrf(app: Flask) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # protect_unless_bearer does the check
    csrf.init_app(app)
    app.before_request(protect_unless_bearer)

"""Security headers on every response, set by Flask-Talisman.

Content-Security-Policy: everything from this server only, never framed. Scripts run only
from our own files or when they carry the request's nonce: FAB's templates print
`baselib.get_nonce()`, which reads the `csp_nonce()` Jinja global that Talisman installs.
HTTPS redirect and HSTS follow LOKET_HTTPS (config SERVED_OVER_HTTPS): the office intranet and
the tests speak plain http.
"""
from __future__ import annotations

from flask import Flask
from flask_talisman import DENY, Talisman

CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",  # plus the per-request nonce (CONTENT_SECURITY_POLICY_NONCE_IN)
    # FAB's and Loket's templates carry style="" attributes throughout, and select2 and the
    # datepicker write them too; inline styles cannot run code, so they stay allowed. A nonce
    # here would make browsers ignore 'unsafe-inline', so style-src takes none.
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' blob:",  # the dashboard's PNG download draws its own chart's SVG from a blob: URL
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY_NONCE_IN = ["script-src"]
REFERRER_POLICY = "same-origin"


class _LoketTalisman(Talisman):
    """Talisman, except that a response which set a policy of its own keeps it (a document
    download answers `default-src 'none'; sandbox`, stricter than the site's), still unframeable."""

    def _set_content_security_policy_headers(self, headers, options) -> None:
        own = headers.get("Content-Security-Policy")
        super()._set_content_security_policy_headers(headers, options)
        if own:
            headers["Content-Security-Policy"] = own if "frame-ancestors" in own else f"{own}; frame-ancestors 'none'"


def init_headers(app: Flask) -> None:
    """Call before any extension whose before_request can refuse a request (CSRF, rate limits):
    Talisman makes the nonce in its own before_request, and an error page rendered without one
    could not run FAB's scripts."""
    https = app.config["SERVED_OVER_HTTPS"]
    # One instance per app: Talisman keeps its settings and the app on itself.
    app.extensions["talisman"] = _LoketTalisman(
        app,
        force_https=https,
        strict_transport_security=https,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=CONTENT_SECURITY_POLICY_NONCE_IN,
        frame_options=DENY,
        referrer_policy=REFERRER_POLICY,
        # Talisman would otherwise overwrite the cookie settings config.py already chose.
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )

"""Outgoing mail through Flask-Mail, configured by one URL (LOKET_SMTP_URL, Config.SMTP_URL):

    smtp://host                      plain SMTP, port 25
    smtp://user:pass@host:587?starttls=1   STARTTLS (port 587 when none is given)
    smtps://user:pass@host           TLS from the first byte, port 465

User and password are percent-decoded (a password with @ or / is written %40, %2F). A URL that
cannot be read stops the app at start: a wrong setting would otherwise lose mail quietly.
Without a URL no mail leaves; the outbox (app.outbox) keeps every message until one is set.
"""
from __future__ import annotations

import smtplib
import ssl
from urllib.parse import parse_qsl, unquote, urlsplit

from flask import Flask
from flask_mail import Connection, Mail

SETTING = "LOKET_SMTP_URL"
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# How long one SMTP conversation may wait for the server: a server that accepts the connection
# and never answers must not hold the sending job (and its lease on the message) forever.
SMTP_TIMEOUT_SECONDS = 30


def _refuse(problem: str) -> ValueError:
    return ValueError(
        f"{SETTING} is not a usable SMTP address: {problem}. Write it as smtp://user:password@host:port "
        "(add ?starttls=1 for STARTTLS) or smtps://user:password@host:465."
    )


def smtp_settings(url: str) -> dict[str, object]:
    """Flask-Mail's MAIL_* settings for an SMTP URL; ValueError naming LOKET_SMTP_URL if it is not
    one (the message never repeats the password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is no number or out of range, a malformed host
        raise _refuse(f"the host or port cannot be read ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise _refuse(f"the scheme must be smtp or smtps, not {parts.scheme or 'missing'!r}")
    if not parts.hostname:
        raise _refuse("it names no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise _refuse("it has a path or fragment, which an SMTP address does not take")
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls" or value.lower() not in _YES + _NO:
            raise _refuse(f"unknown option {key}={value!r} (only starttls=1 or starttls=0)")
        starttls = value.lower() in _YES
    if starttls and scheme == "smtps":
        raise _refuse("smtps is TLS already; starttls=1 belongs to smtp://")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if bool(username) != bool(password):
        raise _refuse("a user needs a password and a password a user")
    return {
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": port or DEFAULT_PORTS["smtp+starttls" if starttls else scheme],
        "MAIL_USE_TLS": starttls,
        "MAIL_USE_SSL": scheme == "smtps",
        "MAIL_USERNAME": username,
        "MAIL_PASSWORD": password,
    }


def init_mail(app: Flask) -> None:
    """Flask-Mail for this app (app.extensions["mail"]) when SMTP_URL is set; nothing otherwise."""
    url = app.config.get("SMTP_URL")
    if not url:
        return
    app.config.update(smtp_settings(url))
    app.config["MAIL_DEFAULT_SENDER"] = app.config["MAIL_FROM"]
    # Flask-Mail sends nothing while TESTING unless told: a configured server is there to be used
    # (the tests run a real one, tests/smtp.py).
    app.config.setdefault("MAIL_SUPPRESS_SEND", False)
    Mail(app)


def mail_configured(app: Flask) -> bool:
    return "mail" in app.extensions


class _TimedConnection(Connection):
    """Flask-Mail's connection with a timeout and certificate checks (Flask-Mail gives smtplib
    neither: no timeout, and smtplib's default TLS context trusts any certificate)."""

    def configure_host(self) -> smtplib.SMTP:
        state, context = self.mail, ssl.create_default_context()
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=SMTP_TIMEOUT_SECONDS)
        host.set_debuglevel(int(state.debug))
        try:
            if state.use_tls:
                host.starttls(context=context)
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: object) -> None:
        """A QUIT the server does not answer after it took the message is no failure to send."""
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()


def connect(app: Flask) -> Connection:
    """An SMTP connection of the app's Mail (`with connect(app) as connection: message.send(connection)`)."""
    return _TimedConnection(app.extensions["mail"])

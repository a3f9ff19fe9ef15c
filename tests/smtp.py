"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 at a free port, keeping what it receives.

Use it from a test module (no conftest needed):

    pytest_plugins = ("tests.smtp",)  # the fixtures smtp_server and mail_app

    def test_x(mail_app, smtp_server):
        ...  # queue, then app.outbox.send_pending(mail_app)
        (mail,) = smtp_server.messages  # email.message.EmailMessage, policy.default
        assert mail["To"] == "a@b.c" and smtp_server.envelopes[0].rcpt_tos == ["a@b.c"]

smtp_server: a started SmtpServer (.port, .url "smtp://127.0.0.1:<port>", .messages, .envelopes,
.stop() / .start() on the same port to play a mail server that is down, .clear()); stopped
after the test. Parametrized indirectly with ("user", "password"), it accepts that login (and
no other) and its url carries it; mail sent without a login is taken too, so check
.envelopes[i].login. mail_app: a second app over the session's database whose SMTP_URL is
smtp_server.url (the session's `app` has no mail server), or, parametrized indirectly with a URL
template, that URL ("{port}" is smtp_server's); app_with_smtp(app, url) makes another.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from sqlalchemy import delete

from app import create_app
from app.extensions import db
from app.models import OutboxMessage
from config import TestConfig

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    login: str | None  # the user that logged in for it, if any


class SmtpServer:
    def __init__(self, port: int | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.credentials = credentials
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """smtp://127.0.0.1:<port>, with the login (percent-encoded) when the server requires one."""
        if self.credentials is None:
            return f"smtp://{HOST}:{self.port}"
        user, password = (quote(part, safe="") for part in self.credentials)
        return f"smtp://{user}:{password}@{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listens (again) on the same port."""
        assert self._controller is None, "already running"
        # Login offered without TLS (the loopback of a test); not required, so a test sees in
        # .envelopes whether the client logged in, and as whom.
        auth = {"authenticator": self._authenticate, "auth_require_tls": False} if self.credentials else {}
        # A Controller's event loop is closed when it stops: a restart needs a new one.
        controller = Controller(self, hostname=HOST, port=self.port, **auth)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stops listening: a connection is refused, as by a mail server that is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    # aiosmtpd's handler hooks ------------------------------------------------------------------

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        with self._lock:
            self.messages.append(message)
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos), login))
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001, PLR0913
        ok = isinstance(auth_data, LoginPassword) and self.credentials is not None and (
            auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture()
def empty_outbox(app: Flask) -> Iterator[None]:
    """The outbox empty before the test (another module's test may have left a message) and after
    it (use with pytestmark's usefixtures)."""

    def empty() -> None:
        with app.app_context():
            db.session.rollback()
            db.session.execute(delete(OutboxMessage))
            db.session.commit()

    empty()
    yield
    empty()


@pytest.fixture()
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """A started server; parametrize it indirectly with (user, password) to require that login."""
    server = SmtpServer(credentials=getattr(request, "param", None))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def app_with_smtp(app: Flask, smtp_url: str) -> Flask:
    """A second app over `app`'s database with SMTP_URL set (dispose its engine when done)."""

    class MailConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        SMTP_URL = smtp_url

    return create_app(MailConfig)


@pytest.fixture()
def mail_app(request: pytest.FixtureRequest, app: Flask, smtp_server: SmtpServer) -> Iterator[Flask]:
    """An app sending to smtp_server; parametrize it indirectly with a URL template
    ("smtp://loket:salah@127.0.0.1:{port}") to configure it otherwise."""
    url = getattr(request, "param", smtp_server.url).format(port=smtp_server.port)
    mail_app = app_with_smtp(app, url)
    try:
        yield mail_app
    finally:
        with mail_app.app_context():
            db.session.remove()
            db.engine.dispose()

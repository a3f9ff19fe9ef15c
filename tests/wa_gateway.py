"""A real HTTP server playing the WhatsApp gateway for tests: http.server on 127.0.0.1 at a free
port, keeping every request it receives.

Use it from a test module (no conftest needed):

    pytest_plugins = ("tests.wa_gateway",)  # the fixtures wa_gateway, wa_app and make_gateway_app

    def test_x(wa_app, wa_gateway):
        ...  # queue with channel="whatsapp", then app.outbox.send_pending(wa_app)
        (request,) = wa_gateway.requests
        assert request.json == {"to": "+62...", "text": "...", "reference": "loket-1"}

wa_gateway: a started WaGateway (.port, .url "http://127.0.0.1:<port>/send", .requests (path,
headers, parsed JSON), .status: the status it answers (200; set 500 to play a failing gateway),
.stop() / .start() on the same port to play a gateway that is down, .clear()); stopped after the
test. wa_app: a second app over the session's database whose WA_GATEWAY_URL is wa_gateway.url and
WA_GATEWAY_TOKEN is TOKEN (the session's `app` has no gateway). make_gateway_app(url, token=TOKEN,
smtp_url=None) makes another (SMTP too, for both channels at once), disposed after the test.
Fixtures rather than imports: a test module importing this one would keep pytest from rewriting
its asserts.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.smtp import HOST, free_port

TOKEN = "rahasia-gateway-123"


@dataclass(frozen=True)
class GatewayRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    json: object  # None when the body was no JSON


class WaGateway:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[GatewayRequest] = []
        self.status = 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/send"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listens (again) on the same port."""
        assert self._server is None, "already running"
        server = ThreadingHTTPServer((HOST, self.port), _handler(self))
        server.daemon_threads = True
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._server = server

    def stop(self) -> None:
        """Stops listening: a connection is refused, as by a gateway that is down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: GatewayRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return self.status


def _handler(gateway: WaGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed = json.loads(body.decode("utf-8"))
            except ValueError:
                parsed = None
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = gateway._record(GatewayRequest(self.command, self.path, headers, parsed))  # noqa: SLF001
            answer = json.dumps({"ok": 200 <= status < 300, "id": f"wa-{len(gateway.requests)}"}).encode()  # noqa: PLR2004
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST  # a gateway would refuse a GET; recorded so a test sees it arrived as one

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


@pytest.fixture()
def wa_gateway() -> Iterator[WaGateway]:
    gateway = WaGateway()
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def app_with_gateway(app: Flask, url: str | None, token: str | None = TOKEN, smtp_url: str | None = None) -> Flask:
    """A second app over `app`'s database with WA_GATEWAY_URL (and SMTP_URL when given) set
    (dispose its engine when done)."""

    class GatewayConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        WA_GATEWAY_URL = url
        WA_GATEWAY_TOKEN = token
        SMTP_URL = smtp_url

    return create_app(GatewayConfig)


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def make_gateway_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """app_with_gateway over the session's database; every app made is disposed after the test."""
    made: list[Flask] = []

    def make(url: str | None, token: str | None = TOKEN, smtp_url: str | None = None) -> Flask:
        made.append(app_with_gateway(app, url, token, smtp_url))
        return made[-1]

    try:
        yield make
    finally:
        for each in made:
            dispose(each)


@pytest.fixture()
def wa_app(make_gateway_app: Callable[..., Flask], wa_gateway: WaGateway) -> Flask:
    """An app sending WhatsApp messages to wa_gateway with the token TOKEN (and no mail server)."""
    return make_gateway_app(wa_gateway.url)

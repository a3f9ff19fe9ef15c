"""Shared fixtures: one migrated app per test session, one user per role, cheap logins.

LOKET_TEST_DATABASE_URL selects PostgreSQL; without it the suite runs on a SQLite file.
Logins write Flask-Login's session directly, so the suite never pays for password hashing.
"""
from __future__ import annotations

import os
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.bootstrap import load_sop_files
from app.extensions import db
from app.models.guards import guards_lifted
from app.security.roles import ALL_ROLES
from app.security.sync import sync_roles
from config import TestConfig

# In an order that deletes what points at a row before the row itself.
BUSINESS_TABLES = (
    "notification", "outbox_message", "dashboard_tally", "dashboard_state",
    "audit_log", "import_batch", "report_job", "print_log", "permit_signature", "permit", "number_counter",
    "stage_event", "register_entry",
    "document", "survey_response", "dossier", "applicant", "company",
)
POSTGRES_URL = os.environ.get("LOKET_TEST_DATABASE_URL")


def _fresh_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    instance = tmp_path_factory.mktemp("instance")
    os.environ["LOKET_INSTANCE_PATH"] = str(instance)

    class SessionConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = POSTGRES_URL or f"sqlite:///{instance / 'test.db'}"

    if POSTGRES_URL:
        _fresh_postgres(POSTGRES_URL)
    app = create_app(SessionConfig)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        sync_roles(app.appbuilder)
        load_sop_files()
        sm = app.appbuilder.sm
        for role in ALL_ROLES:
            username = role_username(role)
            if sm.find_user(username=username) is None:
                sm.add_user(username, role, "Uji", f"{username}@uji.invalid", sm.find_role(role), password="rahasia-uji")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def role_username(role: str) -> str:
    return role.lower().replace(" ", "_")


@pytest.fixture()
def app_ctx(app: Flask):
    with app.app_context():
        yield app
        db.session.rollback()


def wipe_business_tables() -> None:
    """Empties the business tables, the audit trail and issued permits included: the database's
    guards (app.models.guards) are lifted for it and put back."""
    db.session.rollback()
    with guards_lifted(db.session.connection()):
        db.session.execute(text("UPDATE dossier SET corrects_permit_id = NULL"))
        for table in BUSINESS_TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture()
def clean_db(app: Flask):
    """Empties the business tables after a test that writes them."""
    yield
    with app.app_context():
        wipe_business_tables()


def signed_in_client(app: Flask, user_id: int) -> FlaskClient:
    """A test client signed in as this account (no password check), in Indonesian."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["locale"] = "id"
    return client


class RoleClients:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._user_ids: dict[str, int] = {}

    def __call__(self, role: str | None) -> FlaskClient:
        if role is None:
            return self.app.test_client()
        if role not in self._user_ids:
            with self.app.app_context():
                self._user_ids[role] = self.app.appbuilder.sm.find_user(username=role_username(role)).id
        return signed_in_client(self.app, self._user_ids[role])


@pytest.fixture(scope="session")
def login_as(app: Flask) -> RoleClients:
    """login_as("Front Office") -> a test client signed in as that role's user; None -> anonymous."""
    return RoleClients(app)


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict, follow_redirects: bool = False):  # noqa: ANN201
    """Posts a form the way a browser does: fetch it first, send its CSRF token back."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)}, follow_redirects=follow_redirects)

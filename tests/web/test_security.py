"""Security baseline: CSRF everywhere a cookie can write, secrets, cookies, login rate limit."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Company
from app.secrets import load_or_create_secret_key
from config import Config, TestConfig
from tests.conftest import csrf_token
from tests.factories import make_company


@pytest.fixture()
def company_id(app, clean_db):  # noqa: ARG001
    with app.app_context():
        return make_company().id


def test_delete_without_csrf_token_is_refused(app, login_as, company_id):
    response = login_as("Admin").post(f"/companyview/delete/{company_id}")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Company, company_id) is not None


def test_delete_by_get_is_refused_while_csrf_is_on(app, login_as, company_id):
    login_as("Admin").get(f"/companyview/delete/{company_id}")
    with app.app_context():
        assert db.session.get(Company, company_id) is not None


def test_action_post_without_csrf_token_is_refused(login_as, company_id):
    response = login_as("Admin").post("/companyview/action_post", data={"action": "muldelete", "rowid": [company_id]})
    assert response.status_code == 400


def test_api_write_riding_on_the_session_cookie_needs_a_csrf_token(app, login_as, company_id):
    client = login_as("Front Office")  # removes a company registered by mistake, nothing uses it yet
    assert client.delete(f"/api/v1/company/{company_id}").status_code == 400
    with app.app_context():
        assert db.session.get(Company, company_id) is not None
    token = csrf_token(client, "/resetmypassword/form")
    assert client.delete(f"/api/v1/company/{company_id}", headers={"X-CSRFToken": token}).status_code == 200
    with app.app_context():
        assert db.session.get(Company, company_id) is None


def test_api_rejects_a_bad_nik_in_indonesian_and_saves_nothing(app, login_as, clean_db):  # noqa: ARG001
    client = login_as("Front Office")
    token = csrf_token(client, "/resetmypassword/form")
    response = client.post(
        "/api/v1/applicant/?_l_=id", json={"full_name": "Uji Coba", "nik": "6108013208950001"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 422
    assert "NIK" in response.get_json()["message"]["nik"][0]
    assert "birth date" not in response.get_json()["message"]["nik"][0]


def test_api_normalises_what_it_saves(app, login_as, clean_db):  # noqa: ARG001
    client = login_as("Front Office")
    token = csrf_token(client, "/resetmypassword/form")
    response = client.post(
        "/api/v1/company/",
        json={"name": "CV Sungai Landak", "legal_form": "CV", "nib": "9120000077777", "npwp": "012345678901000", "email": " Admin@SungaiLandak.co.id"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.name == "CV Sungai Landak"))
        assert company.email == "Admin@sungailandak.co.id"


def test_secret_key_is_generated_once_with_owner_only_access(tmp_path):
    first = load_or_create_secret_key(str(tmp_path))
    assert len(first) >= 48
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert load_or_create_secret_key(str(tmp_path)) == first


def test_no_secret_key_literal_in_production_config():
    assert Config.SECRET_KEY == os.environ.get("SECRET_KEY") or Config.SECRET_KEY is None


def test_session_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] >= 10 * 1024 * 1024
    assert app.config["AUTH_RATE_LIMITED"] is True


def test_login_is_rate_limited(tmp_path, monkeypatch):
    monkeypatch.setenv("LOKET_INSTANCE_PATH", str(tmp_path))

    class RateLimitedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'rl.db'}"
        RATELIMIT_ENABLED = True
        AUTH_RATE_LIMIT = "2 per minute"
        WTF_CSRF_ENABLED = False

    app = create_app(RateLimitedConfig)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = app.test_client()
    codes = [client.post("/login/", data={"username": "x", "password": "y"}).status_code for _ in range(3)]
    assert codes[-1] == 429
    assert 429 not in codes[:2]

"""The REST API with real bearer tokens from /api/v1/security/login, as integrators use it: reads
and writes with exactly the grants of app.security.roles, the refresh token, and CSRF left to
requests that no valid token authenticates."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Company
from tests.conftest import role_username
from tests.factories import valid_nib

pytestmark = pytest.mark.usefixtures("clean_db")
PASSWORD = "rahasia-uji"  # the fixture users' (tests/conftest.py)


def _tokens(client, role: str) -> dict:  # noqa: ANN001
    response = client.post("/api/v1/security/login", json={
        "username": role_username(role), "password": PASSWORD, "provider": "db", "refresh": True})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", ["Admin", "Front Office", "Back Office", "Supervisor", "Kepala Dinas"])
def test_a_token_reads_what_its_role_may_read(app, role):
    client = app.test_client()
    token = _tokens(client, role)["access_token"]
    assert client.get("/api/v1/_openapi", headers=_bearer(token)).status_code == 200
    listed = client.get("/api/v1/dossier/", headers=_bearer(token))
    assert listed.status_code == 200 and "result" in listed.get_json()
    # Register lines are not the Front Office's to read (roles.py).
    register = client.get("/api/v1/register_entry/", headers=_bearer(token)).status_code
    assert register == (403 if role == "Front Office" else 200)


def test_a_token_writes_without_a_csrf_token_only_what_its_role_may_write(app):
    client = app.test_client()
    front_office = _tokens(client, "Front Office")["access_token"]
    nib = valid_nib()
    created = client.post("/api/v1/company/", json={"name": "PT Lewat API", "legal_form": "PT", "nib": nib},
                          headers=_bearer(front_office))
    assert created.status_code == 201, created.get_json()
    company_id = created.get_json()["id"]
    supervisor = _tokens(client, "Supervisor")["access_token"]
    refused = client.put(f"/api/v1/company/{company_id}", json={"name": "PT Diubah Supervisor"},
                         headers=_bearer(supervisor))
    assert refused.status_code == 403
    renamed = client.put(f"/api/v1/company/{company_id}", json={"name": "PT Lewat API Baru"},
                         headers=_bearer(front_office))
    assert renamed.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Company.name).where(Company.nib == nib)) == "PT Lewat API Baru"


def test_the_refresh_token_gives_a_new_access_token(app):
    client = app.test_client()
    refresh = _tokens(client, "Back Office")["refresh_token"]
    renewed = client.post("/api/v1/security/refresh", headers=_bearer(refresh))
    assert renewed.status_code == 200
    assert client.get("/api/v1/dossier/", headers=_bearer(renewed.get_json()["access_token"])).status_code == 200


def test_a_bad_bearer_token_is_refused_and_exempts_a_session_from_nothing(app, login_as):
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/dossier/", headers=_bearer("x")).status_code in (401, 422)
    # A Front Office session with a forged token beside it still needs the CSRF token.
    session = login_as("Front Office")
    nib = valid_nib()
    forged = session.post("/api/v1/company/", json={"name": "PT Tanpa CSRF", "legal_form": "PT", "nib": nib},
                          headers=_bearer("x"))
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Company.id).where(Company.nib == nib)) is None

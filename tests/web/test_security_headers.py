"""Security headers (app/security/headers.py) on every kind of answer: pages, JSON, files, the
public pages, errors; HTTPS redirect and HSTS only with LOKET_HTTPS."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Document
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.web.test_documents import TOKEN_PAGE, _requirement_id, _upload, pdf_bytes

ROOT = Path(__file__).resolve().parents[2]


def assert_security_headers(response, url: str) -> str:
    """The headers every answer carries; returns its Content-Security-Policy."""
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    assert "Strict-Transport-Security" not in headers, f"{url}: HSTS without LOKET_HTTPS"
    policy = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, f"{url}: {policy!r}"
    # Nothing from anyone else: every source is 'self', 'none', a nonce or inline styles; images
    # may also be blob: URLs the page made itself (the dashboard's PNG download), and only images.
    sources = {word for part in policy.split(";") for word in part.split()[1:] if not part.strip().startswith("img-")}
    assert sources <= {"'self'", "'none'", "'unsafe-inline'", "sandbox"} | {s for s in sources if s.startswith("'nonce-")}, \
        f"{url}: {policy!r}"
    images = {word for part in policy.split(";") for word in part.split()[1:] if part.strip().startswith("img-")}
    assert images <= {"'self'", "'none'", "blob:"}, f"{url}: {policy!r}"
    return policy


def _directive(policy: str, name: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith(name + " "))


def test_html_pages_carry_the_headers_and_a_nonce_that_fabs_scripts_carry(login_as):
    response = login_as("Front Office").get("/dossierview/list/")
    assert response.status_code == 200
    policy = assert_security_headers(response, "/dossierview/list/")
    script_src = _directive(policy, "script-src")
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonce = script_src.split("'nonce-")[1].rstrip("'")
    page = response.get_data(as_text=True)
    assert page.count(f'nonce="{nonce}"') >= 5, "FAB's script tags carry the request's nonce"
    assert _directive(policy, "style-src") == "style-src 'self' 'unsafe-inline'"
    assert _directive(policy, "img-src") == "img-src 'self' blob:"


def test_a_request_refused_before_its_view_gets_an_error_page_whose_scripts_run(login_as):
    """CSRF is checked in a before_request hook: Talisman's nonce must exist by then, or the error
    page's scripts would be refused."""
    response = login_as("Front Office").post("/companyview/add", data={"name": "PT Tanpa Token"})
    assert response.status_code == 400
    script_src = _directive(assert_security_headers(response, "CSRF failure"), "script-src")
    nonce = script_src.split("'nonce-")[1].rstrip("'")
    assert response.get_data(as_text=True).count(f'nonce="{nonce}"') >= 5


def test_a_new_nonce_for_every_page(login_as):
    client = login_as("Front Office")
    policies = {client.get("/").headers["Content-Security-Policy"] for _ in range(2)}
    assert len(policies) == 2


def test_json_api_answers_carry_the_headers(login_as):
    response = login_as("Front Office").get("/api/v1/dossier/")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert_security_headers(response, "/api/v1/dossier/")


def test_public_pages_and_error_pages_carry_the_headers(login_as):
    anonymous = login_as(None)
    for url, status in (("/status", 200), ("/status?nomor=IPK-26-000000", 404), ("/verifikasi/tidak-ada", 404),
                        ("/login/", 200), ("/halaman-yang-tidak-ada", 404), ("/static/loket/report_jobs.js", 200)):
        response = anonymous.get(url)
        assert response.status_code == status, url
        assert_security_headers(response, url)


def test_a_paper_download_carries_the_headers(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    response = login_as("Front Office").get(f"/papers/{dossier_id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_security_headers(response, "receipt.pdf")


def test_a_document_download_keeps_its_own_stricter_policy_and_is_never_framed(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Front Office")
    _upload(client, dossier_id, _requirement_id(app, "PROFIL_PERUSAHAAN"), pdf_bytes(), "profil.pdf",
            csrf_token(client, TOKEN_PAGE))
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.dossier_id == dossier_id))
    response = client.get(f"/documentfiles/download/{document_id}")
    assert response.status_code == 200
    policy = assert_security_headers(response, "document download")
    assert policy.startswith("default-src 'none'; sandbox")


def test_plain_http_is_served_and_the_session_cookie_is_not_forced_secure(app, login_as):
    response = login_as("Front Office").get("/")
    assert response.status_code == 200  # no redirect to https
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("session=") and "Secure" not in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False


# What a fresh process answers, with or without LOKET_HTTPS (config reads it at import).
_PROBE = """
import json
from app import create_app
from config import TestConfig

class Probe(TestConfig):
    SQLALCHEMY_DATABASE_URI = "sqlite://"

client = create_app(Probe).test_client()
secure = client.get("/static/loket/report_jobs.js", base_url="https://localhost")
plain = client.get("/static/loket/report_jobs.js", base_url="http://localhost")
print(json.dumps({
    "https_status": secure.status_code, "hsts": secure.headers.get("Strict-Transport-Security"),
    "http_status": plain.status_code, "http_location": plain.headers.get("Location"),
    "http_hsts": plain.headers.get("Strict-Transport-Security"),
}))
"""


def _probe(tmp_path: Path, https: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LOKET_HTTPS"}
    env["LOKET_INSTANCE_PATH"] = str(tmp_path)
    if https is not None:
        env["LOKET_HTTPS"] = https
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_loket_https_plain_http_is_redirected_and_https_answers_carry_hsts(tmp_path):
    answer = _probe(tmp_path, "1")
    assert answer["https_status"] == 200
    assert answer["hsts"].startswith("max-age=") and int(answer["hsts"].split("=")[1].split(";")[0]) >= 31536000
    assert answer["http_status"] == 302 and answer["http_location"].startswith("https://localhost/")
    assert answer["http_hsts"] is None


def test_without_loket_https_there_is_no_hsts_and_no_redirect(tmp_path):
    answer = _probe(tmp_path, None)
    assert answer == {"https_status": 200, "hsts": None, "http_status": 200, "http_location": None, "http_hsts": None}

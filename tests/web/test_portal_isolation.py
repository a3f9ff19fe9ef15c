"""Isolation of applicants (issue 16, part 7): an applicant reaches only their own companies,
dossiers and papers, by the portal's pages, by guessing ids, and not at all by the REST API or
any staff screen. Two applicants try each other's ids on every portal URL that takes one."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Applicant, Document, PermitType
from app.security.roles import PEMOHON
from tests.conftest import csrf_token, role_username, signed_in_client
from tests.factories import make_applicant, make_company, make_dossier

pytestmark = pytest.mark.usefixtures("clean_db")
PASSWORD = "rahasia-uji"  # the fixture users' (tests/conftest.py)
OTHER = "pemohon.lain@uji.invalid"


@pytest.fixture()
def two_applicants(app):
    """(mine, theirs): for each, the account id and one dossier with a paper."""
    with app.app_context():
        sm = app.appbuilder.sm
        other = sm.find_user(username=OTHER) or sm.add_user(
            OTHER, "Pemohon", "Lain", OTHER, sm.find_role(PEMOHON), password=PASSWORD)
        accounts = [sm.find_user(username=role_username(PEMOHON)).id, other.id]
        permit = db.session.scalar(select(PermitType))
        rows = []
        for account_id in accounts:
            company = make_company()
            applicant = make_applicant(company)
            applicant.account_id = account_id
            dossier = make_dossier(company, applicant)
            document = Document(dossier_id=dossier.id, requirement_type_id=permit.requirements[0].id,
                                original_filename="surat.pdf", storage_key="k" * 64, size_bytes=1, sha256="k" * 64,
                                uploaded_by_id=account_id)
            db.session.add(document)
            db.session.commit()
            rows.append({"account": account_id, "dossier": dossier.id, "document": document.id,
                         "company": company.id})
        yield rows
        db.session.execute(delete(Document))
        db.session.execute(Applicant.__table__.update().values(account_id=None))
        db.session.commit()


def _portal_rules(app) -> list:  # noqa: ANN001
    """Every portal URL that names a row (a dossier or a document) by id."""
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("PortalView.") and rule.arguments]
    assert {r.endpoint for r in rules} >= {"PortalView.dossier", "PortalView.upload", "PortalView.resubmit",
                                          "PortalView.receipt", "PortalView.permit", "PortalView.document"}
    return rules


def _url(rule, row: dict) -> str:  # noqa: ANN001
    key = "document" if "document_id" in rule.arguments else "dossier"
    return re.sub(r"<(?:int:)?\w+>", str(row[key]), rule.rule)


def test_an_applicant_gets_not_found_for_every_id_of_another_applicant(app, two_applicants):
    mine, theirs = two_applicants
    client = signed_in_client(app, mine["account"])
    token = csrf_token(client, "/pemohon/")
    for rule in _portal_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = _url(rule, theirs)
            answer = client.open(url, method=method, data={"csrf_token": token, "requirement_type_id": "1"})
            assert answer.status_code == 404, f"{method} {url} -> {answer.status_code}"
    # Their own dossier and paper are theirs to see.
    assert client.get(f"/pemohon/berkas/{mine['dossier']}").status_code == 200
    own = client.get(f"/pemohon/berkas/{theirs['dossier']}")
    assert own.status_code == 404
    # Nothing of the other applicant leaks onto the home page either.
    with app.app_context():
        from app.models import Company, Dossier

        their_number = db.session.scalar(select(Dossier.receipt_number).where(Dossier.id == theirs["dossier"]))
        their_company = db.session.scalar(select(Company.name).where(Company.id == theirs["company"]))
    home = client.get("/pemohon/").get_data(as_text=True)
    assert their_number not in home and f"{their_company}<" not in home


def test_an_applicant_cannot_apply_for_a_company_that_is_not_theirs(app, two_applicants):
    mine, theirs = two_applicants
    client = signed_in_client(app, mine["account"])
    with app.app_context():
        permit_type_id = db.session.scalar(select(PermitType.id))
    token = csrf_token(client, "/pemohon/permohonan/baru")
    answer = client.post("/pemohon/permohonan/baru", data={
        "csrf_token": token, "permit_type_id": str(permit_type_id), "company_id": str(theirs["company"]),
        "site_address": "Jl. Lain No. 1", "site_area_m2": "100", "vehicle_capacity": "3", "position": "Direktur"})
    assert answer.status_code in (200, 404)
    with app.app_context():
        from app.models import Dossier

        assert db.session.scalar(select(Dossier.id).where(Dossier.company_id == theirs["company"],
                                                          Dossier.id != theirs["dossier"])) is None


def test_an_applicant_token_reaches_no_api(app, two_applicants):
    """A real token from /api/v1/security/login: every API endpoint refuses it."""
    _, theirs = two_applicants
    client = app.test_client()
    login = client.post("/api/v1/security/login", json={
        "username": role_username(PEMOHON), "password": PASSWORD, "provider": "db"})
    assert login.status_code == 200, login.get_json()
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.startswith("/api/v1/security/"):
            continue
        url = re.sub(r"<(?:int:)?pk>", str(theirs["dossier"]), rule.rule)
        url = re.sub(r"<[^>]+>", "v1" if "<version>" in rule.rule else "0", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method, headers=headers, json={} if method in {"POST", "PUT"} else None)
            tried += 1
            assert answer.status_code in (401, 403, 404, 405), f"{method} {url} -> {answer.status_code}"
            if answer.status_code == 404:  # only a route that is not there at all (no row was looked up)
                assert rule.rule.count("<") and "pk" not in rule.rule, f"{method} {url} looked a row up"
    assert tried > 20


def test_an_applicant_sees_no_staff_screen_or_menu(app, login_as, two_applicants):  # noqa: ARG001
    client = login_as(PEMOHON)
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 302 and home.headers["Location"].endswith("/pemohon/")
    page = client.get("/pemohon/").get_data(as_text=True)
    for staff_path in ("/dossierview/", "/companyview/", "/applicantview/", "/documentview/", "/dasbor/",
                       "/users/", "/notifikasi/"):
        assert staff_path not in page
        answer = client.get(staff_path + ("list/" if staff_path.endswith("view/") else ""))
        assert answer.status_code in (302, 403, 404), f"{staff_path} -> {answer.status_code}"
        if answer.status_code == 302:
            assert "/login" in answer.headers["Location"]
    assert client.get("/cari/?q=IPK").status_code in (403, 404)


def test_a_staff_account_is_refused_on_the_portal(app, login_as):  # noqa: ARG001
    assert login_as("Front Office").get("/pemohon/").status_code == 403

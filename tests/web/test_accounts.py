"""Accounts: the password policy on every form that sets one, sessions that end on sign-out and
on a password change (a copied cookie included), a growing wait per user name after failed
sign-ins, and the real client address behind a trusted proxy."""
from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from flask import Flask
from sqlalchemy import select, update

from app import create_app
from app.extensions import db
from app.models import AuditEntry, LoginThrottle
from config import TestConfig
from tests.conftest import csrf_token, post_form
from tests.factories import make_company
from tests.web.helpers import page_text

STRONG = "kuda-laut berlari pagi"


@pytest.fixture()
def account(app: Flask):
    """A fresh Front Office account with a known password (the shared fixture users sign in by
    a written session, never by password)."""
    with app.app_context():
        sm = app.appbuilder.sm
        username = f"uji_akun_{secrets.token_hex(4)}"
        user = sm.add_user(username, "Uji", "Akun", f"{username}@uji.invalid", sm.find_role("Front Office"),
                           password=STRONG)
        user_id = user.id
    yield username, user_id
    with app.app_context():
        db.session.execute(update(LoginThrottle).where(LoginThrottle.username == username).values(failures=0))
        db.session.commit()


def _sign_in(app: Flask, username: str, password: str):  # noqa: ANN202
    client = app.test_client()
    token = csrf_token(client, "/login/")
    response = client.post("/login/", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=True)
    return client, page_text(response)


def _signed_in(client) -> bool:  # noqa: ANN001
    response = client.get("/companyview/list/")
    return response.status_code == 200


# ---------------------------------------------------------------------------- the policy


def test_admin_cannot_create_a_user_with_a_weak_password(app, login_as):
    admin = login_as("Admin")
    with app.app_context():
        role_id = app.appbuilder.sm.find_role("Front Office").id
    form = {"first_name": "Sari", "last_name": "Dewi", "username": "sari_dewi", "email": "sari@uji.invalid",
            "active": "y", "roles": str(role_id)}
    for password, why in (("a", "paling sedikit 10"), ("sari_dewi-2026", "nama"), ("password1234", "mudah ditebak")):
        page = page_text(post_form(admin, "/users/add", {**form, "password": password, "conf_password": password},
                                   follow_redirects=True))
        assert why in page, password
    with app.app_context():
        assert app.appbuilder.sm.find_user(username="sari_dewi") is None
    post_form(admin, "/users/add", {**form, "password": STRONG, "conf_password": STRONG})
    with app.app_context():
        created = app.appbuilder.sm.find_user(username="sari_dewi")
        assert created is not None
        db.session.delete(created)
        db.session.commit()


def test_a_user_cannot_change_their_password_to_a_weak_one_and_admin_cannot_reset_to_one(app, account, login_as):
    username, user_id = account
    client, _ = _sign_in(app, username, STRONG)
    page = page_text(post_form(client, "/resetmypassword/form", {"password": "1", "conf_password": "1"},
                               follow_redirects=True))
    assert "paling sedikit 10" in page
    admin = login_as("Admin")
    page = page_text(post_form(admin, f"/resetpassword/form?pk={user_id}",
                               {"password": f"{username}!!", "conf_password": f"{username}!!"}, follow_redirects=True))
    assert "nama" in page
    _, signed = _sign_in(app, username, STRONG)
    assert "Keluar" in signed or "logout" in signed.lower(), "the old password still works"


# ---------------------------------------------------------------------------- sessions


def test_signing_out_ends_a_copied_session_cookie(app, account):
    username, _ = account
    client, _ = _sign_in(app, username, STRONG)
    copy = app.test_client()
    cookie = client.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    assert _signed_in(client) and _signed_in(copy)
    client.get("/logout/")
    assert not _signed_in(copy), "a cookie copied before sign-out is dead"
    assert not _signed_in(client)
    again, _ = _sign_in(app, username, STRONG)
    assert _signed_in(again)


def test_a_password_change_ends_the_accounts_other_sessions_but_not_its_own(app, account):
    username, _ = account
    first, _ = _sign_in(app, username, STRONG)
    second, _ = _sign_in(app, username, STRONG)
    new = "sungai landak mengalir tenang"
    post_form(first, "/resetmypassword/form", {"password": new, "conf_password": new})
    assert _signed_in(first) and not _signed_in(second)
    _, page = _sign_in(app, username, new)
    assert "Keluar" in page or "logout" in page.lower()


# ---------------------------------------------------------------------------- failed sign-ins


def test_failed_sign_ins_make_the_user_name_wait_whatever_the_address(app, account):
    username, _ = account
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    for _ in range(free):
        _, page = _sign_in(app, username, "salah sekali")
        assert "coba lagi dalam" not in page
    _, page = _sign_in(app, username, "salah sekali")  # the first failure past the free ones
    _, page = _sign_in(app, username, STRONG)
    assert re.search(r"coba lagi dalam \d+ detik", page), "even the right password waits"
    client, _ = _sign_in(app, username.upper(), STRONG)
    assert not _signed_in(client), "the name is matched without case"
    with app.app_context():
        waited = db.session.get(LoginThrottle, username)
        assert waited.failures == free + 1
        assert waited.locked_until is not None
        db.session.execute(update(LoginThrottle).where(LoginThrottle.username == username)
                           .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.session.commit()
    client, _ = _sign_in(app, username, STRONG)
    assert _signed_in(client)
    with app.app_context():
        assert db.session.get(LoginThrottle, username) is None, "a success forgets the failures"


# ---------------------------------------------------------------------------- behind a proxy


def _proxied_app(app: Flask, **settings) -> Flask:  # noqa: ANN003
    class ProxiedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        TRUSTED_PROXIES = 1

    for key, value in settings.items():
        setattr(ProxiedConfig, key, value)
    return create_app(ProxiedConfig)


def test_behind_a_trusted_proxy_the_trail_keeps_the_real_client_address(app, login_as, clean_db):  # noqa: ARG001
    proxied = _proxied_app(app)
    with proxied.app_context():
        company = make_company(name="PT Lewat Proxy")
        company_id, nib = company.id, company.nib
        region = {"kecamatan_code": company.kecamatan_code, "desa_code": company.desa_code}
        fo_id = proxied.appbuilder.sm.find_user(username="front_office").id
    client = proxied.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(fo_id), True
    headers = {"X-Forwarded-For": "10.20.30.40"}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(f"/companyview/edit/{company_id}", headers=headers).get_data(as_text=True)).group(1)
    client.post(f"/companyview/edit/{company_id}", headers=headers, data={
        "name": "PT Lewat Proxy Baru", "legal_form": "PT", "nib": nib, "csrf_token": token, **region})
    with proxied.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.entity == "company", AuditEntry.record_id == company_id, AuditEntry.action == "update"))
        assert entry.address == "10.20.30.40"


def test_behind_a_trusted_proxy_each_client_address_has_its_own_sign_in_limit(app):
    proxied = _proxied_app(app, RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="2 per minute", WTF_CSRF_ENABLED=False)
    client = proxied.test_client()

    def tries(address: str) -> list[int]:
        return [client.post("/login/", data={"username": "tidak_ada", "password": "x"},
                            headers={"X-Forwarded-For": address}).status_code for _ in range(3)]

    assert tries("10.0.0.1")[-1] == 429
    assert 429 not in tries("10.0.0.2")[:2], "another office PC is not locked out by the first"

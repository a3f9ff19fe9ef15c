"""The applicant's account on the portal against a real SMTP server (tests/smtp.py): register, the
activation link from the mail received, sign in; expired and forged links; the registration rules
(password policy, e-mail and NIK taken, the office's record of the person); the link sent again;
a forgotten password reset by mailed link; the per-address mail limit; staff kept out; FAB's own
/register/ pages leading to the portal."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text

from app.extensions import db
from app.models import Applicant, OutboxMessage
from app.outbox import send_pending
from app.portal.accounts import MAIL_LIMIT, NIK_TAKEN, SEE_FRONT_OFFICE, split_name
from app.security.applicants import ApplicantRegistration
from app.security.officers import Officer
from app.security.roles import PEMOHON
from app.views.portal_accounts import safe_next
from tests.conftest import csrf_token, post_form, wipe_business_tables
from tests.factories import make_applicant, valid_nik
from tests.web.helpers import page_text

pytest_plugins = ("tests.smtp",)
pytestmark = pytest.mark.usefixtures("empty_outbox", "forget_accounts")

DOMAIN = "pemohon-uji.co.id"
PASSWORD = "kopi tubruk sore di tepian Landak"
LINK = re.compile(r"https?://\S+")


@pytest.fixture()
def forget_accounts(app: Flask):
    """FAB's tables are not wiped by clean_db: the accounts and registrations made here go after
    the business tables (the audit trail and applicant records point at them)."""
    yield
    with app.app_context():
        wipe_business_tables()
        ids = list(db.session.scalars(select(Officer.id).where(Officer.email.like(f"%@{DOMAIN}"))))
        if ids:
            for table in ("session_generation", "ab_user_role"):
                db.session.execute(text(f"DELETE FROM {table} WHERE user_id IN ({','.join(map(str, ids))})"))
            db.session.execute(delete(Officer).where(Officer.id.in_(ids)))
        db.session.execute(delete(ApplicantRegistration).where(ApplicantRegistration.email.like(f"%@{DOMAIN}")))
        db.session.execute(text("DELETE FROM login_throttle WHERE username LIKE :like"), {"like": f"%@{DOMAIN}"})
        db.session.commit()


def _form(n: int, **overrides) -> dict:  # noqa: ANN003
    return {"full_name": f"Siti Rahayu Putri {n}", "nik": valid_nik(5000 + n), "email": f"siti{n}@{DOMAIN}",
            "phone": "0812-3456-7890", "password": PASSWORD, "confirm_password": PASSWORD, **overrides}


def _register(client, data: dict):  # noqa: ANN001, ANN202
    return post_form(client, "/pemohon/daftar", data)


def _link_in_mail(mail) -> str:  # noqa: ANN001
    """The path of the one portal link in a received mail."""
    (link,) = [url for url in LINK.findall(mail.get_body(("plain",)).get_content()) if "/pemohon/" in url]
    return urlsplit(link).path


def _outbox(app: Flask, email: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                       .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _account(app: Flask, email: str) -> Officer | None:
    with app.app_context():
        user = db.session.scalar(select(Officer).where(Officer.username == email))
        if user is not None:
            _ = [role.name for role in user.roles]
            db.session.expunge_all()
        return user


def _registrations(app: Flask, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ApplicantRegistration.id))
                                 .where(ApplicantRegistration.email == email))


def _sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None):  # noqa: ANN001, ANN202
    url = "/pemohon/masuk" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(client, url)})


def _activated(app: Flask, client, smtp_server, mail_app, n: int, **overrides) -> str:  # noqa: ANN001, ANN003
    """Registers, delivers the mail, opens its link: the active account's e-mail."""
    data = _form(n, **overrides)
    assert _register(client, data).status_code == 200
    send_pending(mail_app)
    assert client.get(_link_in_mail(smtp_server.messages[-1])).status_code == 200
    return data["email"]


# ---------------------------------------------------------------------------- the whole way in


def test_registering_mails_a_link_that_activates_the_account_and_signing_in_lands_on_home(
        app, mail_app, smtp_server):
    client = app.test_client()
    data = _form(1)
    page = _register(client, data)
    assert page.status_code == 200 and data["email"] in page_text(page)
    with app.app_context():
        registration = db.session.scalar(
            select(ApplicantRegistration).where(ApplicantRegistration.email == data["email"]))
        assert (registration.nik, registration.phone) == (data["nik"], "+6281234567890")
        assert (registration.first_name, registration.last_name) == ("Siti Rahayu Putri 1", "1")
        assert registration.password != PASSWORD  # hashed, as FAB hashes
    assert _account(app, data["email"]) is None

    assert send_pending(mail_app).sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == data["email"] and "Aktivasi" in mail["Subject"]
    path = _link_in_mail(mail)
    assert path.startswith("/pemohon/aktivasi/")

    activated = client.get(path)
    assert activated.status_code == 200 and data["email"] in page_text(activated)
    user = _account(app, data["email"])
    assert user is not None and user.active and [role.name for role in user.roles] == [PEMOHON]
    assert _registrations(app, data["email"]) == 0
    with app.app_context():
        applicant = db.session.scalar(select(Applicant).where(Applicant.nik == data["nik"]))
        assert (applicant.account_id, applicant.email, applicant.full_name, applicant.phone) == (
            user.id, data["email"], "Siti Rahayu Putri 1", "+6281234567890")
    # SOP step 2's output: the user name confirmed by mail.
    send_pending(mail_app)
    confirmation = smtp_server.messages[-1]
    assert "aktif" in confirmation["Subject"] and data["email"] in confirmation.get_body(("plain",)).get_content()

    again = client.get(path)
    assert again.status_code == 200 and "/pemohon/masuk" in page_text(again)
    assert _account(app, data["email"]).id == user.id

    signed_in = _sign_in(client, data["email"].upper())
    assert signed_in.status_code == 302 and urlsplit(signed_in.location).path == "/pemohon/"
    assert client.get("/pemohon/").status_code == 200
    assert _account(app, data["email"]).last_login is not None


def test_an_expired_activation_link_activates_nothing_and_offers_a_new_one(app, mail_app, smtp_server, monkeypatch):
    client = app.test_client()
    data = _form(2)
    _register(client, data)
    send_pending(mail_app)
    path = _link_in_mail(smtp_server.messages[0])
    monkeypatch.setitem(app.config, "PORTAL_ACTIVATION_MAX_AGE", -1)  # every link is older than that

    page = client.get(path)
    assert page.status_code == 410
    assert f"/pemohon/kirim-ulang?email=siti2@{DOMAIN}" in page.get_data(as_text=True)
    assert _account(app, data["email"]) is None and _registrations(app, data["email"]) == 1


def test_a_forged_or_damaged_activation_link_activates_nothing(app, mail_app, smtp_server):
    from itsdangerous import URLSafeTimedSerializer

    client = app.test_client()
    data = _form(3)
    _register(client, data)
    send_pending(mail_app)
    token = _link_in_mail(smtp_server.messages[0]).rsplit("/", 1)[1]
    with app.app_context():
        registration_hash = db.session.scalar(select(ApplicantRegistration.registration_hash)
                                              .where(ApplicantRegistration.email == data["email"]))
    other_secret = URLSafeTimedSerializer("not-the-secret", salt="loket-aktivasi").dumps(
        [registration_hash, data["email"], "0"])
    damaged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for forged in (damaged, other_secret, registration_hash, "x" * 500):
        page = client.get(f"/pemohon/aktivasi/{forged}")
        assert page.status_code == 404 and "/pemohon/kirim-ulang" in page.get_data(as_text=True)
    # FAB's own activation with the bare hash leads to the portal, which refuses it.
    fab = client.get(f"/register/activation/{registration_hash}", follow_redirects=True)
    assert fab.status_code == 404
    assert _account(app, data["email"]) is None and _registrations(app, data["email"]) == 1


# ---------------------------------------------------------------------------- registration rules


@pytest.mark.parametrize(("overrides", "field"), [
    ({"password": "password123", "confirm_password": "password123"}, "password"),
    ({"password": "rahayu-putri-2026!", "confirm_password": "rahayu-putri-2026!"}, "password"),  # the name
    ({"confirm_password": PASSWORD + "x"}, "confirm_password"),
    ({"nik": "1234"}, "nik"),
    ({"phone": "(0563) 21234"}, "phone"),  # a landline: no WhatsApp
    ({"email": "bukan-alamat"}, "email"),
    ({"full_name": "  "}, "full_name"),
])
def test_a_registration_with_a_bad_value_is_refused_with_the_form_kept(app, overrides, field):
    client = app.test_client()
    data = _form(4, **overrides)
    page = _register(client, data)
    body = page_text(page)
    assert page.status_code == 400 and f'id="error-{field}"' in body
    if field != "full_name":
        assert f'value="{data["full_name"]}"' in body
    assert PASSWORD not in body
    assert _registrations(app, data["email"]) == 0 and _outbox(app, data["email"]) == []


def test_the_password_policy_is_the_staff_one(app):
    client = app.test_client()
    data = _form(5, password="landak2026x", confirm_password="landak2026x")
    page = _register(client, data)
    assert page.status_code == 400 and "terlalu mudah ditebak" in page_text(page)


def _staff_account(app: Flask) -> str:
    """A Front Office account whose e-mail a person could type (the suite's own end in .invalid)."""
    email = f"petugas@{DOMAIN}"
    with app.app_context():
        sm = app.appbuilder.sm
        if sm.find_user(username=email) is None:
            sm.add_user(email, "Petugas", "Uji", email, sm.find_role("Front Office"), password="rahasia-uji")
    return email


def test_an_e_mail_with_an_account_or_a_pending_registration_is_refused(app, mail_app, smtp_server):
    client = app.test_client()
    staff = _register(client, _form(6, email=_staff_account(app).upper()))
    assert staff.status_code == 400 and "sudah punya akun" in page_text(staff)
    applicant = _activated(app, client, smtp_server, mail_app, 21)
    taken = _register(client, _form(22, email=applicant))
    assert taken.status_code == 400 and "sudah punya akun" in page_text(taken)

    data = _form(7)
    _register(client, data)
    again = _register(client, {**data, "nik": valid_nik(5100)})
    body = page_text(again)
    assert again.status_code == 400 and "menunggu aktivasi" in body
    assert f"/pemohon/kirim-ulang?email=siti7@{DOMAIN}" in again.get_data(as_text=True)
    assert _registrations(app, data["email"]) == 1 and len(_outbox(app, data["email"])) == 1


def test_a_nik_taken_or_on_record_with_another_e_mail_is_refused(app, mail_app, smtp_server):
    client = app.test_client()
    first = _form(8)
    _activated(app, client, smtp_server, mail_app, 8)
    taken = _register(app.test_client(), _form(9, nik=first["nik"]))
    assert taken.status_code == 400 and NIK_TAKEN in page_text(taken)

    with app.app_context():
        counter = make_applicant(email="lain@contoh.co.id")
        nik = counter.nik
    on_record = _register(app.test_client(), _form(10, nik=nik))
    assert on_record.status_code == 400 and SEE_FRONT_OFFICE in page_text(on_record)
    assert _registrations(app, f"siti9@{DOMAIN}") == 0 and _registrations(app, f"siti10@{DOMAIN}") == 0


def test_a_counter_record_with_the_same_nik_and_e_mail_is_linked_not_copied(app, mail_app, smtp_server):
    with app.app_context():
        counter = make_applicant(email=f"SITI11@{DOMAIN}", phone="0813-1111-2222")
        nik, counter_id = counter.nik, counter.id
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 11, nik=nik)
    user = _account(app, email)
    with app.app_context():
        (applicant,) = db.session.scalars(select(Applicant).where(Applicant.nik == nik))
        assert (applicant.id, applicant.account_id, applicant.phone) == (counter_id, user.id, "0813-1111-2222")


def test_signing_in_links_the_record_the_front_office_corrected(app, mail_app, smtp_server):
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 12)
    user = _account(app, email)
    with app.app_context():
        # The account's record gone astray (say, merged by the office); the Front Office's record
        # of the person now carries the verified e-mail.
        db.session.execute(text("UPDATE applicant SET account_id = NULL, email = 'lama@contoh.co.id' "
                                "WHERE account_id = :id"), {"id": user.id})
        corrected = make_applicant(email=email)
        db.session.commit()
        corrected_id = corrected.id
    assert _sign_in(client, email).status_code == 302
    with app.app_context():
        assert db.session.get(Applicant, corrected_id).account_id == user.id


# ---------------------------------------------------------------------------- resend, reset, limit


def test_the_link_is_sent_again_with_the_same_answer_for_any_address(app, mail_app, smtp_server):
    client = app.test_client()
    data = _form(13)
    _register(client, data)
    known = post_form(client, "/pemohon/kirim-ulang", {"email": data["email"].upper()})
    unknown = post_form(client, "/pemohon/kirim-ulang", {"email": f"tidak-ada@{DOMAIN}"})
    assert known.status_code == unknown.status_code == 200
    assert page_text(known) == page_text(unknown)
    assert len(_outbox(app, data["email"])) == 2 and _outbox(app, f"tidak-ada@{DOMAIN}") == []
    send_pending(mail_app)
    first, second = (_link_in_mail(mail) for mail in smtp_server.messages)
    assert first != second
    assert client.get(second).status_code == 200 and _account(app, data["email"]) is not None
    not_active = _sign_in(app.test_client(), f"siti14@{DOMAIN}")
    assert not_active.status_code == 400


def test_a_pending_account_signing_in_is_told_to_activate_it(app):
    client = app.test_client()
    data = _form(15)
    _register(client, data)
    page = _sign_in(client, data["email"])
    assert page.status_code == 400 and 'id="login-resend"' in page.get_data(as_text=True)


def test_a_forgotten_password_is_reset_by_the_mailed_link_once(app, mail_app, smtp_server):
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 16)
    smtp_server.clear()
    known = post_form(client, "/pemohon/lupa-sandi", {"email": email})
    unknown = post_form(client, "/pemohon/lupa-sandi", {"email": f"tidak-ada@{DOMAIN}"})
    staff = post_form(client, "/pemohon/lupa-sandi", {"email": _staff_account(app)})
    assert page_text(known) == page_text(unknown) == page_text(staff)
    send_pending(mail_app)
    (mail,) = [mail for mail in smtp_server.messages if "sandi" in mail["Subject"].lower()]
    assert mail["To"] == email
    path = _link_in_mail(mail)
    assert path.startswith("/pemohon/sandi-baru/")

    assert client.get(path).status_code == 200
    weak = post_form(client, path, {"password": "rahasia123", "confirm_password": "rahasia123"})
    assert weak.status_code == 400
    new_password = "layang-layang biru di atas Ngabang"
    done = post_form(client, path, {"password": new_password, "confirm_password": new_password})
    assert done.status_code == 302
    assert client.get(path).status_code == 404  # used: the password it was made for is gone

    assert _sign_in(app.test_client(), email, PASSWORD).status_code == 400
    assert _sign_in(app.test_client(), email, new_password).status_code == 302


def test_at_most_three_link_mails_per_address_per_hour(app, mail_app, smtp_server):
    client = app.test_client()
    data = _form(17)
    _register(client, data)
    for _ in range(MAIL_LIMIT - 1):
        assert post_form(client, "/pemohon/kirim-ulang", {"email": data["email"]}).status_code == 200
    over = post_form(client, "/pemohon/kirim-ulang", {"email": data["email"]})
    assert over.status_code == 400 and "satu jam" in page_text(over)
    assert len(_outbox(app, data["email"])) == MAIL_LIMIT
    # An hour later the address may have mail again (the limit counts the outbox's rows).
    with app.app_context():
        db.session.execute(text("UPDATE outbox_message SET created_at = :then"),
                           {"then": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1, minutes=1)})
        db.session.commit()
    assert post_form(client, "/pemohon/kirim-ulang", {"email": data["email"]}).status_code == 200
    assert len(_outbox(app, data["email"])) == MAIL_LIMIT + 1


def test_the_reset_mails_count_toward_the_limit(app, mail_app, smtp_server):
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 18)  # 1 link mail (and the confirmation)
    for _ in range(MAIL_LIMIT - 1):
        assert post_form(client, "/pemohon/lupa-sandi", {"email": email}).status_code == 200
    assert post_form(client, "/pemohon/lupa-sandi", {"email": email}).status_code == 400


# ---------------------------------------------------------------------------- sign-in and FAB's pages


def test_a_staff_account_cannot_sign_in_on_the_portal(app):
    client = app.test_client()
    page = _sign_in(client, "front_office", "rahasia-uji")
    assert page.status_code == 400 and 'id="login-staff"' in page.get_data(as_text=True)
    assert "/login/" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/pemohon/").status_code == 302


def test_signing_in_goes_on_to_a_same_site_path_only(app, mail_app, smtp_server):
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 19)
    kept = _sign_in(client, email, next_url="/pemohon/berkas/7")
    assert urlsplit(kept.location).path == "/pemohon/berkas/7"
    client.post("/pemohon/keluar", data={"csrf_token": csrf_token(client, "/pemohon/")})
    evil = _sign_in(client, email, next_url="//evil.example/x")
    assert urlsplit(evil.location).netloc in ("", "localhost") and urlsplit(evil.location).path == "/pemohon/"
    assert [safe_next(v) for v in ("https://evil.example/", "/\\evil", "/a\nb", "pemohon", "/pemohon/?a=1")] == [
        None, None, None, None, "/pemohon/?a=1"]


def test_signing_out_ends_the_session(app, mail_app, smtp_server):
    client = app.test_client()
    email = _activated(app, client, smtp_server, mail_app, 20)
    _sign_in(client, email)
    with client.session_transaction() as session:
        copied = dict(session)
    out = client.post("/pemohon/keluar", data={"csrf_token": csrf_token(client, "/pemohon/")})
    assert out.status_code == 302 and client.get("/pemohon/").status_code == 302
    replay = app.test_client()  # a cookie copied before signing out is over too
    with replay.session_transaction() as session:
        session.update(copied)
    assert replay.get("/pemohon/").status_code == 302


def test_fab_register_pages_lead_to_the_portal(app):
    client = app.test_client()
    page = client.get("/register/form")
    assert page.status_code == 302 and urlsplit(page.location).path == "/pemohon/daftar"
    posted = client.post("/register/form", data={"csrf_token": csrf_token(client, "/pemohon/daftar"),
                                                 "username": "x", "email": f"x@{DOMAIN}"})
    assert posted.status_code == 303 and urlsplit(posted.location).path == "/pemohon/daftar"
    assert _registrations(app, f"x@{DOMAIN}") == 0


def test_names_split_as_fab_wants_them():
    assert split_name("Siti Rahayu") == ("Siti Rahayu", "Rahayu")
    assert split_name("Sukarno") == ("Sukarno", "-")

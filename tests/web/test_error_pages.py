"""Error pages (app/errors.py): each status in Indonesian inside the layout with the menu, the same
status code as before, JSON under /api/, and nothing of an exception shown."""
from __future__ import annotations

import pytest
from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from werkzeug.exceptions import BadRequest, Forbidden, TooManyRequests

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import csrf_token, role_username
from tests.web.helpers import indonesian, page_text

SECRET = "rahasia-dalam-pengecualian"  # in an exception's text: must never reach the answer
TOKEN_PAGE = "/resetmypassword/form"
PUBLIC_VIEW = "PublicView.status"  # replaced by a view that fails on demand (see failing_views)
API_VIEW = "DossierApi.get_list"


def _fail(kind: str):
    """A view body that fails the way `kind` says: what the error handlers must turn into a page."""
    if kind == "400":
        raise BadRequest()
    if kind == "403":
        raise Forbidden()
    if kind == "429":
        raise TooManyRequests()
    if kind == "own-message":
        abort(404, description=_l("Not found."))
    if kind == "english-message":
        abort(404, description="English words from a library")
    if kind == "sql":
        db.session.execute(text(f"SELECT {SECRET} FROM tabel_yang_tidak_ada"))
    raise RuntimeError(f"SELECT nik FROM applicant -- {SECRET}")


@pytest.fixture()
def failing_views(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """/status?gagal=KIND and /api/v1/dossier/?gagal=KIND fail as _fail(KIND) says; Flask turns an
    unhandled exception into a 500 (tests otherwise let it through to pytest)."""
    from flask import request

    monkeypatch.setitem(app.view_functions, PUBLIC_VIEW, lambda: _fail(request.args["gagal"]))
    monkeypatch.setitem(app.view_functions, API_VIEW, lambda: _fail(request.args["gagal"]))
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def _big_body(app: Flask) -> bytes:
    return b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1024)


# (status, how to get it, title msgid): one real way to each status where there is one.
CASES = {
    "400": (400, lambda c, app: c.get("/status?gagal=400"), "Request not understood"),
    "400-csrf": (400, lambda c, app: c.post("/login/", data={"username": "x"}), "The form has expired"),
    "403": (403, lambda c, app: c.get("/status?gagal=403"), "Access denied"),
    "404": (404, lambda c, app: c.get("/halaman-yang-tidak-ada"), "Page not found"),
    "405": (405, lambda c, app: c.get("/documentfiles/upload/1"), "Not allowed this way"),
    "413": (413, lambda c, app: c.post("/login/", data=_big_body(app), content_type="application/octet-stream"),
            "File too large"),
    "429": (429, lambda c, app: c.get("/status?gagal=429"), "Too many requests"),
    "500": (500, lambda c, app: c.get("/status?gagal=500"), "Server error"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_is_an_indonesian_page_with_the_menu_for_a_signed_in_user(app, login_as, failing_views, case):
    status, ask, title = CASES[case]
    response = ask(login_as("Front Office"), app)
    assert response.status_code == status
    page = page_text(response)
    assert 'id="error-page"' in page and indonesian(app, title) in page, page[:2000]
    # The normal layout: the navbar with this user's menu and name.
    assert 'class="navbar' in page and indonesian(app, "Dossiers") in page and "Front Office Uji" in page
    assert SECRET not in page and "Traceback" not in page


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_page_is_drawn_for_an_anonymous_visitor(app, login_as, failing_views, case):
    status, ask, title = CASES[case]
    response = ask(login_as(None), app)
    assert response.status_code == status
    page = page_text(response)
    assert 'id="error-page"' in page and indonesian(app, title) in page, page[:2000]
    assert 'class="navbar' in page and indonesian(app, "Login") in page


def test_the_403_of_a_page_the_role_may_not_open_stays_403_in_indonesian(app, login_as):
    response = login_as("Front Office").get("/users/list/")
    assert response.status_code == 403
    assert indonesian(app, "Your account may not open this page. Ask the administrator if your work needs it.") \
        in page_text(response)


def test_the_405_page_keeps_the_allow_header(login_as):
    response = login_as("Front Office").get("/documentfiles/upload/1")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_a_csrf_failure_says_the_form_expired_and_links_back_to_the_form(app, login_as):
    form = "http://localhost/companyview/add"
    response = login_as("Front Office").post("/companyview/add", data={"name": "PT Uji"}, headers={"Referer": form})
    assert response.status_code == 400
    page = page_text(response)
    assert indonesian(app, "This form has expired or was opened in an earlier session. "
                           "Reload the page, then fill in the form and send it again.") in page
    assert f'id="error-back" href="{form}"' in page and indonesian(app, "Reload the form") in page
    assert "CSRF token is missing" not in page  # Flask-WTF's English reason


def test_an_oversize_upload_from_a_page_still_goes_back_there_with_the_message(app, login_as):
    client = login_as("Front Office")
    origin = "http://localhost/dossierview/list/"
    response = client.post("/documentfiles/upload/1", data=_big_body(app), content_type="application/octet-stream",
                           headers={"Referer": origin})
    assert response.status_code == 302 and response.headers["Location"] == origin
    limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    assert indonesian(app, "The file is larger than the %(mb)s MB limit; nothing was saved.", mb=limit_mb) \
        in page_text(client.get(origin))


def test_an_oversize_request_with_no_page_to_go_back_to_is_the_413_page_naming_the_limit(app, login_as):
    response = login_as("Front Office").post("/documentfiles/upload/1", data=_big_body(app),
                                             content_type="application/octet-stream")
    assert response.status_code == 413
    limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    assert indonesian(app, "The file is larger than the %(mb)s MB limit; nothing was saved.", mb=limit_mb) \
        in page_text(response)


def test_a_500_after_a_failed_statement_still_draws_the_menu_and_shows_no_sql(app, login_as, failing_views):
    response = login_as("Front Office").get("/status?gagal=sql")
    assert response.status_code == 500
    page = page_text(response)
    assert indonesian(app, "Server error") in page and indonesian(app, "Dossiers") in page
    assert SECRET not in page and "tabel_yang_tidak_ada" not in page and "SELECT" not in page


def test_when_the_layout_cannot_be_drawn_the_error_is_still_answered_in_indonesian(app, login_as, monkeypatch):
    def broken_menu() -> list:
        raise RuntimeError(SECRET)  # e.g. the database is gone while the menu asks for permissions

    monkeypatch.setattr(app.appbuilder.menu, "get_list", broken_menu)
    response = login_as("Front Office").get("/halaman-yang-tidak-ada")
    assert response.status_code == 404
    page = page_text(response)
    assert indonesian(app, "Page not found") in page and 'class="navbar' not in page and SECRET not in page


def test_an_abort_with_our_own_message_shows_it_and_a_librarys_english_one_is_not_shown(app, login_as,
                                                                                       failing_views):
    client = login_as("Front Office")
    own = page_text(client.get("/status?gagal=own-message"))
    assert indonesian(app, "Not found.") in own and indonesian(app, "Page not found") in own
    english = page_text(client.get("/status?gagal=english-message"))
    assert "English words" not in english and indonesian(app, "Page not found") in english


# ----------------------------------------------------------------------------------------- API
def _json_error(response, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"message"}
    assert SECRET not in body["message"] and "Traceback" not in body["message"]
    return body["message"]


def test_api_errors_from_flask_are_json_in_indonesian(app, login_as, failing_views):
    client = login_as("Front Office")
    assert _json_error(client.get("/api/v1/tidak-ada"), 404) == indonesian(
        app, "The page or record asked for does not exist or has been removed. Check the address.")
    token = csrf_token(client, TOKEN_PAGE)
    assert _json_error(client.put("/api/v1/dossier/", headers={"X-CSRFToken": token}), 405) == indonesian(
        app, "This address cannot be used this way. Go back and use the buttons on the page.")
    assert _json_error(client.get("/api/v1/dossier/?gagal=429"), 429) == indonesian(
        app, "Too many requests in a short time. Wait a minute, then try again.")
    server_error = indonesian(app, "The server could not finish this request. Try again in a moment; if it happens "
                                   "again, tell the administrator what you were doing and when.")
    assert _json_error(client.get("/api/v1/dossier/?gagal=500"), 500) == server_error
    assert _json_error(client.get("/api/v1/dossier/?gagal=sql"), 500) == server_error


def test_api_csrf_failure_and_oversize_body_are_json_in_indonesian(app, login_as):
    client = login_as("Front Office")
    assert _json_error(client.delete("/api/v1/company/1"), 400) == indonesian(
        app, "The CSRF token is missing or has expired. Reload the page and send the request again.")
    limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    oversize = client.post("/api/v1/company/", data=_big_body(app), content_type="application/json",
                           headers={"Referer": "http://localhost/companyview/list/"})
    assert _json_error(oversize, 413) == indonesian(
        app, "The file is larger than the %(mb)s MB limit; nothing was saved.", mb=limit_mb)


# ------------------------------------------------------------------------------ the rate limit
@pytest.fixture(scope="module")
def limited_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app of its own with rate limits on, as in production: the public pages allow one
    request a minute, and a signed-in Front Office user."""
    from flask_migrate import upgrade

    from app.security.roles import FRONT_OFFICE
    from app.security.sync import sync_roles

    instance = tmp_path_factory.mktemp("limited")

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'limited.db'}"
        RATELIMIT_ENABLED = True
        PUBLIC_RATE_LIMIT = "1 per minute"

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOKET_INSTANCE_PATH", str(instance))
        limited = create_app(Limited)
    with limited.app_context():
        upgrade()
        sync_roles(limited.appbuilder)
        sm = limited.appbuilder.sm
        username = role_username(FRONT_OFFICE)
        sm.add_user(username, FRONT_OFFICE, "Uji", f"{username}@uji.invalid", sm.find_role(FRONT_OFFICE),
                    password="rahasia-uji-panjang")
        limited.config["LIMITED_USER_ID"] = sm.find_user(username=username).id
    yield limited
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_rate_limit_page_says_to_wait_inside_the_layout(limited_app):
    wait = indonesian(limited_app, "Too many requests in a short time. Wait a minute, then try again.")
    signed_in = limited_app.test_client()
    with signed_in.session_transaction() as session:
        session["_user_id"] = str(limited_app.config["LIMITED_USER_ID"])
        session["_fresh"] = True
    assert signed_in.get("/status?nomor=IPK-26-000000").status_code == 404
    limited = signed_in.get("/status?nomor=IPK-26-000000")
    assert limited.status_code == 429
    page = page_text(limited)
    assert wait in page and indonesian(limited_app, "Dossiers") in page and "Front Office Uji" in page
    # The limit is per address: an anonymous visitor from the same one is refused the same way.
    anonymous = limited_app.test_client().get("/status?nomor=IPK-26-000001")
    assert anonymous.status_code == 429 and wait in page_text(anonymous)

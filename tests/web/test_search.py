"""The top bar's search box (/cari/): every identifier an officer reads off a paper finds its
record, a piece of a name finds companies, applicants and their dossiers, a group shows only for
whoever may list its grid, and nothing typed breaks the page."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, insert

from app.extensions import db
from app.models import Company, Permit
from app.printing import permit_snapshot
from app.search import GROUP_LIMIT, MAX_LENGTH
from tests.factories import make_applicant, make_company, make_dossier
from tests.paper_samples import LETTERHEAD, PERMIT
from tests.web.helpers import indonesian, page_text

pytestmark = pytest.mark.usefixtures("clean_db")

BO = "Back Office"
# The signed-in user and its permissions (2); at most two dossier lookups by number, then
# companies, applicants and their dossiers (3).
MAX_STATEMENTS = 7
NO_COMPANY_ROLE = "Uji Tanpa Perusahaan"


@pytest.fixture()
def record(app) -> dict:  # noqa: ANN001
    """One dossier of a company and an applicant with distinctive names, and its issued permit."""
    with app.app_context():
        company = make_company(name="CV Tengkawang Sebangki Lestari", npwp="023456789012000")
        applicant = make_applicant(company, full_name="Herkulanus Tingang")
        dossier = make_dossier(company, applicant)
        db.session.add(Permit(
            dossier=dossier, permit_type=dossier.permit_type, series="UJI", year=2026, seq=8123,
            number="503/8123/IPK/DPMPTSPTK/2026", issued_at=dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC),
            issued_on=dt.date(2026, 11, 27), token="uji-token-search", snapshot=permit_snapshot(PERMIT, LETTERHEAD, "F4"),
        ))
        db.session.commit()
        return {"dossier": dossier.id, "receipt": dossier.receipt_number, "company": company.id, "nib": company.nib,
                "npwp": company.npwp, "applicant": applicant.id, "nik": applicant.nik,
                "permit": "503/8123/IPK/DPMPTSPTK/2026"}


def _search(client, q: str):  # noqa: ANN001, ANN202
    return client.get("/cari/", query_string={"q": q})


def _group_ids(html: str, kind: str, view: str) -> list[int]:
    """The ids a result group links to (empty when the group is not on the page)."""
    table = re.search(rf'<table[^>]*id="search-{kind}".*?</table>', html, re.DOTALL)
    return [int(i) for i in re.findall(rf"/{view}/show/(\d+)", table.group(0))] if table else []


@pytest.mark.parametrize("number", ["receipt", "permit"])
def test_an_exact_receipt_or_permit_number_opens_its_dossier(login_as, record, number):
    response = _search(login_as(BO), record[number])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossierview/show/{record['dossier']}")


def test_a_receipt_number_typed_in_part_and_small_letters_lists_its_dossier(login_as, record):
    html = page_text(_search(login_as(BO), record["receipt"][:9].lower()))
    assert record["dossier"] in _group_ids(html, "dossiers", "dossierview")


@pytest.mark.parametrize(("identifier", "kind", "view", "key"), [
    ("nik", "applicants", "applicantview", "applicant"),
    ("nib", "companies", "companyview", "company"),
    ("npwp", "companies", "companyview", "company"),
])
def test_a_nik_nib_or_npwp_finds_its_party_and_the_party_s_dossiers(login_as, record, identifier, kind, view, key):
    html = page_text(_search(login_as(BO), record[identifier]))
    assert _group_ids(html, kind, view) == [record[key]]
    assert _group_ids(html, "dossiers", "dossierview") == [record["dossier"]]


def test_an_npwp_typed_with_its_dots_and_dash_finds_the_company(login_as, record):
    npwp = record["npwp"]
    typed = f"{npwp[0:2]}.{npwp[2:5]}.{npwp[5:8]}.{npwp[8]}-{npwp[9:12]}.{npwp[12:15]}"
    html = page_text(_search(login_as(BO), typed))
    assert _group_ids(html, "companies", "companyview") == [record["company"]]


@pytest.mark.parametrize(("fragment", "kind", "view", "key"), [
    ("tengkawang", "companies", "companyview", "company"),
    ("Sebangki lestari", "companies", "companyview", "company"),
    ("kulanus TIN", "applicants", "applicantview", "applicant"),
])
def test_a_piece_of_a_name_finds_the_party_and_its_dossiers(login_as, record, fragment, kind, view, key):
    html = page_text(_search(login_as(BO), fragment))
    assert _group_ids(html, kind, view) == [record[key]]
    assert _group_ids(html, "dossiers", "dossierview") == [record["dossier"]]


def test_nothing_found_says_so_in_indonesian(app, login_as, record):
    response = _search(login_as(BO), "Qzxwv Tidak Ada")
    assert response.status_code == 200
    html = page_text(response)
    assert indonesian(app, 'Nothing found for "%(text)s".', text="Qzxwv Tidak Ada") in html
    assert not _group_ids(html, "dossiers", "dossierview")


@pytest.mark.parametrize(("q", "msgid", "kwargs"), [
    ("", "Type a receipt or permit number, a NIK, NIB or NPWP, or part of a name.", {}),
    ("   ", "Type a receipt or permit number, a NIK, NIB or NPWP, or part of a name.", {}),
    ("ab", "Type at least %(min)s letters or digits.", {"min": 3}),
    ("x" * (MAX_LENGTH + 1), "The search text is too long (at most %(max)s characters).", {"max": MAX_LENGTH}),
    ("a" * 10_000, "The search text is too long (at most %(max)s characters).", {"max": MAX_LENGTH}),
])
def test_empty_short_or_overlong_text_is_explained_without_searching(app, login_as, q, msgid, kwargs):
    response = _search(login_as(BO), q)
    assert response.status_code == 200
    assert indonesian(app, msgid, **kwargs) in page_text(response)


@pytest.mark.parametrize("q", ["100%_\\", "\x00abc", "' OR 1=1 --", "ÄÖÜ ß 名字", "9" * 40, "IPK-26-%", "99999999"])
def test_odd_text_answers_a_page_not_an_error(login_as, record, q):
    assert _search(login_as(BO), q).status_code == 200


def test_the_missing_route_argument_shows_the_hint(app, login_as):
    response = login_as(BO).get("/cari/")
    assert response.status_code == 200
    assert indonesian(app, "Type a receipt or permit number, a NIK, NIB or NPWP, or part of a name.") in page_text(response)


def test_anonymous_visitors_are_sent_to_the_login_form(login_as, record):
    response = _search(login_as(None), record["receipt"])
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture()
def no_company_client(app, login_as):  # noqa: ANN001
    """A signed-in officer whose role lists dossiers and applicants but not companies."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role(NO_COMPANY_ROLE)
        for permission, resource in (("can_list", "Dossier"), ("can_show", "Dossier"), ("can_list", "Applicant")):
            sm.add_permission_role(role, sm.find_permission_view_menu(permission, resource))
        user = sm.add_user("uji_tanpa_perusahaan", "Uji", "Tanpa", "tanpa@uji.invalid", role, password="rahasia-uji")
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({"_user_id": str(user_id), "_fresh": True, "locale": "id"})
    yield client
    with app.app_context():
        sm = app.appbuilder.sm
        db.session.delete(sm.get_user_by_id(user_id))
        db.session.delete(sm.find_role(NO_COMPANY_ROLE))
        db.session.commit()


def test_a_role_without_company_read_sees_no_company_group(app, login_as, record, no_company_client):
    html = page_text(_search(no_company_client, "Tengkawang"))
    assert 'id="search-companies"' not in html and "/companyview/show/" not in html
    # Its dossiers still show: the dossier grid lists them with their company's name.
    assert _group_ids(html, "dossiers", "dossierview") == [record["dossier"]]
    assert 'id="search-dossiers"' in page_text(_search(login_as(BO), "Tengkawang"))
    assert 'id="search-companies"' in page_text(_search(login_as(BO), "Tengkawang"))


def test_a_long_group_lists_the_first_twenty_and_links_the_filtered_grid(app, login_as, record):
    with app.app_context():
        db.session.execute(insert(Company), [
            {"name": f"PT Durian Runtuh {n:02d}", "legal_form": "PT", "nib": f"{7120000000000 + n:013d}"}
            for n in range(GROUP_LIMIT + 5)
        ])
        db.session.commit()
    client = login_as(BO)
    html = page_text(_search(client, "durian runtuh"))
    assert len(_group_ids(html, "companies", "companyview")) == GROUP_LIMIT
    assert indonesian(app, "Only the first %(count)s are listed.", count=GROUP_LIMIT) in html
    link = re.search(r'href="(/companyview/list/\?[^"]+)"', html).group(1)
    grid = page_text(client.get(link.replace("&amp;", "&")))
    assert len(set(re.findall(r"/companyview/show/(\d+)", grid))) == GROUP_LIMIT + 5


def test_a_search_runs_a_bounded_number_of_statements(app, login_as, record):
    client = login_as(BO)
    _search(client, "Tengkawang")  # the first request of a client warms nothing shared
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        seen.append(statement)

    # A name, a NIK, an exact receipt number, and a code that names nothing (then read as a name).
    for q in ("Tengkawang", record["nik"], record["receipt"], "Qzxwv-12"):
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = _search(client, q)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code in (200, 302)
        assert len(seen) <= MAX_STATEMENTS, f"{q}: {len(seen)} statements:\n" + "\n".join(
            " ".join(s.split())[:160] for s in seen)


def test_every_staff_page_has_the_search_box_and_the_login_page_has_none(login_as):
    for path in ("/", "/dossierview/list/", "/companyview/list/"):
        html = login_as(BO).get(path).get_data(as_text=True)
        assert 'role="search"' in html and 'action="/cari/"' in html, path
    assert 'role="search"' not in login_as(None).get("/login/").get_data(as_text=True)

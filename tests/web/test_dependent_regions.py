"""A company's desa/kelurahan lies in its kecamatan: the form lists only the chosen kecamatan's
desa, and the form, the REST API and the spreadsheet import refuse a desa of another kecamatan,
in Indonesian, saving nothing."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Company
from app.regions import desa_of, kecamatan_of, region_name
from tests.conftest import csrf_token, post_form, role_username
from tests.factories import make_company, valid_nib, valid_npwp
from tests.web.helpers import indonesian, page_text

pytestmark = pytest.mark.usefixtures("clean_db")

REGENCY = "61.08"
NGABANG, MEMPAWAH_HULU = "61.08.01", "61.08.02"
HILIR_KANTOR = "61.08.01.2001"  # in Ngabang
MEMPAWAH_HULU_DESA = desa_of(REGENCY, MEMPAWAH_HULU)[0][0]
MISMATCH = ("Desa/kelurahan %(desa)s is in Kecamatan %(actual)s, not in Kecamatan %(kecamatan)s: choose a "
            "desa/kelurahan of Kecamatan %(kecamatan)s, or change the kecamatan.")
PASSWORD = "rahasia-uji"  # the fixture users' (tests/conftest.py)


def _mismatch(app, desa: str, kecamatan: str) -> str:  # noqa: ANN001
    return indonesian(app, MISMATCH, desa=region_name(desa), actual=region_name(kecamatan_of(desa)),
                      kecamatan=region_name(kecamatan))


def _desa_options(page: str) -> tuple[list[str], list[str]]:
    """The desa select's option values, and those selected."""
    select_html = re.search(r'<select[^>]*id="desa_code"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, "no desa select on the page"
    options = re.findall(r"<option([^>]*)>", select_html.group(1))
    values = [re.search(r'value="([^"]*)"', o).group(1) for o in options]
    return values, [v for v, o in zip(values, options) if "selected" in o]


def _company_form(company: Company, **overrides: str) -> dict:
    form = {
        "name": company.name, "legal_form": company.legal_form, "nib": company.nib, "npwp": company.npwp or "",
        "address": company.address or "", "kecamatan_code": company.kecamatan_code or "",
        "desa_code": company.desa_code or "", "phone": "", "email": "",
    }
    form.update(overrides)
    return form


def _stored_region(app, company_id: int) -> tuple[str | None, str | None]:  # noqa: ANN001
    with app.app_context():
        company = db.session.get(Company, company_id)
        return company.kecamatan_code, company.desa_code


# --------------------------------------------------------------------------------------------- form


def test_edit_form_lists_only_the_desa_of_the_company_kecamatan(app, login_as):
    with app.app_context():
        company_id = make_company(kecamatan_code=NGABANG, desa_code=HILIR_KANTOR).id
    page = login_as("Front Office").get(f"/companyview/edit/{company_id}").get_data(as_text=True)
    values, selected = _desa_options(page)
    assert values == ["", *(code for code, _ in desa_of(REGENCY, NGABANG))]
    assert selected == [HILIR_KANTOR]
    assert 'data-kecamatan-select="kecamatan_code"' in page
    assert '<script src="/static/loket/regions.js"></script>' in page


def test_add_form_lists_no_desa_before_a_kecamatan_is_chosen(app, login_as):
    page = login_as("Front Office").get("/companyview/add").get_data(as_text=True)
    assert _desa_options(page)[0] == [""]
    # The kecamatan select still offers every kecamatan of the regency.
    assert f'value="{MEMPAWAH_HULU}"' in page


def test_form_refuses_a_desa_of_another_kecamatan_and_saves_nothing(app, login_as):
    with app.app_context():
        company = make_company(kecamatan_code=NGABANG, desa_code=HILIR_KANTOR)
        company_id, form = company.id, _company_form(company, kecamatan_code=MEMPAWAH_HULU, name="PT Pindah")
    client = login_as("Front Office")
    response = post_form(client, f"/companyview/edit/{company_id}", form)
    assert response.status_code == 200
    page = page_text(response)
    assert indonesian(app, "This desa/kelurahan is not in the chosen kecamatan.") in page
    assert _stored_region(app, company_id) == (NGABANG, HILIR_KANTOR)
    with app.app_context():
        assert db.session.get(Company, company_id).name != "PT Pindah"
    # The form comes back listing the kecamatan the officer chose, not the stored one.
    values, selected = _desa_options(response.get_data(as_text=True))
    assert values == ["", *(code for code, _ in desa_of(REGENCY, MEMPAWAH_HULU))] and selected == []


@pytest.mark.parametrize(
    ("kecamatan", "desa", "msgid", "kwargs"),
    [
        ("", HILIR_KANTOR, "A desa/kelurahan needs its kecamatan: choose the kecamatan first.", {}),
        (NGABANG, "61.08.01.9999", "Desa/kelurahan %(code)s is not in this regency.", {"code": "61.08.01.9999"}),
    ],
)
def test_form_refuses_a_desa_without_its_kecamatan_or_outside_the_regency(app, login_as, kecamatan, desa, msgid,
                                                                          kwargs):
    client = login_as("Front Office")
    response = post_form(client, "/companyview/add", {
        "name": "PT Tanpa Kecamatan", "legal_form": "PT", "nib": valid_nib(), "npwp": valid_npwp(),
        "kecamatan_code": kecamatan, "desa_code": desa,
    })
    assert response.status_code == 200
    assert indonesian(app, msgid, **kwargs) in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_form_moves_a_company_to_a_desa_of_its_new_kecamatan(app, login_as):
    with app.app_context():
        company = make_company(kecamatan_code=NGABANG, desa_code=HILIR_KANTOR)
        company_id = company.id
        form = _company_form(company, kecamatan_code=MEMPAWAH_HULU, desa_code=MEMPAWAH_HULU_DESA)
    response = post_form(login_as("Front Office"), f"/companyview/edit/{company_id}", form)
    assert response.status_code == 302, page_text(response)[-2000:]
    assert _stored_region(app, company_id) == (MEMPAWAH_HULU, MEMPAWAH_HULU_DESA)


# ------------------------------------------------------------------------------------------ options


def test_desa_options_of_a_kecamatan_are_its_desa_only(app, login_as):
    client = login_as("Front Office")
    answer = client.get(f"/regions/desa?kecamatan={MEMPAWAH_HULU}")
    assert answer.status_code == 200
    assert answer.get_json()["results"] == [{"id": c, "text": n} for c, n in desa_of(REGENCY, MEMPAWAH_HULU)]
    assert all(row["id"].startswith(MEMPAWAH_HULU + ".") for row in answer.get_json()["results"])
    # A code that is no kecamatan of the regency (another regency's, a desa's, nonsense) has none.
    for other in ("61.01.01", HILIR_KANTOR, "", "x' OR 1=1"):
        assert client.get("/regions/desa", query_string={"kecamatan": other}).get_json() == {"results": []}


def test_desa_options_need_a_login(app, login_as):
    answer = login_as(None).get(f"/regions/desa?kecamatan={NGABANG}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


# ---------------------------------------------------------------------------------------------- API


def _bearer(client, role: str) -> dict[str, str]:  # noqa: ANN001
    answer = client.post("/api/v1/security/login", json={
        "username": role_username(role), "password": PASSWORD, "provider": "db", "refresh": False})
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def test_api_refuses_a_new_company_whose_desa_is_in_another_kecamatan(app):
    client = app.test_client()
    headers = _bearer(client, "Front Office")
    nib = valid_nib()
    answer = client.post("/api/v1/company/", headers=headers, json={
        "name": "PT Salah Desa", "legal_form": "PT", "nib": nib,
        "kecamatan_code": MEMPAWAH_HULU, "desa_code": HILIR_KANTOR})
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["message"] == _mismatch(app, HILIR_KANTOR, MEMPAWAH_HULU)
    with app.app_context():
        assert db.session.scalar(select(Company.id).where(Company.nib == nib)) is None


def test_api_refuses_changing_the_kecamatan_away_from_the_desa(app):
    with app.app_context():
        company_id = make_company(kecamatan_code=NGABANG, desa_code=HILIR_KANTOR).id
    client = app.test_client()
    headers = _bearer(client, "Front Office")
    url = f"/api/v1/company/{company_id}"
    moved = client.put(url, headers=headers, json={"kecamatan_code": MEMPAWAH_HULU, "name": "PT Pindah Sebagian"})
    assert moved.status_code == 422, moved.get_json()
    assert moved.get_json()["message"] == _mismatch(app, HILIR_KANTOR, MEMPAWAH_HULU)
    unknown = client.put(url, headers=headers, json={"kecamatan_code": "61.01.01"})
    assert unknown.status_code == 422
    assert unknown.get_json()["message"] == indonesian(app, "Kecamatan %(code)s is not in this regency.",
                                                       code="61.01.01")
    with app.app_context():
        company = db.session.get(Company, company_id)
        assert (company.kecamatan_code, company.desa_code, company.name) == (NGABANG, HILIR_KANTOR, company.name)
        assert company.name != "PT Pindah Sebagian"
    # Both codes together move it.
    both = client.put(url, headers=headers, json={"kecamatan_code": MEMPAWAH_HULU, "desa_code": MEMPAWAH_HULU_DESA})
    assert both.status_code == 200, both.get_json()
    assert _stored_region(app, company_id) == (MEMPAWAH_HULU, MEMPAWAH_HULU_DESA)


# ------------------------------------------------------------------------------------------- import


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _preview(client, content: bytes) -> str:  # noqa: ANN001
    return page_text(client.post("/imports/preview", data={
        "csrf_token": csrf_token(client, "/resetmypassword/form"), "entity": "company",
        "file": (io.BytesIO(content), "perusahaan.xlsx"),
    }, content_type="multipart/form-data", follow_redirects=True))


def test_import_refuses_a_row_whose_desa_is_in_another_kecamatan(app, login_as):
    client = login_as("Front Office")
    good_nib, bad_nib = valid_nib(), valid_nib()
    page = _preview(client, _xlsx([
        ["Nama perusahaan", "Bentuk badan usaha", "NIB", "Kecamatan", "Desa/Kelurahan"],
        ["PT Desa Benar", "PT", good_nib, "Ngabang", "hilir kantor"],
        ["PT Desa Salah", "PT", bad_nib, region_name(MEMPAWAH_HULU), HILIR_KANTOR],
    ]))
    assert "1 dibuat, 0 diperbarui, 0 tidak berubah, 1 kesalahan." in page, page[-3000:]
    assert _mismatch(app, HILIR_KANTOR, MEMPAWAH_HULU) in page
    assert "/imports/apply/" not in page, "no apply while a row is refused"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_import_refuses_moving_a_company_to_another_kecamatan_without_its_desa(app, login_as):
    with app.app_context():
        company = make_company(kecamatan_code=NGABANG, desa_code=HILIR_KANTOR)
        company_id, name, nib = company.id, company.name, company.nib
    client = login_as("Front Office")
    page = _preview(client, _xlsx([["Nama perusahaan", "NIB", "Kecamatan"], [name, nib, region_name(MEMPAWAH_HULU)]]))
    assert "0 dibuat, 0 diperbarui, 0 tidak berubah, 1 kesalahan." in page, page[-3000:]
    assert _mismatch(app, HILIR_KANTOR, MEMPAWAH_HULU) in page
    # A desa column without the kecamatan column is refused too: the pair is imported together.
    page = _preview(client, _xlsx([["Nama perusahaan", "NIB", "Desa/Kelurahan"], [name, nib, MEMPAWAH_HULU_DESA]]))
    assert "1 kesalahan." in page and "Kolom Desa/Kelurahan hanya diimpor bersama kolom Kecamatan" in page
    # With the new desa beside it, the move is previewed and applied.
    page = _preview(client, _xlsx([["Nama perusahaan", "NIB", "Kecamatan", "Desa/Kelurahan"],
                                   [name, nib, region_name(MEMPAWAH_HULU), MEMPAWAH_HULU_DESA]]))
    assert "0 dibuat, 1 diperbarui, 0 tidak berubah, 0 kesalahan." in page, page[-3000:]
    batch = re.search(r"/imports/apply/(\d+)", page).group(1)
    client.post(f"/imports/apply/{batch}", data={"csrf_token": csrf_token(client, "/resetmypassword/form")})
    assert _stored_region(app, company_id) == (MEMPAWAH_HULU, MEMPAWAH_HULU_DESA)

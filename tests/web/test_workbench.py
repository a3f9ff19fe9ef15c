"""The dossier page is the workbench: a new dossier lands there with its receipt; its parties and
what the stage still needs are one click away; each requirement has its own upload slot."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Dossier, PermitType
from tests.conftest import csrf_token, post_form
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import indonesian, page_text

pytestmark = pytest.mark.usefixtures("clean_db")


def test_a_new_dossier_opens_on_its_page_with_its_receipt_number_and_the_receipt_to_print(app, login_as):
    with app.app_context():
        company = make_company()
        applicant = make_applicant(company)
        form = dict(permit_type=db.session.scalar(select(PermitType.id)), company_nib=company.nib,
                    applicant_nik=applicant.nik)
        company_id = company.id
    client = login_as("Front Office")
    response = post_form(client, "/dossierview/add", form)
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.company_id == company_id))
        receipt, dossier_id = dossier.receipt_number, dossier.id
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossierview/show/{dossier_id}?baru=1")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert indonesian(app, "Dossier saved. Receipt number: %(number)s", number=receipt) in page_text(page)
    link = re.search(r'id="print-receipt" href="([^"]+)"', html).group(1)
    receipt_pdf = client.get(link)
    assert receipt_pdf.status_code == 200 and receipt_pdf.mimetype == "application/pdf"


def test_the_page_links_the_parties_and_offers_edits_only_to_who_may_edit(app, login_as):
    with app.app_context():
        dossier = make_dossier()
        dossier_id, company_id, applicant_id = dossier.id, dossier.company_id, dossier.applicant_id
        company_name = dossier.company.name
    front = login_as("Front Office").get(f"/dossierview/show/{dossier_id}").get_data(as_text=True)
    assert f'href="/companyview/show/{company_id}">{company_name}</a>' in front
    back = f"kembali=/dossierview/show/{dossier_id}"
    for url in (f"/companyview/edit/{company_id}", f"/applicantview/edit/{applicant_id}",
                f"/dossierview/edit/{dossier_id}"):
        assert f"{url}?{back}" in front
    kasi = login_as("Kasi Perizinan").get(f"/dossierview/show/{dossier_id}").get_data(as_text=True)
    assert f"/companyview/show/{company_id}" in kasi
    assert "/companyview/edit/" not in kasi and "/dossierview/edit/" not in kasi


def test_a_field_the_stage_still_needs_links_to_the_form_that_fills_it(app, login_as):
    with app.app_context():
        dossier = make_dossier(make_company(deed_number=None, deed_date=None), stage_code="ENTRY_DATA")
        dossier_id, company_id = dossier.id, dossier.company_id
    page = login_as("Front Office").get(f"/dossierview/show/{dossier_id}")
    html = page.get_data(as_text=True)
    missing = html.split('id="dossier-missing-fields"', 1)[1].split("</ul>", 1)[0]
    assert "Nomor akta pendirian" in missing and "Tanggal akta pendirian" in missing
    assert f'href="/companyview/edit/{company_id}?kembali=' in missing


def test_each_requirement_has_its_own_upload_slot(app, login_as):
    with app.app_context():
        dossier = make_dossier()
        requirement_ids = {r.id for r in db.session.scalar(select(PermitType)).requirements}
        dossier_id = dossier.id
    html = login_as("Front Office").get(f"/dossierview/show/{dossier_id}").get_data(as_text=True)
    slots = {int(i) for i in re.findall(r'name="file_(\d+)" form="upload-papers"', html)}
    assert slots == requirement_ids
    assert 'form="upload-papers"' not in login_as("Kasi Perizinan").get(
        f"/dossierview/show/{dossier_id}").get_data(as_text=True)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _papers(app, dossier_id: int) -> list[tuple[str, bool]]:
    with app.app_context():
        return sorted((d.requirement_type.code, d.verified_at is not None)
                      for d in db.session.scalars(select(Document).where(Document.dossier_id == dossier_id)))


def _slots(app, *codes: str) -> dict[str, tuple]:
    with app.app_context():
        ids = {r.code: r.id for r in db.session.scalar(select(PermitType)).requirements}
    return {f"file_{ids[code]}": (io.BytesIO(PDF + code.encode()), f"{code.lower()}.pdf") for code in codes}


def test_the_papers_chosen_into_their_slots_go_up_at_once_and_are_verified_when_asked(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Front Office")
    token = csrf_token(client, "/resetmypassword/form")
    response = client.post(f"/documentfiles/upload/{dossier_id}", data={
        "csrf_token": token, "verify": "1", **_slots(app, "SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "NIB")})
    assert response.status_code == 302
    assert _papers(app, dossier_id) == [("NIB", True), ("PROFIL_PERUSAHAAN", True), ("SURAT_PERMOHONAN", True)]
    response = client.post(f"/documentfiles/upload/{dossier_id}", data={
        "csrf_token": token, "verify": "0", **_slots(app, "NPWP")})
    assert ("NPWP", False) in _papers(app, dossier_id)


def test_one_refused_paper_keeps_the_whole_lot_out(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Front Office")
    token = csrf_token(client, "/resetmypassword/form")
    slots = _slots(app, "SURAT_PERMOHONAN", "NIB")
    slots["file_" + slots.popitem()[0].removeprefix("file_")] = (io.BytesIO(b"MZ not a paper"), "nib.exe")
    page = page_text(client.post(f"/documentfiles/upload/{dossier_id}", data={"csrf_token": token, "verify": "1",
                                                                              **slots}, follow_redirects=True))
    assert "Tidak ada dokumen yang diunggah: nib.exe" in page
    assert _papers(app, dossier_id) == []


def test_verifying_at_upload_follows_the_stage_rule(app, login_as):
    """The Back Office does not verify at the Front Office's stage: nothing is kept."""
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Back Office")
    token = csrf_token(client, "/resetmypassword/form")
    page = page_text(client.post(f"/documentfiles/upload/{dossier_id}", data={
        "csrf_token": token, "verify": "1", **_slots(app, "NIB")}, follow_redirects=True))
    assert "bukan oleh peran Anda" in page
    assert _papers(app, dossier_id) == []


def test_an_edit_from_the_dossier_page_comes_back_to_it(app, login_as):
    with app.app_context():
        dossier = make_dossier()
        dossier_id, applicant_id, nik = dossier.id, dossier.applicant_id, dossier.applicant.nik
    client = login_as("Back Office")
    url = f"/applicantview/edit/{applicant_id}?kembali=/dossierview/show/{dossier_id}"
    response = post_form(client, url, {"full_name": "Nama Baru", "nik": nik, "company": "",
                                       "change_reason": "ejaan nama sesuai KTP"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dossierview/show/{dossier_id}"
    elsewhere = post_form(client, f"/applicantview/edit/{applicant_id}?kembali=//contoh.id/x",
                          {"full_name": "Nama Lagi", "nik": nik, "company": "", "change_reason": "ejaan"})
    assert "contoh.id" not in elsewhere.headers["Location"]

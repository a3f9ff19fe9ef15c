"""Uploading, downloading and verifying a dossier's documents through the dossier page."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, PermitType
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"


def pdf_bytes(text: str = "Surat permohonan") -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def _requirement_id(app, code: str) -> int:  # noqa: ANN001
    with app.app_context():
        return next(r.id for r in db.session.scalar(select(PermitType)).requirements if r.code == code)


def _upload(client, dossier_id: int, requirement_id: int, content: bytes, name: str, token: str):  # noqa: ANN001, ANN202
    return client.post(
        f"/documentfiles/upload/{dossier_id}",
        data={"csrf_token": token, "requirement_id": requirement_id, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _stored_files(app) -> list[Path]:  # noqa: ANN001
    root = Path(app.instance_path) / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _documents(app, dossier_id: int) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Document).where(Document.dossier_id == dossier_id))


def test_front_office_uploads_downloads_and_verifies_at_its_own_stage(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id  # at BERKAS, the Front Office's stage
    requirement = _requirement_id(app, "PROFIL_PERUSAHAAN")
    client = login_as("Front Office")
    token = csrf_token(client, TOKEN_PAGE)
    content = pdf_bytes("Profil PT Uji")

    page = page_text(_upload(client, dossier_id, requirement, content, "profil perusahaan.pdf", token))
    assert "Dokumen diunggah: profil perusahaan.pdf." in page
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.dossier_id == dossier_id))
        assert (document.media_type, document.size_bytes, document.verified_at) == ("application/pdf", len(content), None)
        assert document.uploaded_by.username == "front_office"
        document_id, key = document.id, document.storage_key
    assert [p.name for p in _stored_files(app) if p.name == key] == [key], "stored under its content hash"

    download = client.get(f"/documentfiles/download/{document_id}")
    assert download.status_code == 200 and download.data == content
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"

    back_office = login_as("Back Office")
    refused = page_text(back_office.post(
        f"/documentfiles/verify/{document_id}", data={"csrf_token": csrf_token(back_office, TOKEN_PAGE)},
        follow_redirects=True))
    assert "Dokumen diverifikasi oleh petugas tahap Berkas (Front Office), bukan oleh peran Anda." in refused

    verified = page_text(client.post(f"/documentfiles/verify/{document_id}", data={"csrf_token": token},
                                     follow_redirects=True))
    assert "Dokumen diverifikasi: profil perusahaan.pdf." in verified
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.verified_at is not None and document.verified_by.username == "front_office"


def test_the_same_file_twice_on_one_dossier_is_a_duplicate(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    client = login_as("Front Office")
    token = csrf_token(client, TOKEN_PAGE)
    content = png_bytes()
    _upload(client, dossier_id, _requirement_id(app, "KTP_PENANGGUNG_JAWAB"), content, "ktp.png", token)
    again = page_text(_upload(client, dossier_id, _requirement_id(app, "NPWP"), content, "npwp.png", token))
    assert "Berkas yang sama sudah diunggah pada berkas ini sebagai 'ktp.png'" in again
    assert _documents(app, dossier_id) == 1


HOSTILE = [
    ("html renamed .pdf", b"<html><script>alert(1)</script></html>", "surat.pdf", "Jenis berkas tidak diizinkan"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "denah.svg",
     "Jenis berkas tidak diizinkan"),
    ("empty", b"", "kosong.pdf", "Berkas kosong (0 byte)."),
    ("path traversal", pdf_bytes(), "../../etc/passwd.pdf", "Nama berkas tidak boleh memuat garis miring atau '..'."),
    ("right-to-left name", pdf_bytes(), "surat\u202efdp.exe", "pembalik arah teks"),
]


@pytest.mark.parametrize(("content", "name", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_a_hostile_upload_is_refused_with_a_message_and_nothing_is_stored(app, login_as, content, name, message):
    with app.app_context():
        dossier_id = make_dossier().id
    before = _stored_files(app)
    client = login_as("Front Office")
    page = page_text(_upload(client, dossier_id, _requirement_id(app, "SURAT_PERMOHONAN"), content, name,
                             csrf_token(client, TOKEN_PAGE)))
    assert message in page
    assert _documents(app, dossier_id) == 0
    assert _stored_files(app) == before


def test_oversize_uploads_are_refused_before_and_after_the_request_limit(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    before = _stored_files(app)
    client = login_as("Front Office")
    token = csrf_token(client, TOKEN_PAGE)
    limit = app.config["DOCUMENT_MAX_BYTES"]
    requirement = _requirement_id(app, "SURAT_PERMOHONAN")
    # Just over the document limit: read, counted, refused by the upload check.
    just_over = pdf_bytes() + b"%" * (limit + 1)
    page = page_text(_upload(client, dossier_id, requirement, just_over, "besar.pdf", token))
    assert "Ukuran berkas melebihi batas 10 MB." in page
    # Far over: refused by the request limit before anything is read (413), with the same kind of message.
    far_over = b"%PDF-1.4\n" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024)
    page = page_text(_upload(client, dossier_id, requirement, far_over, "sangat-besar.pdf", token))
    request_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    assert f"Berkas lebih besar dari batas {request_mb} MB; tidak ada yang disimpan." in page
    assert _documents(app, dossier_id) == 0
    assert _stored_files(app) == before


def test_download_of_an_unknown_document_is_404_and_anonymous_is_sent_to_login(app, login_as):
    assert login_as("Supervisor").get("/documentfiles/download/999999").status_code == 404
    anonymous = login_as(None).get("/documentfiles/download/1")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_dossier_page_lists_requirements_with_upload_form_for_front_office_only(app, login_as):
    with app.app_context():
        dossier_id = make_dossier(verified=("PROFIL_PERUSAHAAN",)).id
    front = page_text(login_as("Front Office").get(f"/dossierview/show/{dossier_id}"))
    assert 'id="dossier-documents"' in front and "Unggah" in front
    assert "Profil perusahaan" in front and "Terverifikasi" in front
    supervisor = page_text(login_as("Supervisor").get(f"/dossierview/show/{dossier_id}"))
    assert 'id="dossier-documents"' in supervisor
    assert f'action="/documentfiles/upload/{dossier_id}"' not in supervisor

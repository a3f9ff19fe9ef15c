"""Signing permits electronically (TTE) through the app, with a throw-away PKI built at run time:
the administrator uploads the Kepala Dinas's PKCS#12, the Kepala Dinas signs in the move that
numbers the permit, and pyHanko's own validator checks the served file against the test CA."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import delete, func, select

from app import create_app
from app.extensions import db
from app.jobs.runner import reports_dir, run_job
from app.models import (
    AuditEntry,
    Dossier,
    NumberCounter,
    Permit,
    PermitSignature,
    PrintLog,
    ReportJob,
    SigningCertificate,
    StageEvent,
)
from app.signing import SIGN_INLINE_MAX
from app.tte import seal, sealing_key, unseal
from config import TestConfig
from tests.conftest import csrf_token, role_username, signed_in_client
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytest_plugins = ("tests.pki",)
pytestmark = pytest.mark.usefixtures("clean_db", "no_certificates")
TOKEN_PAGE = "/resetmypassword/form"
ALL_VERIFIED = (
    "SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "AKTA_PENDIRIAN", "NIB", "NPWP", "KTP_PENANGGUNG_JAWAB",
    "BUKTI_PENGUASAAN_LAHAN", "DENAH_LOKASI", "DAFTAR_KENDARAAN", "BAP_PEMERIKSAAN_LAPANGAN",
)
STAMP = "Ditandatangani secara elektronik"
SIGNER = "Yohanes Ateng"  # in the subject (RFC 4514 escapes the comma of pki.SIGNER_NAME)


@pytest.fixture(scope="module")
def tte_app(app: Flask, pki) -> Iterator[Flask]:  # noqa: ANN001
    """A second app over the session's database that trusts the test CA and its CRL."""

    class TteConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        TTE_TRUST_ROOTS = pki.config["TTE_TRUST_ROOTS"]
        TTE_CRLS = pki.config["TTE_CRLS"]
        DOCUMENTS_DIR = str(Path(app.instance_path) / "documents")

    tte = create_app(TteConfig)
    yield tte
    with tte.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def no_certificates(app: Flask) -> Iterator[None]:
    """No account holds a certificate after the test (the Kepala Dinas's is shared by every module)."""
    yield
    with app.app_context():
        db.session.rollback()
        db.session.execute(delete(SigningCertificate))
        db.session.commit()


def _said(app: Flask, msgid: str, **kwargs) -> str:  # noqa: ANN003
    """The words a page says for this msgid in Indonesian (from /work/notes/tr_signing.json once merged)."""
    with app.test_request_context(), force_locale("id"):
        return gettext(msgid, **kwargs)


def _user_id(app: Flask, role: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=role_username(role)).id


def _client(app: Flask, role: str) -> FlaskClient:
    return signed_in_client(app, _user_id(app, role))


def _upload(app: Flask, p12: bytes, passphrase: str) -> str:
    """The administrator uploads the Kepala Dinas's certificate; the page it leads to, as text."""
    admin = _client(app, "Admin")
    url = f"/signingcertificates/{_user_id(app, 'Kepala Dinas')}"
    response = admin.post(f"{url}/upload", data={
        "file": (io.BytesIO(p12), "kadis.p12"), "passphrase": passphrase, "csrf_token": csrf_token(admin, TOKEN_PAGE),
    }, content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    return page_text(response)


def _held(app: Flask) -> SigningCertificate | None:
    with app.app_context():
        row = db.session.scalar(select(SigningCertificate))
        if row is not None:
            db.session.expunge(row)
        return row


def _store_directly(app: Flask, pki, name: str) -> None:  # noqa: ANN001
    """A certificate that was fine when uploaded and has since expired or been revoked."""
    certificate = pki.certificate(name)
    with app.app_context():
        db.session.add(SigningCertificate(
            user_id=_user_id(app, "Kepala Dinas"), sealed_p12=seal(pki.p12(name), sealing_key(app.config)),
            subject=certificate.subject.rfc4514_string(), issuer=certificate.issuer.rfc4514_string(),
            serial=format(certificate.serial_number, "X"), not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            fingerprint=hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
            uploaded_at=dt.datetime.now(dt.UTC),
        ))
        db.session.commit()


def _at_signing(app: Flask, count: int = 1) -> list[int]:
    with app.app_context():
        return [make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED).id for _ in range(count)]


_HIDDEN = re.compile(r'<input type="hidden" name="(ids|after)" value="([^"]*)">')


def _confirm(client: FlaskClient, dossier_ids: list[int]) -> tuple[str, dict[str, str]]:
    """The confirmation page (text) and the hidden fields it sends back."""
    ids = ",".join(map(str, dossier_ids))
    page = page_text(client.get(f"/dossiermoves/confirm?action=advance&scope=ids&ids={ids}"))
    return page, dict(_HIDDEN.findall(page))


def _apply(client: FlaskClient, fields: dict[str, str], passphrase: str | None):  # noqa: ANN202
    data = {"action": "advance", "scope": "ids", **fields, "csrf_token": csrf_token(client, TOKEN_PAGE)}
    if passphrase is not None:
        data["passphrase"] = passphrase
    return client.post("/dossiermoves/apply", data=data, follow_redirects=True)


def _state(app: Flask, dossier_id: int) -> tuple:
    """Everything a refused move must leave as it was."""
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        return (
            dossier.stage.code, dossier.status, dossier.version,
            db.session.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.dossier_id == dossier_id)),
            db.session.scalar(select(func.count()).select_from(Permit)),
            db.session.scalar(select(func.coalesce(func.sum(NumberCounter.last_seq), 0))),
            db.session.scalar(select(func.count()).select_from(PermitSignature)),
        )


def _validate(data: bytes, pki):  # noqa: ANN001, ANN202
    """pyHanko's validator over the file, trusting only the test CA and its CRL."""
    context = ValidationContext(trust_roots=[load_cert_from_pemder(pki.config["TTE_TRUST_ROOTS"][0])],
                                crls=[pki.crl_der])
    (embedded,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return validate_pdf_signature(embedded, context)


def test_admin_uploads_the_certificate_sealed_and_a_wrong_passphrase_stores_nothing(tte_app, pki):
    admin = _client(tte_app, "Admin")
    listing = page_text(admin.get("/signingcertificates/"))
    assert "Kepala Dinas Uji" in listing
    assert "Pemohon Uji" not in listing, "applicants get no certificate"

    refused = _upload(tte_app, pki.p12("signer"), "bukan-kata-sandinya")
    assert "Kata sandi sertifikat TTE salah." in refused
    assert _held(tte_app) is None
    assert "tidak diterbitkan oleh otoritas yang dipercaya Loket" in _upload(tte_app, pki.p12("stranger"),
                                                                              pki.PASSPHRASE)
    assert _held(tte_app) is None, "a certificate from a CA Loket does not trust is refused"
    assert "kedaluwarsa" in _upload(tte_app, pki.p12("expired"), pki.PASSPHRASE)
    assert _held(tte_app) is None
    assert "bukan sertifikat TTE" in _upload(tte_app, b"%PDF-1.7 bukan p12", pki.PASSPHRASE)

    p12 = pki.p12("signer")
    page = _upload(tte_app, p12, pki.PASSPHRASE)
    row = _held(tte_app)
    assert row is not None and SIGNER in row.subject and "BSrE Uji Root CA" in row.issuer
    der = pki.certificate("signer").public_bytes(serialization.Encoding.DER)
    assert row.fingerprint == hashlib.sha256(der).hexdigest()
    assert p12 not in row.sealed_p12 and row.sealed_p12 != p12, "sealed at rest, never the file's bytes"
    assert unseal(row.sealed_p12, sealing_key(tte_app.config)) == p12
    assert pki.PASSPHRASE not in page
    grouped = ":".join(row.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert grouped in page and row.serial in page and SIGNER in page

    # Not replaced by one that is not valid yet; replaced by a new upload; then removed.
    assert "belum berlaku" in _upload(tte_app, pki.p12("not_yet_valid"), pki.PASSPHRASE)
    assert _held(tte_app).fingerprint == row.fingerprint
    _upload(tte_app, pki.p12("signer"), pki.PASSPHRASE)
    with tte_app.app_context():
        (replaced,) = db.session.scalars(select(SigningCertificate)).all()
        assert replaced.id == row.id and replaced.sealed_p12 != row.sealed_p12
    url = f"/signingcertificates/{_user_id(tte_app, 'Kepala Dinas')}"
    removed = page_text(admin.post(f"{url}/remove", data={"csrf_token": csrf_token(admin, TOKEN_PAGE)},
                                   follow_redirects=True))
    assert _said(tte_app, "The electronic signature certificate of %(name)s is removed; the permits it signed stay "
                 "signed.", name="Kepala Dinas Uji") in removed
    assert _held(tte_app) is None
    # The trail: uploaded, replaced, removed, by Admin; the sealed bytes never in it.
    with tte_app.app_context():
        trail = db.session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.changes)
            .where(AuditEntry.entity == "signing_certificate", AuditEntry.record_id == row.id)
            .order_by(AuditEntry.id)).all()
    assert [action for action, _, _ in trail] == ["create", "update", "delete"]
    assert {actor for _, actor, _ in trail} == {_user_id(tte_app, "Admin")}
    assert all(p12.hex() not in str(changes) and "sealed_p12" in changes for _, _, changes in trail[:2])


@pytest.mark.parametrize("role", ["Kepala Dinas", "Back Office", "Supervisor"])
def test_only_the_administrator_manages_certificates(tte_app, pki, role):
    client = _client(tte_app, role)
    for url in ("/signingcertificates/", f"/signingcertificates/{_user_id(tte_app, 'Kepala Dinas')}"):
        response = client.get(url)
        assert response.status_code != 200 or "certificate-upload" not in page_text(response)
    response = client.post(f"/signingcertificates/{_user_id(tte_app, role)}/upload", data={
        "file": (io.BytesIO(pki.p12("signer")), "kadis.p12"), "passphrase": pki.PASSPHRASE,
        "csrf_token": csrf_token(client, TOKEN_PAGE)}, content_type="multipart/form-data")
    assert response.status_code in (302, 403) and "/signingcertificates/" not in response.headers.get("Location", "")
    assert _held(tte_app) is None


def test_the_kepala_dinas_signs_the_permit_in_the_move_and_the_signed_file_is_the_permit(tte_app, pki):
    _upload(tte_app, pki.p12("signer"), pki.PASSPHRASE)
    (dossier_id,) = _at_signing(tte_app)
    kadis = _client(tte_app, "Kepala Dinas")
    page, fields = _confirm(kadis, [dossier_id])
    assert 'id="move-sign"' in page and 'name="passphrase"' in page and fields["after"] == "dossier"

    result = page_text(_apply(kadis, fields, pki.PASSPHRASE))
    with tte_app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        signature = db.session.scalar(select(PermitSignature).where(PermitSignature.permit_id == permit.id))
        assert db.session.get(Dossier, dossier_id).stage.code == "PENOMORAN_CETAK"
        number, stored_sha = permit.number, signature.sha256
        assert signature.level == "B-B" and signature.signed_by_id == _user_id(tte_app, "Kepala Dinas")
        assert SIGNER in signature.certificate_subject
        assert "BEGIN CERTIFICATE" in signature.chain_pem
    assert f"Izin nomor {number} terbit" in result
    assert _said(tte_app, "Permit no. %(number)s is signed electronically.", number=number) in result

    # Every download of the permit is the stored signed file, byte for byte.
    for role in ("Back Office", "Kepala Dinas"):
        served = _client(tte_app, role).get(f"/papers/{dossier_id}/permit.pdf")
        assert served.status_code == 200 and served.mimetype == "application/pdf"
        assert hashlib.sha256(served.data).hexdigest() == stored_sha
    with tte_app.app_context():
        assert {p.sha256 for p in db.session.scalars(select(PrintLog).where(PrintLog.dossier_id == dossier_id))} == {
            stored_sha}
    data = served.data
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert number in text and STAMP in text and "Kepala Dinas Uji" in text and "/verifikasi/" in text

    status = _validate(data, pki)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"

    # The archivist's batch print of the day's permits prints it as signed (its stamp), not a wet block.
    with tte_app.app_context():
        issued_on = db.session.scalar(select(Permit.issued_on).where(Permit.number == number)).isoformat()
        job = ReportJob(kind="batch_permits", parameters={"date_from": issued_on, "date_to": issued_on},
                        requested_by_id=_user_id(tte_app, "Arsiparis"), status="queued",
                        requested_at=dt.datetime.now(dt.UTC), progress_done=0, attempts=0)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        run_job(job_id, "uji:1")
        job = db.session.get(ReportJob, job_id)
        assert job.status == "done", job.error
        printed = PdfReader(io.BytesIO((reports_dir() / job.result_file).read_bytes()))
    batch_text = "\n".join(page.extract_text() for page in printed.pages)
    assert number in batch_text and STAMP in batch_text
    assert SIGNER in status.signing_cert.subject.human_friendly

    # One byte changed inside the signed range: the signature no longer holds.
    start = data.index(number.encode()) if number.encode() in data else len(data) // 3
    tampered = bytearray(data)
    tampered[start] ^= 0x01
    try:
        broken = _validate(bytes(tampered), pki)
    except Exception:  # noqa: BLE001  (a byte that breaks the PDF's structure is as good a refusal)
        broken = None
    assert broken is None or not (broken.intact and broken.valid)


def test_a_wrong_passphrase_refuses_the_move_and_changes_nothing(tte_app, pki):
    _upload(tte_app, pki.p12("signer"), pki.PASSPHRASE)
    (dossier_id,) = _at_signing(tte_app)
    before = _state(tte_app, dossier_id)
    kadis = _client(tte_app, "Kepala Dinas")
    _page, fields = _confirm(kadis, [dossier_id])
    for passphrase in ("salah-sama-sekali", "", None):
        answer = page_text(_apply(kadis, fields, passphrase))
        assert "Kata sandi sertifikat TTE salah." in answer or "Ketik kata sandi sertifikat TTE" in answer
        assert 'id="move-sign"' in answer, "back on the confirmation, to type it again"
        assert _state(tte_app, dossier_id) == before


@pytest.mark.parametrize(("name", "why"), [("expired", "sudah kedaluwarsa"), ("revoked", "sudah dicabut (revoked)"),
                                           ("not_yet_valid", "belum berlaku")])
def test_an_expired_revoked_or_not_yet_valid_certificate_is_refused_at_signing(tte_app, pki, name, why):
    _store_directly(tte_app, pki, name)
    (dossier_id,) = _at_signing(tte_app)
    before = _state(tte_app, dossier_id)
    kadis = _client(tte_app, "Kepala Dinas")
    _page, fields = _confirm(kadis, [dossier_id])
    answer = page_text(_apply(kadis, fields, pki.PASSPHRASE))
    assert why in answer
    assert _state(tte_app, dossier_id) == before


def test_without_a_certificate_the_move_is_as_today_and_the_permit_unsigned(tte_app):
    (dossier_id,) = _at_signing(tte_app)
    kadis = _client(tte_app, "Kepala Dinas")
    page, fields = _confirm(kadis, [dossier_id])
    assert 'name="passphrase"' not in page
    result = page_text(_apply(kadis, fields, None))
    with tte_app.app_context():
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        assert db.session.scalar(select(func.count()).select_from(PermitSignature)) == 0
    assert f"Izin nomor {permit.number} terbit" in result
    data = _client(tte_app, "Back Office").get(f"/papers/{dossier_id}/permit.pdf").data
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert STAMP not in text and f"NIP. {tte_app.config['SIGNATORY_NIP']}" in text
    assert not PdfFileReader(io.BytesIO(data)).embedded_signatures


def test_more_permits_than_a_request_signs_go_to_the_batch_signing(tte_app, pki):
    _upload(tte_app, pki.p12("signer"), pki.PASSPHRASE)
    ids = _at_signing(tte_app, SIGN_INLINE_MAX + 1)
    before = [_state(tte_app, pk) for pk in ids]
    kadis = _client(tte_app, "Kepala Dinas")
    page, fields = _confirm(kadis, ids)
    assert 'id="move-sign-batch"' in page and 'id="move-confirm"' not in page
    answer = page_text(_apply(kadis, {"ids": ",".join(map(str, ids))}, pki.PASSPHRASE))
    assert _said(tte_app, "This move would issue permits to sign electronically for more than %(max)s dossiers: "
                 "sign them with the batch signing, which signs in the background, or select at most %(max)s.",
                 max=SIGN_INLINE_MAX) in answer
    assert [_state(tte_app, pk) for pk in ids] == before


def test_a_handful_signed_in_one_move(tte_app, pki):
    _upload(tte_app, pki.p12("signer"), pki.PASSPHRASE)
    ids = _at_signing(tte_app, 2)
    kadis = _client(tte_app, "Kepala Dinas")
    _page, fields = _confirm(kadis, ids)
    result = page_text(_apply(kadis, fields, pki.PASSPHRASE))
    assert "2 dari 2 berkas dipindahkan" in result
    with tte_app.app_context():
        signed = db.session.scalars(select(PermitSignature)).all()
        assert len(signed) == 2 and len({s.sha256 for s in signed}) == 2

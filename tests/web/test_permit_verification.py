"""/verifikasi/<token> of an electronically signed permit: the signed file downloads, and anyone
uploads a PDF to learn whether it is the issued file, whether its signature holds, and whether
the permit still stands."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.jobs.batch_signing import sign_and_move
from app.models import Permit, PermitSignature
from app.permits import revoke
from app.printing import Office, printed_permit
from app.tte import TrustSettings, open_p12, sign_pdf
from reports.papers import render_permit
from tests.web.signing_setup import awaiting_signature, forget_certificates, give_certificate, trust_test_pki

pytest_plugins = ("tests.pki",)
pytestmark = pytest.mark.usefixtures("clean_db")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture()
def signed(app: Flask, pki, monkeypatch):  # noqa: ANN001, ANN201
    """A permit numbered and signed by the Kepala Dinas: (token, signed bytes, permit id)."""
    trust_test_pki(app, pki, monkeypatch)
    with app.app_context():
        user_id = give_certificate(app, pki)
        (dossier_id,) = awaiting_signature(1)
        trust = TrustSettings.from_config(app.config)
        outcome = sign_and_move(
            db.session, dossier_id, credentials=open_p12(pki.p12("signer"), pki.PASSPHRASE), trust=trust,
            user_id=user_id, roles={"Kepala Dinas"}, office=Office.from_config(app.config, "http://localhost/"),
            storage_dir=Path(app.instance_path) / "documents",
            clock=lambda: dt.datetime.now(dt.UTC),
        )
        assert outcome.moved and outcome.permit_number, outcome.reasons
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == dossier_id))
        token, permit_id = permit.token, permit.id
    client = app.test_client()
    download = client.get(f"/verifikasi/{token}/izin.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    yield token, download.data, permit_id
    with app.app_context():
        forget_certificates()


def _check(client, token: str, data: bytes | None, name: str = "izin.pdf"):  # noqa: ANN001, ANN202
    page = client.get(f"/verifikasi/{token}")
    form = {"csrf_token": _CSRF.search(page.get_data(as_text=True)).group(1)}
    if data is not None:
        form["berkas"] = (io.BytesIO(data), name)
    return client.post(f"/verifikasi/{token}/periksa", data=form, content_type="multipart/form-data")


def _result(response) -> tuple[dict[str, str], list[dict[str, str]]]:  # noqa: ANN001
    html = response.get_data(as_text=True)
    found = re.search(r'id="check-result"[^>]*data-identical="(\w+)" data-signatures="(\d+)" data-stands="(\w+)"', html)
    assert found, html
    signatures = [dict(zip(("intact", "trusted", "whole"), m)) for m in
                  re.findall(r'data-intact="(\w+)" data-trusted="(\w+)" data-whole="(\w+)"', html)]
    return {"identical": found[1], "signatures": found[2], "stands": found[3]}, signatures


def test_the_signed_file_downloads_and_checks_as_the_issued_one(app, signed):
    token, data, permit_id = signed
    with app.app_context():
        signature = db.session.scalar(select(PermitSignature).where(PermitSignature.permit_id == permit_id))
        signer, signed_at = signature.signer_name, signature.signed_at
    client = app.test_client()
    page = client.get(f"/verifikasi/{token}").get_data(as_text=True)
    assert f"/verifikasi/{token}/izin.pdf" in page and 'id="check-upload"' in page
    response = _check(client, token, data)
    assert response.status_code == 200
    verdict, signatures = _result(response)
    assert verdict == {"identical": "yes", "signatures": "1", "stands": "yes"}
    assert signatures == [{"intact": "yes", "trusted": "yes", "whole": "yes"}]
    html = response.get_data(as_text=True)
    assert signer in html
    assert signed_at.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%d-%m-%Y") in html


def test_one_changed_byte_in_the_signed_range_is_not_the_file_and_not_intact(app, signed):
    token, data, _ = signed
    at = data.index(b"Penetapan keputusan perizinan")  # the signature's /Reason: signed, outside /Contents
    tampered = data[:at] + b"Q" + data[at + 1:]
    verdict, signatures = _result(_check(app.test_client(), token, tampered))
    assert verdict["identical"] == "no"
    assert signatures and signatures[0]["intact"] == "no"


def test_a_pdf_signed_by_another_ca_is_intact_but_not_trusted(app, signed, pki):
    token, _, permit_id = signed
    with app.app_context():
        unsigned = render_permit(*printed_permit(db.session.get(Permit, permit_id).snapshot))
    # Signed where the other CA is trusted (its own office, say); Loket trusts only its roots.
    elsewhere = TrustSettings(roots_pem=(pki.issuers["stranger"].public_bytes(serialization.Encoding.PEM),))
    forged = sign_pdf(unsigned, open_p12(pki.p12("stranger"), pki.PASSPHRASE), elsewhere, signer_name="Pemalsu",
                      reason="Uji", location="Ngabang", now=dt.datetime.now(dt.UTC)).data
    verdict, signatures = _result(_check(app.test_client(), token, forged))
    assert verdict["identical"] == "no"
    assert signatures == [{"intact": "yes", "trusted": "no", "whole": "yes"}]


def test_an_unsigned_pdf_has_no_signature(app, signed):
    token, _, permit_id = signed
    with app.app_context():
        unsigned = render_permit(*printed_permit(db.session.get(Permit, permit_id).snapshot))
    verdict, signatures = _result(_check(app.test_client(), token, unsigned))
    assert verdict == {"identical": "no", "signatures": "0", "stands": "yes"} and signatures == []


def test_the_issued_file_of_a_revoked_permit_no_longer_stands(app, signed):
    token, data, permit_id = signed
    with app.app_context():
        revoke(db.session, permit_id, "Usaha tidak lagi beroperasi di lokasi ini.", None, dt.datetime.now(dt.UTC))
        db.session.commit()
    response = _check(app.test_client(), token, data)
    verdict, signatures = _result(response)
    assert verdict == {"identical": "yes", "signatures": "1", "stands": "no"}
    assert 'class="alert alert-danger" id="check-result"' in response.get_data(as_text=True)


@pytest.mark.parametrize("upload", [b"bukan pdf sama sekali", b"", None])
def test_a_bad_upload_is_answered_with_a_message_not_an_error(app, signed, upload):
    token, _, _ = signed
    response = _check(app.test_client(), token, upload, name="foto.jpg")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="check-error"' in html and 'id="check-result"' not in html


def test_a_file_past_the_limit_is_refused(app, signed, monkeypatch):
    token, data, _ = signed
    monkeypatch.setattr("app.views.papers.CHECK_MAX_BYTES", len(data) - 1)
    response = _check(app.test_client(), token, data)
    assert response.status_code == 400 and "terlalu besar" in response.get_data(as_text=True)


def test_a_permit_without_electronic_signature_offers_neither_file_nor_check(app, signed):
    token, _, permit_id = signed
    with app.app_context():
        db.session.query(PermitSignature).delete()
        db.session.commit()
    client = app.test_client()
    page = client.get(f"/verifikasi/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="verification-verdict"' in html and "izin.pdf" not in html and 'id="check-upload"' not in html
    assert client.get(f"/verifikasi/{token}/izin.pdf").status_code == 404

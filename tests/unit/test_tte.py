"""app.tte against a throw-away PKI (tests/pki.py): opening and sealing certificates, refusing the
ones that may not sign, signing a real permit as PAdES and checking signatures with pyHanko's
validator. No Flask, no database."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import TYPE_CHECKING

import pypdf
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from pypdf.annotations import FreeText

from app import tte
from reports.papers import render_permit
from tests.paper_samples import LETTERHEAD, PERMIT

if TYPE_CHECKING:
    from tests.pki import Pki, TimestampServer

pytest_plugins = ("tests.pki",)

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def trust(pki: Pki) -> tte.TrustSettings:
    return tte.TrustSettings.from_config(pki.config)


@pytest.fixture(scope="module")
def credentials(pki: Pki) -> tte.Credentials:
    return tte.open_p12(pki.p12("signer"), pki.PASSPHRASE)


@pytest.fixture(scope="module")
def permit_pdf() -> bytes:
    return render_permit(PERMIT, LETTERHEAD)


@pytest.fixture(scope="module")
def signed(permit_pdf: bytes, credentials: tte.Credentials, trust: tte.TrustSettings) -> tte.SignedPdf:
    return sign(permit_pdf, credentials, trust)


def sign(pdf: bytes, credentials: tte.Credentials, trust: tte.TrustSettings, now: dt.datetime = NOW) -> tte.SignedPdf:
    return tte.sign_pdf(pdf, credentials, trust, signer_name="Drs. Yohanes Ateng, M.Si.",
                        reason="Penerbitan izin 503/0123/DPMPTSPTK/2026", location="Ngabang", now=now)


# Certificates -----------------------------------------------------------------------------------

def test_pkcs12_opens_with_its_passphrase_and_describes_the_certificate(pki: Pki) -> None:
    credentials = tte.open_p12(pki.p12("signer"), pki.PASSPHRASE)
    info = credentials.description()
    certificate = pki.certificate("signer")
    assert info.common_name == pki.SIGNER_NAME
    assert info.subject == certificate.subject.rfc4514_string()
    assert info.issuer == "CN=BSrE Uji Root CA,O=Balai Sertifikasi Elektronik (Uji),C=ID"
    assert int(info.serial, 16) == certificate.serial_number
    assert (info.not_before, info.not_after) == (certificate.not_valid_before_utc, certificate.not_valid_after_utc)
    assert info.fingerprint == certificate.fingerprint(hashes.SHA256()).hex()
    # The chain as the PKCS#12 carries it: the signer's certificate, then its CA.
    assert info.chain_pem.count("BEGIN CERTIFICATE") == 2
    assert info.chain_pem.encode().endswith(pki.root_pem)


def test_wrong_passphrase_is_refused_with_its_own_message(pki: Pki) -> None:
    with pytest.raises(tte.SigningRefused) as refused:
        tte.open_p12(pki.p12("signer"), "bukan-kata-sandinya")
    assert refused.value.args[0] == "Kata sandi sertifikat TTE salah."


@pytest.mark.parametrize("data", [b"", b"bukan sertifikat", b"%PDF-1.4\n%%EOF\n", b"\x30\x03\x02\x01\x03"])
def test_a_file_that_is_no_pkcs12_is_refused_as_such(data: bytes) -> None:
    with pytest.raises(tte.SigningRefused) as refused:
        tte.open_p12(data, "apa saja")
    assert "bukan sertifikat TTE berformat PKCS#12" in refused.value.args[0]


def test_seal_round_trip_and_another_key_cannot_unseal(pki: Pki) -> None:
    key = tte.sealing_key({"SECRET_KEY": "rahasia-uji"})
    sealed = tte.seal(pki.p12("signer"), key)
    assert pki.p12("signer")[:64] not in sealed
    assert tte.unseal(sealed, key) == pki.p12("signer")
    with pytest.raises(tte.SigningRefused, match="unggah ulang"):
        tte.unseal(sealed, tte.sealing_key({"SECRET_KEY": "rahasia-lain"}))


def test_sealing_key_prefers_tte_key_and_is_derived_stably_from_secret_key() -> None:
    own = Fernet.generate_key()
    assert tte.sealing_key({"TTE_KEY": own.decode(), "SECRET_KEY": "x"}) == own
    derived = tte.sealing_key({"SECRET_KEY": "rahasia-uji"})
    assert derived == tte.sealing_key({"SECRET_KEY": "rahasia-uji", "TTE_KEY": None})
    Fernet(derived)  # a valid Fernet key
    assert derived != tte.sealing_key({"SECRET_KEY": "rahasia-lain"})


def test_trust_settings_read_the_files_named_in_config(pki: Pki) -> None:
    trust = tte.TrustSettings.from_config({**pki.config, "TTE_TIMESTAMP_URL": "", "TTE_FETCH_REVOCATION": False})
    assert trust.roots_pem == (pki.root_pem,) and trust.crls_der == (pki.crl_der,)
    assert trust.timestamp_url is None and trust.fetch_revocation is False
    joined = tte.TrustSettings.from_config({"TTE_TRUST_ROOTS": pki.config["TTE_TRUST_ROOTS"][0]})
    assert joined.roots_pem == (pki.root_pem,) and joined.crls_der == ()
    with pytest.raises(tte.SigningRefused, match="tidak dapat dibaca"):
        tte.TrustSettings.from_config({"TTE_TRUST_ROOTS": [str(pki.directory / "tidak-ada.pem")]})


def test_a_valid_certificate_from_the_trusted_ca_may_sign(credentials: tte.Credentials,
                                                           trust: tte.TrustSettings) -> None:
    tte.check_usable(credentials, trust, NOW)


@pytest.mark.parametrize(("name", "message"), [
    ("expired", "sudah kedaluwarsa"),
    ("not_yet_valid", "belum berlaku"),
    ("revoked", "sudah dicabut"),
    ("stranger", "tidak diterbitkan oleh otoritas yang dipercaya Loket"),
])
def test_unusable_certificates_are_refused(pki: Pki, trust: tte.TrustSettings, name: str, message: str) -> None:
    credentials = tte.open_p12(pki.p12(name), pki.PASSPHRASE)
    with pytest.raises(tte.SigningRefused, match=message):
        tte.check_usable(credentials, trust, NOW)


def test_revocation_is_known_only_from_the_crl(pki: Pki) -> None:
    """Offline and without the CRL, the revoked certificate cannot be told apart (soft-fail): the
    office must keep its CRL file current; with it, the certificate is refused."""
    revoked = tte.open_p12(pki.p12("revoked"), pki.PASSPHRASE)
    tte.check_usable(revoked, tte.TrustSettings(roots_pem=(pki.root_pem,)), NOW)
    with pytest.raises(tte.SigningRefused, match="sudah dicabut"):
        tte.check_usable(revoked, tte.TrustSettings(roots_pem=(pki.root_pem,), crls_der=(pki.crl_der,)), NOW)


def test_without_trust_roots_nothing_may_sign(credentials: tte.Credentials) -> None:
    with pytest.raises(tte.SigningRefused, match="TTE_TRUST_ROOTS"):
        tte.check_usable(credentials, tte.TrustSettings(roots_pem=()), NOW)


def test_signing_refuses_an_unusable_certificate(pki: Pki, permit_pdf: bytes, trust: tte.TrustSettings) -> None:
    with pytest.raises(tte.SigningRefused, match="sudah dicabut"):
        sign(permit_pdf, tte.open_p12(pki.p12("revoked"), pki.PASSPHRASE), trust)


# Signing and checking ---------------------------------------------------------------------------

def test_signed_permit_validates_as_intact_and_trusted(signed: tte.SignedPdf, trust: tte.TrustSettings,
                                                        pki: Pki, credentials: tte.Credentials) -> None:
    assert signed.level == "B-B"
    check = tte.check_pdf(signed.data, trust)
    assert check.error is None
    (signature,) = check.signatures
    assert signature.intact and signature.trusted and signature.covers_whole_file and signature.valid
    assert signature.signer_name == "Drs. Yohanes Ateng, M.Si."
    assert signature.signer_subject == pki.certificate("signer").subject.rfc4514_string()
    assert signature.fingerprint == credentials.description().fingerprint
    # The PDF keeps the signing time to the second; it is the `now` given, not the clock's.
    assert signature.signed_at == NOW.replace(microsecond=0)
    assert not signature.timestamped and not signature.revoked
    assert signature.summary.startswith("Tanda tangan sah dan utuh: ditandatangani secara elektronik oleh Drs. Yohanes")


def test_signing_time_is_the_one_given(permit_pdf: bytes, credentials: tte.Credentials,
                                      trust: tte.TrustSettings) -> None:
    earlier = NOW - dt.timedelta(minutes=25)  # after the CRL was issued (an hour ago)
    (signature,) = tte.check_pdf(sign(permit_pdf, credentials, trust, earlier).data, trust).signatures
    assert signature.signed_at == earlier.replace(microsecond=0)
    assert signature.summary.endswith(earlier.astimezone(tte.verification.WIB).strftime("%d-%m-%Y %H.%M WIB."))


def test_signing_appends_to_the_permit_and_changes_nothing_visible(permit_pdf: bytes,
                                                                   signed: tte.SignedPdf) -> None:
    # An incremental update: every byte of the rendered permit is still there, in front.
    assert signed.data.startswith(permit_pdf)
    before, after = (pypdf.PdfReader(io.BytesIO(data)) for data in (permit_pdf, signed.data))
    assert len(after.pages) == len(before.pages)
    for old, new in zip(before.pages, after.pages, strict=True):
        assert new.get_contents().get_data() == old.get_contents().get_data()
        assert new.extract_text() == old.extract_text()
    # One signature field, invisible (the stamp is drawn by the permit's template).
    (field,) = [annotation.get_object() for annotation in after.pages[0].get("/Annots", [])
                if annotation.get_object().get("/FT") == "/Sig"]
    assert field["/T"] == tte.FIELD_NAME
    assert [float(x) for x in field["/Rect"]] == [0, 0, 0, 0]


def test_one_flipped_byte_in_the_signed_range_breaks_the_signature(signed: tte.SignedPdf,
                                                                   trust: tte.TrustSettings) -> None:
    data = bytearray(signed.data)
    # A byte of the permit's text stream, well inside the first signed range.
    position = data.index(b"stream") + 200
    data[position] ^= 0x01
    check = tte.check_pdf(bytes(data), trust)
    if check.error is None:
        (signature,) = check.signatures
        assert not signature.intact and not signature.trusted and not signature.valid
        assert signature.summary.startswith("Tanda tangan TIDAK UTUH")
    else:
        assert "tidak dapat dibaca" in check.error


def test_a_flipped_byte_anywhere_never_raises(signed: tte.SignedPdf, trust: tte.TrustSettings) -> None:
    """Every position in a sample across the file: a damaged upload is a message, never an exception."""
    step = max(1, len(signed.data) // 150)
    for position in range(0, len(signed.data), step):
        data = bytearray(signed.data)
        data[position] ^= 0xFF
        check = tte.check_pdf(bytes(data), trust)
        assert check.error is not None or not any(s.valid for s in check.signatures), (
            f"a flipped byte at {position} was not noticed")


def test_text_added_after_signing_is_not_covered(signed: tte.SignedPdf, trust: tte.TrustSettings) -> None:
    # An incremental update leaves the signed bytes intact; pyHanko's difference analysis sees it.
    writer = pypdf.PdfWriter(io.BytesIO(signed.data), incremental=True)
    writer.add_annotation(0, FreeText(text="Masa berlaku: seumur hidup", rect=(50, 550, 300, 600)))
    out = io.BytesIO()
    writer.write(out)
    (signature,) = tte.check_pdf(out.getvalue(), trust).signatures
    assert signature.intact and signature.trusted and not signature.covers_whole_file and not signature.valid
    assert "setelah ditandatangani" in signature.summary


def test_an_unsigned_pdf_has_no_signatures(permit_pdf: bytes, trust: tte.TrustSettings) -> None:
    assert tte.check_pdf(permit_pdf, trust) == tte.PdfCheck(signatures=(), error=None)


@pytest.mark.parametrize("data", [b"", b"GIF89a bukan pdf", b"%PDF-1.7\n1 0 obj <</Type /Catalog>> rusak"])
def test_what_is_not_a_readable_pdf_gets_a_message(data: bytes, trust: tte.TrustSettings) -> None:
    check = tte.check_pdf(data, trust)
    assert check.signatures == () and check.error in (tte.verification.NOT_A_PDF, tte.verification.UNREADABLE)


def test_a_permit_signed_before_its_certificate_expired_checks_at_the_recorded_time(
        pki: Pki, permit_pdf: bytes, trust: tte.TrustSettings) -> None:
    """A B-B signature has no timestamp: judged today its expired certificate is not trusted, judged
    at the moment Loket recorded the signing (the caller vouches for it) it is."""
    signed_then = NOW - dt.timedelta(days=200)  # within the "expired" certificate's validity
    signed = sign(permit_pdf, tte.open_p12(pki.p12("expired"), pki.PASSPHRASE), trust, now=signed_then)
    (today,) = tte.check_pdf(signed.data, trust).signatures
    assert today.intact and not today.trusted
    (then,) = tte.check_pdf(signed.data, trust, at=signed_then).signatures
    assert then.intact and then.trusted, then.summary


def test_a_revocation_after_the_recorded_signing_does_not_void_it_and_one_before_does(
        pki: Pki, permit_pdf: bytes, trust: tte.TrustSettings) -> None:
    """The "revoked" certificate went on the CRL two days ago (tests/pki.py)."""
    signed_then = NOW - dt.timedelta(days=10)
    signed = sign(permit_pdf, tte.open_p12(pki.p12("revoked"), pki.PASSPHRASE), trust, now=signed_then)
    (then,) = tte.check_pdf(signed.data, trust, at=signed_then).signatures
    assert then.intact and then.trusted, then.summary
    (later,) = tte.check_pdf(signed.data, trust, at=NOW - dt.timedelta(days=1)).signatures
    assert later.intact and not later.trusted


def test_a_signature_from_another_ca_is_intact_but_not_trusted(pki: Pki, permit_pdf: bytes,
                                                               trust: tte.TrustSettings) -> None:
    stranger = tte.open_p12(pki.p12("stranger"), pki.PASSPHRASE)
    # Signed where that CA is trusted (someone else's office), then checked by Loket.
    elsewhere = tte.TrustSettings(roots_pem=(pki.issuers["stranger"].public_bytes(
        serialization.Encoding.PEM),))
    (signature,) = tte.check_pdf(sign(permit_pdf, stranger, elsewhere).data, trust).signatures
    assert signature.intact and not signature.trusted and not signature.valid
    assert signature.signer_subject.startswith("CN=Penanda Tangan Asing")
    assert "tidak diterbitkan oleh otoritas yang dipercaya Loket" in signature.summary


def test_a_revoked_signer_shows_as_revoked_when_checked(pki: Pki, permit_pdf: bytes,
                                                        trust: tte.TrustSettings) -> None:
    # Signed before the CRL reached this office (no CRL given), checked with the CRL.
    revoked = tte.open_p12(pki.p12("revoked"), pki.PASSPHRASE)
    data = sign(permit_pdf, revoked, tte.TrustSettings(roots_pem=(pki.root_pem,))).data
    (signature,) = tte.check_pdf(data, trust).signatures
    assert signature.intact and signature.revoked and not signature.trusted
    assert "sudah dicabut" in signature.summary


# B-LT -------------------------------------------------------------------------------------------

def test_with_a_timestamp_server_the_permit_is_signed_at_b_lt(permit_pdf: bytes, credentials: tte.Credentials,
                                                              trust: tte.TrustSettings,
                                                              tsa_server: TimestampServer) -> None:
    online = dataclasses.replace(trust, timestamp_url=tsa_server.url)
    signed = sign(permit_pdf, credentials, online)
    assert signed.level == "B-LT" and tsa_server.requests >= 1
    assert b"/DSS" in signed.data  # the chain's revocation data, for checking after the certificate ends
    (signature,) = tte.check_pdf(signed.data, trust).signatures
    assert signature.valid and signature.timestamped
    assert abs(signature.signed_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)


def test_a_timestamp_server_that_is_down_still_signs_at_b_b(permit_pdf: bytes, credentials: tte.Credentials,
                                                            trust: tte.TrustSettings,
                                                            tsa_server: TimestampServer) -> None:
    tsa_server.stop()  # nothing listens at its address any more
    signed = sign(permit_pdf, credentials, dataclasses.replace(trust, timestamp_url=tsa_server.url))
    assert signed.level == "B-B"
    (signature,) = tte.check_pdf(signed.data, trust).signatures
    assert signature.valid and not signature.timestamped


def test_credentials_without_the_loaded_key_sign_through_pyhanko_alone(permit_pdf: bytes, trust: tte.TrustSettings,
                                                                       credentials: tte.Credentials) -> None:
    bare = dataclasses.replace(credentials, private_key=None)
    (signature,) = tte.check_pdf(sign(permit_pdf, bare, trust).data, trust).signatures
    assert signature.valid

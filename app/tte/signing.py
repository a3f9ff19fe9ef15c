"""Signing a permit PDF as PAdES with pyHanko: an incremental update that adds an invisible
signature field (the visible stamp is part of the rendered permit), so the pages stay as rendered."""
from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.registry import SimpleCertificateStore

from app.tte.certificates import Credentials, TrustSettings, check_usable
from app.tte.errors import SigningRefused

log = logging.getLogger(__name__)

FIELD_NAME = "TTE-KepalaDinas"
TIMESTAMP_TIMEOUT_SECONDS = 10
# Room for the CMS in the file at B-B: the certificates it embeds plus the signature and its signed
# attributes (about 1 kB for RSA-4096). Given, so pyHanko need not make a throw-away signature to
# measure it, which took half the signing time.
B_B_OVERHEAD_BYTES = 3 * 1024


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    level: str  # "B-B" or "B-LT"


class _ClockedSigner(signers.PdfSigner):
    """A PdfSigner whose signing time (the signature's /M) is the caller's `now`, not the clock's."""

    def __init__(self, *args, system_time: dt.datetime, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._system_time = system_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):  # noqa: ANN001, ANN201
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._system_time
        return session


class _LoadedKeySigner(signers.SimpleSigner):
    """SimpleSigner with the key already loaded (Credentials.private_key), for RSA and ECDSA."""

    def __init__(self, *args, private_key: PrivateKeyTypes, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        name = mechanism.signature_algo
        key = self._private_key
        if name == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if name == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)  # RSA-PSS, EdDSA...: pyHanko's own way


def sign_pdf(
    pdf: bytes, credentials: Credentials, trust: TrustSettings, *, signer_name: str, reason: str, location: str,
    now: dt.datetime,
) -> SignedPdf:
    """The PDF signed by `credentials` (checked with check_usable first: SigningRefused if unusable).

    B-LT (a timestamp from trust.timestamp_url and the chain's revocation data in the file) when a
    timestamp server is configured and it and the revocation data answer; otherwise B-B, which
    needs no network. The level reached is in the result.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    check_usable(credentials, trust, now)
    parts = {
        "signing_cert": credentials.certificate, "signing_key": credentials.key,
        "cert_registry": SimpleCertificateStore.from_certs(credentials.chain),
    }
    signer = (signers.SimpleSigner(**parts) if credentials.private_key is None
              else _LoadedKeySigner(**parts, private_key=credentials.private_key))
    metadata = {
        "field_name": FIELD_NAME, "subfilter": fields.SigSeedSubFilter.PADES, "md_algorithm": "sha256",
        "reason": reason, "location": location, "name": signer_name,
    }
    if trust.timestamp_url:
        try:
            return SignedPdf(_sign(pdf, signer, now, signers.PdfSignatureMetadata(
                **metadata, embed_validation_info=True,
                validation_context=trust.validation_context(now, require_revocation=True,
                                                            other_certs=credentials.chain),
            ), timestamps.HTTPTimeStamper(trust.timestamp_url, timeout=TIMESTAMP_TIMEOUT_SECONDS)), "B-LT")
        except (SigningError, timestamps.TimestampRequestError, cv_errors.ValidationError, cv_errors.PathError,
                OSError) as error:
            # The permit is still signed, at B-B: a timestamp server that is down must not stop issuing.
            log.warning("TTE: B-LT not reached (%s); signing at B-B", error)
    # bytes_reserved counts the hexadecimal digits in the file: two per byte of the CMS.
    certificates = (credentials.certificate, *credentials.chain)
    reserved = 2 * (B_B_OVERHEAD_BYTES + sum(len(cert.dump()) for cert in certificates))
    return SignedPdf(_sign(pdf, signer, now, signers.PdfSignatureMetadata(**metadata), None, reserved), "B-B")


def _sign(
    pdf: bytes, signer: signers.Signer, now: dt.datetime, metadata: signers.PdfSignatureMetadata,
    timestamper: timestamps.TimeStamper | None, bytes_reserved: int | None = None,
) -> bytes:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError) as error:
        raise SigningRefused(f"Berkas izin bukan PDF yang dapat ditandatangani: {error}") from None
    pdf_signer = _ClockedSigner(metadata, signer, timestamper=timestamper, system_time=now)
    return pdf_signer.sign_pdf(writer, bytes_reserved=bytes_reserved).getvalue()

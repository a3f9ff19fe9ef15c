"""A signer's certificate: opening the PKCS#12 with its passphrase, describing it, and checking
before a signature that it is valid now, not revoked and issued under a CA Loket trusts."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers.constants import DEFAULT_SIGNER_KEY_USAGE
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from app.tte.errors import SigningRefused

WRONG_PASSPHRASE = "Kata sandi sertifikat TTE salah."
NOT_A_P12 = "Berkas ini bukan sertifikat TTE berformat PKCS#12 (.p12/.pfx)."
NO_KEY = "Berkas PKCS#12 ini tidak memuat kunci privat dan sertifikat penanda tangan."
NO_TRUST_ROOTS = (
    "Belum ada sertifikat akar (root CA) TTE yang dipercaya Loket (TTE_TRUST_ROOTS); hubungi administrator."
)


@dataclass(frozen=True)
class CertificateInfo:
    subject: str  # RFC 4514, e.g. "CN=Drs. Yohanes Ateng,O=Pemerintah Kabupaten Landak,C=ID"
    issuer: str
    serial: str  # hexadecimal, upper case, as certificate viewers show it
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime
    fingerprint: str  # SHA-256 of the certificate (DER), lower-case hex
    chain_pem: str  # the certificate, then the CA certificates the PKCS#12 carries
    common_name: str = ""  # the subject's CN: the signer's name as the CA wrote it


@dataclass(frozen=True)
class Credentials:
    """An opened PKCS#12, in pyHanko's (asn1crypto) types. Lives only for one signing: never store it."""

    key: asn1_keys.PrivateKeyInfo = field(repr=False)
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]  # the other certificates of the file (its CAs)
    # The same key as cryptography's object, checked once when opened: pyHanko would parse and check
    # an RSA key again at every signature (about 35 ms).
    private_key: PrivateKeyTypes | None = field(default=None, repr=False, compare=False)

    def description(self) -> CertificateInfo:
        return describe(self.certificate, self.chain)


@dataclass(frozen=True)
class TrustSettings:
    roots_pem: tuple[bytes, ...]  # the contents of each root file (PEM, several per file allowed, or DER)
    crls_der: tuple[bytes, ...] = ()
    fetch_revocation: bool = False
    timestamp_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping) -> TrustSettings:
        """TTE_TRUST_ROOTS and TTE_CRLS: lists of paths (or one os.pathsep-separated string);
        TTE_FETCH_REVOCATION; TTE_TIMESTAMP_URL. A listed file that cannot be read is refused."""
        return cls(
            roots_pem=tuple(_read(path, "sertifikat akar TTE") for path in _paths(config.get("TTE_TRUST_ROOTS"))),
            crls_der=tuple(
                der for path in _paths(config.get("TTE_CRLS"))
                for der in _crl_ders(_read(path, "daftar pencabutan (CRL) TTE"))
            ),
            fetch_revocation=bool(config.get("TTE_FETCH_REVOCATION", False)),
            timestamp_url=config.get("TTE_TIMESTAMP_URL") or None,
        )

    def root_certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        return _certificates(self.roots_pem)

    def validation_context(self, moment: dt.datetime | None = None, *, require_revocation: bool = False,
                           other_certs: Iterable[asn1_x509.Certificate] = ()) -> ValidationContext:
        """pyHanko's context over these roots and CRLs.

        Revocation: "soft-fail" by default, so an offline office that has no CRL for a CA can still
        sign and check, while a certificate listed on a CRL it has is refused. With
        TTE_FETCH_REVOCATION on, the office says it is online: "hard-fail", so a CRL or OCSP the
        certificate names but that cannot be reached refuses rather than passing unchecked.
        require_revocation (for B-LT, whose point is the embedded revocation data) is "hard-fail" too.
        """
        mode = "hard-fail" if (self.fetch_revocation or require_revocation) else "soft-fail"
        return ValidationContext(
            trust_roots=list(self.root_certificates()), other_certs=list(other_certs),
            crls=list(self.crls_der), allow_fetching=self.fetch_revocation, revocation_mode=mode, moment=moment,
            # Judged at a past moment, today's CRL still counts: a certificate it does not list was
            # not revoked then either.
            retroactive_revinfo=moment is not None,
        )


def _paths(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part for part in value.split(os.pathsep) if part.strip()]
    return [str(part) for part in value]  # type: ignore[union-attr]


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        raise SigningRefused(f"Berkas {what} tidak dapat dibaca: {path}. Periksa pengaturan TTE.") from None


def _crl_ders(data: bytes) -> list[bytes]:
    if pem.detect(data):
        return [der for _type, _headers, der in pem.unarmor(data, multiple=True)]
    return [data]


@lru_cache(maxsize=8)
def _certificates(files: tuple[bytes, ...]) -> tuple[asn1_x509.Certificate, ...]:
    """Every certificate in the root files (parsed once per set of files: this runs at every signing)."""
    found = []
    for data in files:
        ders = [der for _t, _h, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        found.extend(asn1_x509.Certificate.load(der) for der in ders)
    return tuple(found)


def describe(certificate: asn1_x509.Certificate, chain: Iterable[asn1_x509.Certificate] = ()) -> CertificateInfo:
    parsed = x509.load_der_x509_certificate(certificate.dump())
    common_names = parsed.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return CertificateInfo(
        subject=parsed.subject.rfc4514_string(),
        issuer=parsed.issuer.rfc4514_string(),
        serial=format(parsed.serial_number, "X"),
        not_before=parsed.not_valid_before_utc,
        not_after=parsed.not_valid_after_utc,
        fingerprint=hashlib.sha256(certificate.dump()).hexdigest(),
        chain_pem="".join(pem.armor("CERTIFICATE", cert.dump()).decode() for cert in (certificate, *chain)),
        common_name=str(common_names[0].value) if common_names else "",
    )


def open_p12(p12: bytes, passphrase: str) -> Credentials:
    """The key and certificates of a PKCS#12 file; SigningRefused for a wrong passphrase or another file."""
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(p12, passphrase.encode())
    except ValueError:
        # ValueError for both: a file that is a PKCS#12 but does not decrypt has the wrong passphrase.
        raise SigningRefused(WRONG_PASSPHRASE if _looks_like_p12(p12) else NOT_A_P12) from None
    if key is None or certificate is None:
        raise SigningRefused(NO_KEY)
    return Credentials(
        key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
        )),
        certificate=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        chain=tuple(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)) for cert in others),
        private_key=key,
    )


def _looks_like_p12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except Exception:  # asn1crypto raises ValueError, TypeError and others for arbitrary bytes
        return False


def _date(moment: dt.datetime) -> str:
    return moment.strftime("%d-%m-%Y")


def check_usable(credentials: Credentials, trust: TrustSettings, now: dt.datetime) -> None:
    """SigningRefused unless the certificate may sign at `now`: within its validity, its chain ending
    at a trusted root, allowed to sign documents, and not revoked (see validation_context)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    info = credentials.description()
    if now < info.not_before:
        raise SigningRefused(f"Sertifikat TTE belum berlaku (berlaku mulai {_date(info.not_before)}).")
    if now > info.not_after:
        raise SigningRefused(f"Sertifikat TTE sudah kedaluwarsa (berlaku sampai {_date(info.not_after)}).")
    if not trust.roots_pem:
        raise SigningRefused(NO_TRUST_ROOTS)
    validator = CertificateValidator(
        credentials.certificate, intermediate_certs=list(credentials.chain),
        validation_context=trust.validation_context(now),
    )
    try:
        asyncio.run(validator.async_validate_usage(DEFAULT_SIGNER_KEY_USAGE))
    except cv_errors.RevokedError:
        raise SigningRefused("Sertifikat TTE sudah dicabut (revoked) oleh penerbitnya.") from None
    except cv_errors.ExpiredError:
        raise SigningRefused("Sertifikat TTE atau sertifikat penerbitnya sudah kedaluwarsa.") from None
    except cv_errors.NotYetValidError:
        raise SigningRefused("Sertifikat TTE atau sertifikat penerbitnya belum berlaku.") from None
    except cv_errors.PathBuildingError:
        raise SigningRefused(
            f"Sertifikat TTE tidak diterbitkan oleh otoritas yang dipercaya Loket (penerbit: {info.issuer})."
        ) from None
    except cv_errors.InvalidCertificateError:
        raise SigningRefused("Sertifikat ini tidak diizinkan untuk menandatangani dokumen (key usage).") from None
    except cv_errors.ValidationError as error:
        # Revocation data that could not be obtained (hard-fail) or a chain that does not validate.
        raise SigningRefused(f"Sertifikat TTE tidak dapat divalidasi: {error}") from None

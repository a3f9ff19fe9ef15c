"""Checking the signatures in a PDF someone uploads (pyHanko's validator against Loket's trust
roots): each intact or not, trusted or not, covering the whole file or not, by whom and when.
Never raises: a file it cannot read gives PdfCheck.error, a signature it cannot read a failed check."""
from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from app.tte.certificates import TrustSettings, describe

log = logging.getLogger(__name__)

WIB = ZoneInfo("Asia/Jakarta")
NOT_A_PDF = "Berkas ini bukan PDF."
UNREADABLE = "Berkas PDF ini rusak atau tidak dapat dibaca, sehingga tanda tangannya tidak dapat diperiksa."


@dataclass(frozen=True)
class SignatureCheck:
    intact: bool  # the signed bytes hash to what the signature says, and the signature matches the certificate
    trusted: bool  # ... and the certificate chains to a root in TTE_TRUST_ROOTS, unrevoked, usable for signing
    # Nothing that changes the document came after this signature: the file ends with it, or what
    # follows is validation data only (B-LT's DSS, timestamps, metadata; pyHanko's difference analysis).
    covers_whole_file: bool
    signer_subject: str  # RFC 4514; "" when the signature could not be read
    signer_name: str  # the name the signer put in the signature (/Name), else the certificate's CN
    signed_at: dt.datetime | None  # the timestamp's time if any, else the time the signer's software wrote
    fingerprint: str  # SHA-256 of the signer's certificate, to compare with PermitSignature's
    summary: str  # Indonesian, one sentence or two, for the verification page
    timestamped: bool = False  # signed_at comes from a trusted timestamp server (PAdES B-T and up)
    revoked: bool = False

    @property
    def valid(self) -> bool:
        """The signature as a whole stands: intact, trusted, and nothing added after it."""
        return self.intact and self.trusted and self.covers_whole_file


@dataclass(frozen=True)
class PdfCheck:
    signatures: tuple[SignatureCheck, ...]
    error: str | None = None  # why the file could not be read; signatures is then empty


def format_moment(moment: dt.datetime | None) -> str:
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H.%M WIB") if moment else "waktu yang tidak diketahui"


def check_pdf(data: bytes, trust: TrustSettings, at: dt.datetime | None = None) -> PdfCheck:
    """Every signature of the PDF, its certificate judged now, or `at` a moment the caller vouches
    for (the time Loket recorded when it signed the very same file)."""
    if b"%PDF-" not in data[:1024]:
        return PdfCheck((), NOT_A_PDF)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
    except Exception:  # pyHanko raises many kinds for a damaged file; each means the same to the reader
        log.info("TTE: unreadable PDF uploaded for checking", exc_info=True)
        return PdfCheck((), UNREADABLE)
    return PdfCheck(tuple(_check(signature, trust, at) for signature in embedded))


def _check(embedded, trust: TrustSettings, at: dt.datetime | None) -> SignatureCheck:  # noqa: ANN001 (pyHanko's)
    try:
        status = validate_pdf_signature(embedded, signer_validation_context=trust.validation_context(moment=at))
    except Exception:  # a signature dictionary or CMS blob that does not parse: damaged or forged
        log.info("TTE: signature that cannot be validated", exc_info=True)
        return SignatureCheck(
            intact=False, trusted=False, covers_whole_file=False, signer_subject="", signer_name="",
            signed_at=None, fingerprint="",
            summary="Tanda tangan ini rusak dan tidak dapat diperiksa: jangan percayai berkas ini.",
        )
    info = describe(status.signing_cert)
    name = embedded.sig_object.get("/Name")
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.trusted
    intact = status.intact and status.valid
    check = SignatureCheck(
        intact=intact,
        trusted=status.trusted,
        covers_whole_file=_covers_whole_file(status),
        signer_subject=info.subject,
        signer_name=str(name) if name else info.common_name,
        signed_at=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        fingerprint=info.fingerprint,
        summary="",
        timestamped=timestamped,
        revoked=status.revoked,
    )
    return _with_summary(check, status)


def _covers_whole_file(status: PdfSignatureStatus) -> bool:
    """The signature covers the file, or what came after it is only validation data: the DSS and
    timestamps that PAdES B-LT/B-LTA append in later revisions (pyHanko's difference analysis, which
    also lets a change of the document information, /Info, through at that level)."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and status.modification_level in (
        ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
    )


def _with_summary(check: SignatureCheck, status: PdfSignatureStatus) -> SignatureCheck:
    who = f"{check.signer_name} pada {format_moment(check.signed_at)}"
    if not check.intact:
        text = ("Tanda tangan TIDAK UTUH: isi berkas sudah berubah sejak ditandatangani "
                f"(tanda tangan {who}). Jangan percayai berkas ini.")
    elif check.revoked:
        text = f"Ditandatangani {who}, tetapi sertifikat penanda tangan sudah dicabut oleh penerbitnya."
    elif not check.trusted:
        text = (f"Tanda tangan utuh ({who}), tetapi sertifikatnya tidak diterbitkan oleh otoritas yang "
                f"dipercaya Loket atau tidak dapat divalidasi (penerbit: {describe(status.signing_cert).issuer}).")
    elif not check.covers_whole_file:
        text = (f"Tanda tangan sah ({who}), tetapi berkas ini ditambah atau diubah setelah ditandatangani: "
                "bagian tambahan itu tidak dijamin oleh tanda tangan.")
    else:
        text = f"Tanda tangan sah dan utuh: ditandatangani secara elektronik oleh {who}."
    return replace(check, summary=text)

"""TTE (tanda tangan elektronik): signing permits as PAdES with the signer's PKCS#12 and checking
the signatures in a PDF. Plain Python with pyHanko, no Flask; messages are Indonesian.

    key = sealing_key(app.config); sealed = seal(p12, key)              # at upload
    credentials = open_p12(unseal(sealed, key), passphrase)            # at signing
    trust = TrustSettings.from_config(app.config)
    check_usable(credentials, trust, now)                               # before taking a number
    signed = sign_pdf(pdf, credentials, trust, signer_name=..., reason=..., location=..., now=now)
    check_pdf(uploaded, trust).signatures                               # at /verifikasi
Every refusal is a SigningRefused whose args[0] is the message to show.
"""
from app.tte.certificates import CertificateInfo, Credentials, TrustSettings, check_usable, describe, open_p12
from app.tte.errors import SigningRefused
from app.tte.keys import seal, sealing_key, unseal
from app.tte.signing import FIELD_NAME, SignedPdf, sign_pdf
from app.tte.verification import PdfCheck, SignatureCheck, check_pdf

__all__ = [
    "FIELD_NAME",
    "CertificateInfo",
    "Credentials",
    "PdfCheck",
    "SignatureCheck",
    "SignedPdf",
    "SigningRefused",
    "TrustSettings",
    "check_pdf",
    "check_usable",
    "describe",
    "open_p12",
    "seal",
    "sealing_key",
    "sign_pdf",
    "unseal",
]

"""Signing in print worker processes (reports.parallel.worker_pool): the batch signing renders and
signs many permits at once. Module-level and picklable arguments only; the certificate is opened
once per worker (opening a PKCS#12 costs more than a signature)."""
from __future__ import annotations

import datetime as dt
import hashlib

from app.tte.certificates import Credentials, TrustSettings, open_p12
from app.tte.signing import SignedPdf, sign_pdf
from reports.papers import ElectronicStamp, Letterhead, PermitPaper, render_permit

_OPENED: dict[str, Credentials] = {}


def render_and_sign(
    paper: PermitPaper, letterhead: Letterhead, size: str, mark: ElectronicStamp, p12: bytes, passphrase: str,
    trust: TrustSettings, reason: str, now: dt.datetime,
) -> SignedPdf:
    """The permit rendered with its electronic stamp and signed."""
    opened = hashlib.sha256(p12).hexdigest()
    if opened not in _OPENED:
        _OPENED[opened] = open_p12(p12, passphrase)
    pdf = render_permit(paper, letterhead, size, stamp=mark)
    return sign_pdf(pdf, _OPENED[opened], trust, signer_name=mark.name, reason=reason, location=paper.city, now=now)

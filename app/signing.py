"""Electronic signatures (TTE) of permits, between the move screen and app.tte. No Flask.

The Kepala Dinas signs in the ADVANCE that numbers the permit: the certificate is opened with
the passphrase typed on the confirmation and checked before anything moves; the move is made;
each permit it numbered is rendered with the electronic stamp, signed and stored; and only then
is the transaction committed. A refusal anywhere rolls all of it back: no number taken, no
history row. The signed PDF is stored with app.uploads' content-addressed storage and is from
then on the permit's file (app.printing serves it).
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.models import Account, Dossier, DossierStatus, Permit, PermitSignature, SigningCertificate, Stage
from app.people import full_name
from app.printing import Office, PaperUnavailable, printed_permit, signed_permit_file
from app.sop.bulk import ATTEMPTS, given_up_by_the_database
from app.sop.machine import Action, Outcome, apply_many
from app.tte import (
    Credentials,
    SignedPdf,
    SigningRefused,
    TrustSettings,
    check_usable,
    open_p12,
    seal,
    sign_pdf,
    unseal,
)
from app.uploads import UploadRefused, store_upload
from reports.papers import ElectronicStamp, Letterhead, PermitPaper, render_permit

# Permits one move signs in the request (each a render and a signature, under the number
# counters' lock); more go to the batch signing, a background job.
SIGN_INLINE_MAX = 10
# A PKCS#12 holds a key and a few certificates: a few kB. Anything far larger is not one.
MAX_P12_BYTES = 256 * 1024
SIGNING_REASON = "Penetapan keputusan perizinan"
CHUNK = 500

MSG_NO_FILE = "Pilih berkas sertifikat TTE (PKCS#12, .p12 atau .pfx)."
MSG_TOO_LARGE = "Berkas ini terlalu besar untuk sebuah sertifikat TTE (PKCS#12)."
MSG_NO_PASSPHRASE = "Ketik kata sandi sertifikat TTE Anda untuk menandatangani izin."
MSG_NO_PASSPHRASE_UPLOAD = "Kata sandi sertifikat wajib diketik oleh pemiliknya untuk membuka dan memeriksa sertifikat."


@dataclass(frozen=True)
class Signing:
    """Who signs the permits a move numbers, and with what. credentials None: the signer holds a
    certificate but typed no passphrase, so a move that numbers is refused."""

    credentials: Credentials | None
    trust: TrustSettings
    signer_id: int
    office: Office
    storage_dir: Path


def certificate_of(session: Session, user_id: int) -> SigningCertificate | None:
    return session.scalar(select(SigningCertificate).where(SigningCertificate.user_id == user_id))


def store_certificate(
    session: Session, user_id: int, p12: bytes, passphrase: str, *, trust: TrustSettings, key: bytes,
    uploaded_by_id: int | None, now: dt.datetime,
) -> SigningCertificate:
    """The administrator's upload: opened with the passphrase its owner types (only to check it,
    never kept), checked against the trusted CAs, then sealed by Loket's key; replaces the
    account's certificate. SigningRefused says why not. The caller commits."""
    if not p12:
        raise SigningRefused(MSG_NO_FILE)
    if len(p12) > MAX_P12_BYTES:
        raise SigningRefused(MSG_TOO_LARGE)
    if not passphrase:
        raise SigningRefused(MSG_NO_PASSPHRASE_UPLOAD)
    credentials = open_p12(p12, passphrase)
    # Usable now or not stored: a certificate not yet valid is uploaded from its first day (its
    # revocation can only be checked against the CRLs of then).
    check_usable(credentials, trust, now)
    info = credentials.description()
    row = certificate_of(session, user_id)
    if row is None:
        row = SigningCertificate(user_id=user_id)
        session.add(row)
    row.sealed_p12 = seal(p12, key)
    row.subject, row.issuer, row.serial = info.subject[:500], info.issuer[:500], info.serial[:100]
    row.not_before, row.not_after, row.fingerprint = info.not_before, info.not_after, info.fingerprint
    row.uploaded_at, row.uploaded_by_id = now, uploaded_by_id
    session.flush()
    return row


def remove_certificate(session: Session, user_id: int) -> bool:
    """Whether there was one to remove. The permits it signed stay signed. The caller commits.
    Through the ORM, so the audit trail records the removal."""
    row = session.scalar(select(SigningCertificate).where(SigningCertificate.user_id == user_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def signing_credentials(
    session: Session, user_id: int, passphrase: str, *, trust: TrustSettings, key: bytes, now: dt.datetime
) -> Credentials | None:
    """The signer's certificate opened with the passphrase and checked usable now (valid, not
    revoked, from a trusted CA); None when the account holds no certificate. SigningRefused."""
    row = certificate_of(session, user_id)
    if row is None:
        return None
    if not passphrase:
        raise SigningRefused(MSG_NO_PASSPHRASE)
    credentials = open_p12(unseal(row.sealed_p12, key), passphrase)
    check_usable(credentials, trust, now)
    return credentials


def _numbering_from(session: Session) -> set[int]:
    """The stages an ADVANCE numbers the permit from: the one before the numbering stage, and
    before it those the same role works (a move carries on through them, app.sop.machine)."""
    stages: dict[int, list[Stage]] = {}
    for stage in session.scalars(select(Stage).order_by(Stage.permit_type_id, Stage.seq)):
        stages.setdefault(stage.permit_type_id, []).append(stage)
    found: set[int] = set()
    for ordered in stages.values():
        numbers = False
        for stage, following in reversed(list(zip(ordered, ordered[1:], strict=False))):
            numbers = following.issues_permit or (numbers and following.role_name == stage.role_name)
            if numbers:
                found.add(stage.id)
    return found


def will_number(session: Session, dossier_ids: Iterable[int]) -> bool:
    """Whether an ADVANCE of any of these dossiers would number its permit (the engine judges
    each again as it moves; this only decides whether to ask for the passphrase)."""
    stage_ids = _numbering_from(session)
    ids = list(dossier_ids)
    if not stage_ids:
        return False
    return any(
        session.scalar(select(exists().where(
            Dossier.id.in_(ids[start : start + CHUNK]), Dossier.stage_id.in_(stage_ids),
            Dossier.status == DossierStatus.IN_PROGRESS.value,
        )))
        for start in range(0, len(ids), CHUNK)
    )


def stamp(account: Account | None, fallback_position: str, office: Office, now: dt.datetime) -> ElectronicStamp:
    """The stamp of the signer's account: name, NIP and jabatan as the account has them."""
    name = full_name(account)
    position = (account.position if account is not None else "") or fallback_position
    nip = (account.nip if account is not None else "") or ""
    return ElectronicStamp(name=name, nip=nip, position=position, signed_at=office.moment(now))


def sign_issued_permit(
    session: Session, permit: Permit, credentials: Credentials, trust: TrustSettings, *, signer_id: int,
    office: Office, storage_dir: Path, now: dt.datetime,
) -> PermitSignature:
    """The frozen permit rendered with the electronic stamp, signed (PAdES), stored, and its row.
    SigningRefused from app.tte. The caller commits."""
    paper, letterhead, size, mark = permit_to_sign(session, permit, signer_id, office, now)
    pdf = render_permit(paper, letterhead, size, stamp=mark)
    signed = sign_pdf(pdf, credentials, trust, signer_name=mark.name, reason=SIGNING_REASON, location=paper.city,
                      now=now)
    return keep_signature(session, permit, signed, credentials, signer_id=signer_id, mark=mark,
                          storage_dir=storage_dir, now=now)


def permit_to_sign(
    session: Session, permit: Permit, signer_id: int, office: Office, now: dt.datetime,
) -> tuple[PermitPaper, Letterhead, str, ElectronicStamp]:
    """What the signed file prints: the frozen permit, and the signer's stamp in place of the wet signature."""
    paper, letterhead, size = printed_permit(permit.snapshot)
    return paper, letterhead, size, stamp(session.get(Account, signer_id), paper.signatory.position, office, now)


def keep_signature(
    session: Session, permit: Permit, signed: SignedPdf, credentials: Credentials, *, signer_id: int,
    mark: ElectronicStamp, storage_dir: Path, now: dt.datetime,
) -> PermitSignature:
    """The signed file stored (content-addressed) and its row. The caller commits."""
    try:
        stored = store_upload(io.BytesIO(signed.data), f"izin-{permit.id}.pdf", storage_dir, len(signed.data))
    except UploadRefused as exc:  # only a broken render gets here
        raise AssertionError(f"the signed permit is not a storable PDF: {exc}") from exc
    info = credentials.description()
    row = PermitSignature(
        permit_id=permit.id, storage_key=stored.storage_key, sha256=stored.sha256, size_bytes=stored.size_bytes,
        signed_at=now, signed_by_id=signer_id, signer_name=mark.name[:200],
        certificate_subject=info.subject[:500], certificate_serial=info.serial[:100],
        certificate_fingerprint=info.fingerprint, level=signed.level, chain_pem=info.chain_pem,
    )
    session.add(row)
    session.flush()
    return row


def sign_numbered(session: Session, outcomes: Sequence[Outcome], signing: Signing, now: dt.datetime) -> list[str]:
    """Signs the permits these outcomes numbered; their numbers. SigningRefused: nothing is
    signed, the caller rolls the move back."""
    numbered = [o for o in outcomes if o.moved and o.permit_number]
    if numbered and signing.credentials is None:
        raise SigningRefused(MSG_NO_PASSPHRASE)
    for outcome in numbered:
        permit = session.scalar(select(Permit).where(Permit.dossier_id == outcome.dossier_id,
                                                     Permit.number == outcome.permit_number))
        sign_issued_permit(session, permit, signing.credentials, signing.trust, signer_id=signing.signer_id,
                           office=signing.office, storage_dir=signing.storage_dir, now=now)
    return [o.permit_number for o in numbered]


def move_and_sign(
    session: Session, dossier_ids: Sequence[int], action: Action, signing: Signing, *,
    clock: Callable[[], dt.datetime], **move: object,
) -> list[Outcome]:
    """apply_many on these few dossiers, then the signature of every permit it numbered, in one
    transaction, committed only when all are signed; retried like app.sop.bulk when the database
    gives it up. SigningRefused: rolled back, nothing changed."""
    ids = list(dict.fromkeys(dossier_ids))
    for attempt in range(1, ATTEMPTS + 1):
        now = clock()
        try:
            outcomes = apply_many(session, ids, action, now=now, actor_id=signing.signer_id, **move)
            sign_numbered(session, outcomes, signing, now)
            session.commit()
        except SigningRefused:
            session.rollback()
            raise
        except DBAPIError as exc:
            session.rollback()
            if attempt == ATTEMPTS or not given_up_by_the_database(exc):
                raise
        else:
            return outcomes
    raise AssertionError("unreachable: the last attempt returns or raises")


def stored_signed_pdf(session: Session, permit_id: int, storage_dir: Path | str) -> bytes | None:
    """The permit's signed file as stored (hash checked), or None when it was not signed
    electronically. SigningRefused when it was but the file is gone or altered."""
    try:
        return signed_permit_file(session, permit_id, storage_dir)
    except PaperUnavailable as exc:
        raise SigningRefused(str(exc)) from None

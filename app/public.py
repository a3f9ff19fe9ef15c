"""What the public may learn without signing in. Each answer is a small dataclass: its fields
are the whole disclosure (no NIK, no address, no officer), so a template cannot leak more."""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.models import Dossier, DossierStatus, Permit, PermitSignature, PermitType, Stage, StageEvent
from app.sop.calendar import as_utc
from app.sop.fields import FIELD_CHECKS
from app.sop.guards import empty_fields, unverified_requirements
from app.sop.machine import MISSING_MARK, Action, load_situation
from app.tte import TrustSettings, check_pdf


class PermitStanding(str, enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # valid_until is before today (office time)
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # revoked, and a corrected permit replaces it


@dataclass(frozen=True)
class PermitCheck:
    number: str
    holder: str  # the company as printed on the permit: a permit is public, and so is its holder
    permit_type: str
    issued_on: dt.date
    valid_until: dt.date | None
    standing: PermitStanding
    revoked_on: dt.date | None = None  # office date
    superseded_by: str | None = None  # the number of the permit that replaces this one
    superseded_by_token: str | None = None  # its verification page
    supersedes: str | None = None  # the number of the revoked permit this one replaces

    @property
    def stands(self) -> bool:
        return self.standing is PermitStanding.VALID


@dataclass(frozen=True)
class ReturnHelp:
    """What a returned applicant must bring: only what the return letter already told them."""

    reason: str  # the officer's reason, written for the applicant and printed on the letter
    documents: tuple[str, ...]  # requirement names still without a verified document
    fields: tuple[str, ...]  # labels of entries still blank (never their values)


@dataclass(frozen=True)
class DossierStatusCheck:
    receipt_number: str
    permit_type: str
    stage: str
    status: str  # DossierStatus value
    promised_at: dt.datetime | None
    returned: ReturnHelp | None = None  # set while the dossier is back with the applicant
    permit: PermitCheck | None = None  # set once the permit is numbered

    @property
    def ready_to_collect(self) -> bool:
        return self.status == DossierStatus.ISSUED.value and self.permit is not None and self.permit.stands


def check_permit(session: Session, token: str, today: dt.date, tz: dt.tzinfo) -> PermitCheck | None:
    """What the permit printed (its snapshot, never today's records) and whether it still stands
    today: revoked, replaced by a correction, or past its validity."""
    successor, predecessor = aliased(Permit), aliased(Permit)
    row = session.execute(
        select(Permit.number, Permit.snapshot, Permit.issued_on, Permit.valid_until, Permit.revoked_at,
               successor.number.label("successor"), successor.token.label("successor_token"),
               predecessor.number.label("predecessor"))
        .outerjoin(successor, successor.supersedes_id == Permit.id)
        .outerjoin(predecessor, predecessor.id == Permit.supersedes_id)
        .where(Permit.token == token)
    ).first()
    if row is None:
        return None
    if row.successor is not None:
        standing = PermitStanding.SUPERSEDED
    elif row.revoked_at is not None:
        standing = PermitStanding.REVOKED
    elif row.valid_until is not None and row.valid_until < today:
        standing = PermitStanding.EXPIRED
    else:
        standing = PermitStanding.VALID
    printed = row.snapshot["paper"]
    revoked_on = as_utc(row.revoked_at).astimezone(tz).date() if row.revoked_at is not None else None
    return PermitCheck(row.number, printed["company_name"], printed["permit_type_name"], row.issued_on,
                       row.valid_until, standing, revoked_on, row.successor, row.successor_token, row.predecessor)


def check_dossier(session: Session, receipt_number: str, today: dt.date, tz: dt.tzinfo) -> DossierStatusCheck | None:
    row = session.execute(
        select(Dossier.id, Dossier.receipt_number, PermitType.name.label("type_name"), Stage.name.label("stage_name"),
               Dossier.status, Dossier.due_at, Permit.token)
        .join(PermitType, PermitType.id == Dossier.permit_type_id)
        .join(Stage, Stage.id == Dossier.stage_id)
        .outerjoin(Permit, Permit.dossier_id == Dossier.id)
        .where(Dossier.receipt_number == receipt_number.strip().upper())
    ).first()
    if row is None:
        return None
    final = row.status in (DossierStatus.REJECTED.value, DossierStatus.ARCHIVED.value)
    returned = _return_help(session, row.id) if row.status == DossierStatus.RETURNED.value else None
    permit = check_permit(session, row.token, today, tz) if row.token is not None else None
    return DossierStatusCheck(row.receipt_number, row.type_name, row.stage_name, row.status,
                              None if final else row.due_at, returned, permit)


def _return_help(session: Session, dossier_id: int) -> ReturnHelp:
    """The reason of the latest return, and what the engine's gate still finds missing at this
    stage (mandatory requirements due by it, the fields it names): the list the return letter
    printed, less what the office has verified since."""
    situation = load_situation(session, dossier_id)
    note = session.scalar(
        select(StageEvent.note)
        .where(StageEvent.dossier_id == dossier_id, StageEvent.action == Action.RETURN.value)
        .order_by(StageEvent.occurred_at.desc(), StageEvent.id.desc())
        .limit(1)
    )
    documents = unverified_requirements(situation.stage, situation.requirements,
                                        set(situation.verified_requirement_ids), situation.dossier.submitted_at)
    fields = empty_fields(situation.stage, situation.dossier)
    return ReturnHelp((note or "").partition(MISSING_MARK)[0].strip(), tuple(r.name for r in documents),
                      tuple(FIELD_CHECKS[name].label for name in fields))


# An uploaded copy to check: a signed permit is some hundred kilobytes; anything past this is not one.
CHECK_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


class UploadRefused(ValueError):
    """str(exc): an Indonesian message for whoever uploaded the file."""


@dataclass(frozen=True)
class SignatureState:
    """One signature found in an uploaded PDF, as the public page shows it."""

    intact: bool  # the signed bytes are as they were signed
    trusted: bool  # the certificate chains to a root this office trusts
    covers_whole_file: bool  # nothing was appended after the signature
    signer: str  # the name in the certificate (its subject when it names none)
    signed_at: dt.datetime | None  # office time
    summary: str  # Indonesian, from app.tte


@dataclass(frozen=True)
class UploadCheck:
    identical: bool  # byte for byte the file this office issued (SHA-256)
    signatures: tuple[SignatureState, ...]
    error: str | None  # the PDF could not be read as a signed PDF (app.tte's message)
    permit: PermitCheck  # whether the permit still stands

    @property
    def genuine(self) -> bool:
        """The issued file, untouched, signed by a trusted certificate, and the permit stands."""
        return (self.identical and bool(self.signatures)
                and all(s.intact and s.trusted and s.covers_whole_file for s in self.signatures)
                and self.permit.stands)


def permit_signature(session: Session, token: str) -> PermitSignature | None:
    """The signed PDF's record of the permit with this verification code, if it was signed."""
    return session.scalar(
        select(PermitSignature).join(Permit, Permit.id == PermitSignature.permit_id).where(Permit.token == token)
    )


def read_upload(stream, limit: int) -> bytes:  # noqa: ANN001 - a binary file object
    """The uploaded file's bytes, or UploadRefused for an empty, too large or non-PDF file. Reads at
    most limit + 1 bytes, whatever the client claims."""
    data = stream.read(limit + 1) if stream is not None else b""
    if not data:
        raise UploadRefused("Pilih berkas PDF izin yang akan diperiksa; berkas yang dikirim kosong.")
    if len(data) > limit:
        raise UploadRefused(f"Berkas terlalu besar: paling besar {max(1, limit // (1024 * 1024))} MB "
                            "untuk izin yang diperiksa.")
    if PDF_MAGIC not in data[:1024]:  # the PDF header may follow a little junk, as readers allow
        raise UploadRefused("Berkas yang dikirim bukan PDF. Unggah berkas PDF izin yang Anda terima.")
    return data


def check_upload(session: Session, token: str, data: bytes, trust: TrustSettings, today: dt.date,
                 tz: dt.tzinfo) -> UploadCheck | None:
    """Whether `data` is the permit's issued file, what each of its signatures says, and whether
    the permit still stands. None when no permit carries the token. The signatures are checked
    on their own (app.tte.check_pdf): a copy re-saved by a reader is no longer identical, yet
    its signature may still be intact and cover only what was signed."""
    permit = check_permit(session, token, today, tz)
    if permit is None:
        return None
    signature = permit_signature(session, token)
    identical = signature is not None and hashlib.sha256(data).hexdigest() == signature.sha256
    # The very file Loket signed: its certificate is judged as it stood when Loket recorded the
    # signature, so a B-B permit (no timestamp of its own) still checks once the certificate expires.
    found = check_pdf(data, trust, at=as_utc(signature.signed_at) if identical else None)
    states = tuple(
        SignatureState(s.intact, s.trusted, s.covers_whole_file, s.signer_name or s.signer_subject,
                       as_utc(s.signed_at).astimezone(tz) if s.signed_at is not None else None, s.summary)
        for s in found.signatures
    )
    return UploadCheck(identical, states, found.error, permit)

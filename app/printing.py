"""The office's papers for one dossier: gathers the data, has reports/ render it, logs the print.

No Flask here: the view passes the office settings in, so a job worker can print too. Papers are
always Indonesian and dated in the office's time zone, whatever language the officer's screen
uses. Every date printed comes from the record (received, issued), never from "today", so a
re-print gives the same paper.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from app import survey
from app.models import (
    Account,
    Document,
    Dossier,
    DossierStatus,
    Permit,
    PermitSignature,
    PermitType,
    PrintLog,
    Stage,
    StageEvent,
)
from app.models.account import role_names
from app.people import full_name
from app.regions import region_name
from app.sop.calendar import as_utc
from app.sop.intake import SUBMIT_ACTION
from app.sop.machine import MISSING_MARK, Action
from app.sop.numbering import DescribePermit, Numbered
from app.uploads import storage_path
from reports.papers import (
    InspectionReportPaper,
    Letterhead,
    PermitPaper,
    ReceiptPaper,
    ReturnLetterPaper,
    Signatory,
    Signer,
    render_inspection_report,
    render_permit,
    render_receipt,
    render_return_letter,
)


class Paper(str, enum.Enum):
    RECEIPT = "receipt"  # Tanda Terima Berkas (SOP step 5)
    RETURN_LETTER = "return_letter"  # Surat Pengembalian Berkas (step 6)
    INSPECTION_REPORT = "inspection_report"  # BAP Pemeriksaan Lapangan
    PERMIT = "permit"  # the permit itself


# File names staff see in their downloads folder.
FILE_NAMES = {
    Paper.RECEIPT: "tanda-terima",
    Paper.RETURN_LETTER: "surat-pengembalian",
    Paper.INSPECTION_REPORT: "bap-pemeriksaan-lapangan",
    Paper.PERMIT: "izin",
}

# The field inspection whose BAP this office prints, and the requirement its signed copy is filed under.
INSPECTION_STAGE = "PEMERIKSAAN_LAPANGAN"
INSPECTION_REPORT_REQUIREMENT = "BAP_PEMERIKSAAN_LAPANGAN"
# What an officer of a desk signs as; other roles (Kasi Perizinan, Kepala Dinas ...) sign as themselves.
SIGNING_TITLES = {"Front Office": "Petugas Front Office", "Back Office": "Petugas Back Office"}

VALID_WHILE_OPERATING = (
    "Berlaku selama pemegang izin menjalankan kegiatan usahanya dan memenuhi ketentuan peraturan "
    "perundang-undangan."
)


class PaperUnavailable(ValueError):
    """This paper cannot be printed for this dossier now; str(exc) says why, in Indonesian."""


@dataclass(frozen=True)
class Office:
    """What every paper needs from the office's settings."""

    letterhead: Letterhead
    signatory: Signatory
    paper_size: str
    timezone: str
    public_base_url: str  # e.g. https://loket.landakkab.go.id (no trailing slash)
    # Signs the SKM survey links (the app's SECRET_KEY); "" prints no survey link.
    survey_secret: str = field(default="", repr=False)
    # Where the documents and the signed permits are stored (app.uploads); "" when not configured.
    documents_dir: str = ""

    @classmethod
    def from_config(cls, config: Mapping, public_base_url: str) -> Office:
        return cls(
            letterhead=Letterhead(
                government=config["LETTERHEAD_GOVERNMENT"], agency=config["LETTERHEAD_AGENCY"],
                address=config["LETTERHEAD_ADDRESS"], contact=config["LETTERHEAD_CONTACT"],
                logo_file=config["LETTERHEAD_LOGO"], city=config["LETTERHEAD_CITY"],
            ),
            signatory=Signatory(
                position=config["SIGNATORY_POSITION"], name=config["SIGNATORY_NAME"],
                nip=config["SIGNATORY_NIP"], rank=config["SIGNATORY_RANK"],
            ),
            paper_size=config["PAPER_SIZE"],
            timezone=config["OFFICE_TIMEZONE"],
            public_base_url=(config.get("PUBLIC_BASE_URL") or public_base_url).rstrip("/"),
            survey_secret=config.get("SECRET_KEY") or "",
            documents_dir=config.get("DOCUMENTS_DIR") or "",
        )

    def status_url(self, receipt_number: str) -> str:
        return f"{self.public_base_url}/status?nomor={receipt_number}"

    def survey_url(self, dossier_id: int) -> str:
        """The SKM survey of a dossier (app.survey), or "" when the office has no secret to sign it."""
        return survey.survey_url(self.public_base_url, self.survey_secret, dossier_id) if self.survey_secret else ""

    def verification_url(self, token: str) -> str:
        return f"{self.public_base_url}/verifikasi/{token}"

    def day(self, value: dt.date | dt.datetime) -> str:
        if isinstance(value, dt.datetime):
            return format_datetime(as_utc(value), "d MMMM yyyy", tzinfo=ZoneInfo(self.timezone), locale="id")
        return format_date(value, "d MMMM yyyy", locale="id")

    def moment(self, value: dt.datetime) -> str:
        return format_datetime(as_utc(value), "d MMMM yyyy HH.mm 'WIB'", tzinfo=ZoneInfo(self.timezone), locale="id")


def print_paper(
    session: Session, dossier_id: int, paper: Paper, office: Office, actor_id: int | None, now: dt.datetime
) -> bytes:
    """Renders the paper and logs the print (who, when, hash of the bytes). The caller commits."""
    dossier = session.scalar(
        select(Dossier)
        .where(Dossier.id == dossier_id)
        .options(selectinload(Dossier.company), selectinload(Dossier.applicant), selectinload(Dossier.permit_type))
    )
    if dossier is None:
        raise PaperUnavailable("Berkas tidak ditemukan.")
    reason = unavailable(session, dossier, paper)
    if reason is not None:
        raise PaperUnavailable(reason)
    pdf = _RENDERERS[paper](session, dossier, office, actor_id)
    session.execute(insert(PrintLog), [dict(
        dossier_id=dossier.id, paper=paper.value, printed_by_id=actor_id, printed_at=now,
        sha256=hashlib.sha256(pdf).hexdigest(),
    )])
    return pdf


def available_papers(session: Session, dossier_id: int) -> list[Paper]:
    """The papers print_paper would render for this dossier now, in the order the SOP needs them."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        return []
    return [paper for paper in Paper if unavailable(session, dossier, paper) is None]


def unavailable(session: Session, dossier: Dossier, paper: Paper) -> str | None:
    """Why this paper cannot be printed for this dossier now (Indonesian), or None if it can."""
    returned = paper is not Paper.RETURN_LETTER or _event(session, dossier.id, Action.RETURN.value, latest=True) is not None
    permit = session.scalar(select(Permit).where(Permit.dossier_id == dossier.id)) if paper is Paper.PERMIT else None
    return refusal(dossier, paper, returned=returned, permit=permit)


def refusal(dossier: Dossier, paper: Paper, *, returned: bool, permit: Permit | None) -> str | None:
    """unavailable() for a caller that has read the facts already: was the dossier ever returned,
    and its permit (only read for Paper.PERMIT)."""
    if paper is Paper.RETURN_LETTER and not returned:
        return "Berkas ini belum pernah dikembalikan ke pemohon; tidak ada surat pengembalian."
    if paper is Paper.INSPECTION_REPORT and dossier.status == DossierStatus.REJECTED.value:
        return "Berkas ini ditolak; tidak ada pemeriksaan lapangan."
    if paper is Paper.PERMIT:
        if permit is None:
            return "Izin berkas ini belum terbit (belum diberi nomor); izin belum dapat dicetak."
        if permit.revoked_at is not None:
            return "Izin ini sudah dicabut; izin yang dicabut tidak dicetak lagi."
    return None


def _received_documents(session: Session, dossier_id: int) -> tuple[str, ...]:
    documents = session.scalars(
        select(Document).where(Document.dossier_id == dossier_id)
        .options(selectinload(Document.requirement_type))
        .order_by(Document.uploaded_at, Document.id)
    )
    return tuple(f"{doc.requirement_type.name} ({doc.original_filename})" for doc in documents)


def _event(
    session: Session, dossier_id: int, action: str, latest: bool, from_stage_id: int | None = None
) -> StageEvent | None:
    order = (StageEvent.occurred_at.desc(), StageEvent.id.desc()) if latest else (StageEvent.occurred_at, StageEvent.id)
    stmt = select(StageEvent).where(StageEvent.dossier_id == dossier_id, StageEvent.action == action)
    if from_stage_id is not None:
        stmt = stmt.where(StageEvent.from_stage_id == from_stage_id)
    return session.scalar(
        stmt.options(
            selectinload(StageEvent.actor), selectinload(StageEvent.from_stage), selectinload(StageEvent.to_stage)
        )
        .order_by(*order)
        .limit(1)
    )


def signer(session: Session, account: Account | None, role: str | None) -> Signer:
    """The officer as a paper's signature prints them, signing as `role` (the role of the stage
    they acted at; without one, a role of their own). Nobody known (imported records): the role
    alone, with the name left to be written in."""
    if role is None and account is not None:
        role = min(role_names(session, account.id) - {"Admin"}, default=None)
    title = SIGNING_TITLES.get(role, role) if role else "Petugas"
    if account is None:
        return Signer(title=title)
    return Signer(title=title, name=full_name(account), nip=account.nip or "", position=account.position or "")


def _stage(dossier: Dossier, code: str) -> Stage | None:
    return next((stage for stage in dossier.permit_type.stages if stage.code == code), None)


def _receipt(session: Session, dossier: Dossier, office: Office, actor_id: int | None) -> bytes:  # noqa: ARG001
    # Signed by the officer who received the file: the one who opened the dossier. An application
    # made on the portal was opened by the applicant: its signature line waits for the counter.
    submitted = _event(session, dossier.id, SUBMIT_ACTION, latest=False)
    receiver = submitted.actor if submitted and not dossier.submitted_online else None
    first = min(dossier.permit_type.stages, key=lambda stage: stage.seq, default=None)
    stage = (submitted.to_stage if submitted else None) or first
    return render_receipt(
        ReceiptPaper(
            receipt_number=dossier.receipt_number,
            received_at=office.moment(dossier.submitted_at),
            applicant_name=dossier.applicant.full_name,
            applicant_nik=dossier.applicant.nik,
            company_name=dossier.company.name,
            company_nib=dossier.company.nib,
            permit_type_name=dossier.permit_type.name,
            documents=_received_documents(session, dossier.id),
            promised_on=office.day(dossier.due_at) if dossier.due_at else "-",
            status_url=office.status_url(dossier.receipt_number),
            survey_url=office.survey_url(dossier.id),
            officer=signer(session, receiver, stage.role_name if stage else None),
            fee_text="Tanpa Biaya" if not dossier.permit_type.fee else f"Rp{dossier.permit_type.fee:,.0f}".replace(",", "."),
        ),
        office.letterhead,
        office.paper_size,
    )


def _return_letter(session: Session, dossier: Dossier, office: Office, actor_id: int | None) -> bytes:  # noqa: ARG001
    returned = _event(session, dossier.id, Action.RETURN.value, latest=True)  # unavailable() saw one
    reason, _, missing = (returned.note or "").partition(MISSING_MARK)
    return render_return_letter(
        ReturnLetterPaper(
            receipt_number=dossier.receipt_number,
            letter_date=office.day(returned.occurred_at),
            applicant_name=dossier.applicant.full_name,
            company_name=dossier.company.name,
            permit_type_name=dossier.permit_type.name,
            missing=tuple(item for item in missing.split("; ") if item),
            reason=reason.strip(),
            # Signed by the officer who returned it, as the officer of the stage it was returned from.
            officer=signer(session, returned.actor, returned.from_stage.role_name if returned.from_stage else None),
            status_url=office.status_url(dossier.receipt_number),
        ),
        office.letterhead,
        office.paper_size,
    )


def _inspector(session: Session, dossier: Dossier, actor_id: int | None) -> Signer:
    """Who signs the BAP: the officer printing it when they hold the inspection's role (they take
    it to the site); otherwise the one who moved the dossier on from the inspection; otherwise
    the line is left to be written in."""
    stage = _stage(dossier, INSPECTION_STAGE)
    role = stage.role_name if stage else "Tim Teknis"
    if actor_id is not None and role in role_names(session, actor_id):
        return signer(session, session.get(Account, actor_id), role)
    inspected = (
        _event(session, dossier.id, Action.ADVANCE.value, latest=True, from_stage_id=stage.id) if stage else None
    )
    return signer(session, inspected.actor if inspected else None, role)


def _inspection_report(session: Session, dossier: Dossier, office: Office, actor_id: int | None) -> bytes:
    company = dossier.company
    slot = next(
        (r.name for r in dossier.permit_type.requirements if r.code == INSPECTION_REPORT_REQUIREMENT),
        "Berita Acara Pemeriksaan Lapangan",
    )
    return render_inspection_report(
        InspectionReportPaper(
            receipt_number=dossier.receipt_number,
            permit_type_name=dossier.permit_type.name,
            company_name=company.name,
            company_address=company.address or "",
            site_address=dossier.site_address or "",
            kecamatan=region_name(company.kecamatan_code),
            desa=region_name(company.desa_code),
            applicant_name=dossier.applicant.full_name,
            applicant_phone=dossier.applicant.phone or "",
            vehicle_capacity=_count(dossier.vehicle_capacity, "kendaraan"),
            site_area=_count(dossier.site_area_m2, "m²"),
            inspector=_inspector(session, dossier, actor_id),
            requirement_name=slot,
        ),
        office.letterhead,
        office.paper_size,
    )


def _permit(session: Session, dossier: Dossier, office: Office, actor_id: int | None) -> bytes:  # noqa: ARG001
    # Frozen at issue: the permit's own snapshot, whoever prints it; signed electronically, the
    # signed file itself (app.signing), never a fresh render in its place.
    permit = session.scalar(select(Permit).where(Permit.dossier_id == dossier.id))  # unavailable() saw it
    signed = signed_permit_file(session, permit.id, office.documents_dir)
    return signed if signed is not None else render_permit(*printed_permit(permit.snapshot))


MSG_SIGNED_FILE_MISSING = (
    "Berkas izin bertanda tangan elektronik tidak ditemukan atau tidak utuh di penyimpanan Loket; "
    "hubungi administrator."
)


def signed_permit_file(session: Session, permit_id: int, documents_dir: str | Path) -> bytes | None:
    """The permit's electronically signed PDF as stored, checked against its recorded hash; None
    when it was not signed electronically. PaperUnavailable when the file is gone or altered."""
    signature = session.scalar(select(PermitSignature).where(PermitSignature.permit_id == permit_id))
    if signature is None:
        return None
    try:
        assert documents_dir, "DOCUMENTS_DIR is not configured: the signed permits cannot be read"
        data = storage_path(Path(documents_dir), signature.storage_key).read_bytes()
    except (OSError, ValueError):
        raise PaperUnavailable(MSG_SIGNED_FILE_MISSING) from None
    if hashlib.sha256(data).hexdigest() != signature.sha256:
        raise PaperUnavailable(MSG_SIGNED_FILE_MISSING)
    return data


def permit_paper(permit: Numbered | Permit, dossier: Dossier, permit_type: PermitType, office: Office) -> PermitPaper:
    """The permit as it is printed, from the records as they are at issue."""
    company = dossier.company
    return PermitPaper(
        permit_number=permit.number,
        permit_type_name=permit_type.name,
        legal_bases=tuple(permit_type.legal_bases),
        company_name=company.name,
        legal_form=company.legal_form,  # the code (PT, CV): labels follow the screen's language
        nib=company.nib,
        npwp=company.npwp or "",
        company_address=company.address or "",
        responsible_person=dossier.applicant.full_name,
        site_address=dossier.site_address or "",
        kecamatan=region_name(company.kecamatan_code),
        desa=region_name(company.desa_code),
        vehicle_capacity=_count(dossier.vehicle_capacity, "kendaraan"),
        site_area=_count(dossier.site_area_m2, "m²"),
        issued_on=office.day(permit.issued_on),
        validity=f"Sampai dengan {office.day(permit.valid_until)}" if permit.valid_until else VALID_WHILE_OPERATING,
        verification_url=office.verification_url(permit.token),
        signatory=office.signatory,
        city=office.letterhead.city,
    )


SNAPSHOT_VERSION = 1


def permit_snapshot(paper: PermitPaper, letterhead: Letterhead, paper_size: str) -> dict[str, Any]:
    """Everything a permit prints, as JSON: kept with its number, read by every re-print."""
    return {"version": SNAPSHOT_VERSION, "paper": asdict(paper), "letterhead": asdict(letterhead),
            "paper_size": paper_size}


def printed_permit(snapshot: dict[str, Any]) -> tuple[PermitPaper, Letterhead, str]:
    """render_permit's arguments from a permit's snapshot: the same paper, byte for byte."""
    assert snapshot.get("version") == SNAPSHOT_VERSION, "a permit snapshot Loket cannot read"
    paper = dict(snapshot["paper"])
    paper["legal_bases"] = tuple(paper["legal_bases"])
    paper["signatory"] = Signatory(**paper["signatory"])
    return PermitPaper(**paper), Letterhead(**snapshot["letterhead"]), snapshot["paper_size"]


def describe_permits(office: Office) -> DescribePermit:
    """What numbering freezes with each permit this office issues (app.sop.numbering)."""

    def describe(session: Session, dossier: Dossier, permit_type: PermitType, numbered: Numbered) -> dict[str, Any]:
        return permit_snapshot(permit_paper(numbered, dossier, permit_type, office), office.letterhead,
                               office.paper_size)

    return describe


def _count(value: int | None, unit: str) -> str:
    return f"{value:,} {unit}".replace(",", ".") if value is not None else "-"


_RENDERERS = {
    Paper.RECEIPT: _receipt,
    Paper.RETURN_LETTER: _return_letter,
    Paper.INSPECTION_REPORT: _inspection_report,
    Paper.PERMIT: _permit,
}

"""The applicant's side of the records (SOP 76 steps 3-4 and the answers to a return): what is
whose, the home's rows, submitting an application, the public history of a dossier, and the
papers the applicant sends. No Flask: the portal's views (app.views.portal) check the form and
store the files, then call these with the session; the caller commits.

What an applicant owns is decided here, by rows: the dossiers whose applicant is theirs, the
companies of those dossiers plus their own, and the files their account uploaded to those
dossiers. Anything else is NotTheirs, which the views answer with a 404.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import changes_by
from app.documents import Attached, DocumentRefused, attach
from app.models import Applicant, Company, Document, Dossier, DossierStatus, Permit, PermitType, Stage, StageEvent
from app.printing import INSPECTION_REPORT_REQUIREMENT
from app.public import DossierStatusCheck, check_dossier
from app.sop.calendar import WorkingCalendar
from app.sop.intake import SUBMIT_ACTION, NoStagesError, open_dossier
from app.sop.machine import FINAL_STATUSES, MISSING_MARK, Action
from app.uploads import StoredFile

# The applicant reads the office's words for a dossier's state, never the staff's.
STATUS_LABELS = {
    DossierStatus.IN_PROGRESS.value: "Sedang diproses",
    DossierStatus.RETURNED.value: "Dikembalikan: lengkapi berkas",
    DossierStatus.REJECTED.value: "Ditolak",
    DossierStatus.ISSUED.value: "Izin terbit",
    DossierStatus.ARCHIVED.value: "Selesai",
}
READY_TO_COLLECT = "Izin siap diambil"
SLOT_STATES = {"missing": "Belum diunggah", "uploaded": "Diunggah", "verified": "Diverifikasi"}

MSG_NOT_ANSWERABLE = ("Berkas sedang diproses petugas: dokumen dari portal hanya dapat dikirim sebelum Front Office "
                      "memeriksa berkas, atau ketika berkas dikembalikan kepada Anda.")
MSG_FINAL = "Berkas sudah selesai atau ditolak; dokumen tidak dapat dikirim lagi."
MSG_NOT_RETURNED = "Berkas tidak sedang dikembalikan kepada Anda; tidak ada kelengkapan yang perlu dikirim."
MSG_SLOT_UNKNOWN = "Persyaratan ini tidak diunggah pemohon untuk jenis izin berkas ini."
MSG_SLOT_VERIFIED = "Dokumen untuk persyaratan ini sudah diverifikasi petugas; tidak perlu diunggah lagi."
MSG_NIB_TAKEN = ("Perusahaan dengan NIB ini sudah terdaftar di kantor dengan data yang berbeda dari isian Anda. "
                 "Silakan datang ke Front Office dengan dokumen perusahaan untuk menautkannya ke akun Anda.")
MSG_NO_STAGES = "Jenis izin ini belum dapat diajukan (SOP-nya belum dimuat); hubungi Front Office."
MSG_NO_TYPE = "Pilih jenis izin yang tersedia."
SUBMIT_REASON = "Diajukan pemohon secara daring (portal pemohon)."
RESUBMIT_REASON = "Pemohon mengirim kelengkapan berkas dari portal."


class PortalRefused(ValueError):
    """Something the applicant asked that cannot be done; str(exc) is Indonesian for them."""


class NotTheirs(LookupError):
    """An id that is not the applicant's (or does not exist): answered as if it did not exist."""


# ---------------------------------------------------------------------------- what is whose


def own_company_ids(session: Session, applicant: Applicant) -> set[int]:
    """The companies of the applicant's dossiers, and their own company."""
    ids = set(session.scalars(select(Dossier.company_id).where(Dossier.applicant_id == applicant.id).distinct()))
    return ids | ({applicant.company_id} if applicant.company_id else set())


def own_companies(session: Session, applicant: Applicant) -> list[Company]:
    theirs = select(Dossier.company_id).where(Dossier.applicant_id == applicant.id)
    return list(session.scalars(
        select(Company).where(or_(Company.id.in_(theirs), Company.id == applicant.company_id))
        .order_by(Company.name, Company.id)
    ))


def own_dossier(session: Session, applicant: Applicant, dossier_id: int) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id, Dossier.applicant_id == applicant.id))
    if dossier is None:
        raise NotTheirs(dossier_id)
    return dossier


def own_document(session: Session, applicant: Applicant, document_id: int) -> Document:
    """A file the applicant's account uploaded to one of their dossiers (the office's own scans
    and reports stay the office's)."""
    document = session.scalar(
        select(Document).join(Dossier, Dossier.id == Document.dossier_id)
        .where(Document.id == document_id, Dossier.applicant_id == applicant.id,
               Document.uploaded_by_id == applicant.account_id)
    )
    if document is None:
        raise NotTheirs(document_id)
    return document


# ---------------------------------------------------------------------------- the home


@dataclass(frozen=True)
class HomeRow:
    id: int
    receipt_number: str
    permit_type: str
    stage: str
    status: str
    status_label: str
    submitted_at: dt.datetime
    due_at: dt.datetime | None  # None once the dossier is finished or rejected
    mark: str  # what the applicant should notice ("" when nothing)
    returned: bool


def home_rows(session: Session, applicant_id: int) -> list[HomeRow]:
    """The applicant's dossiers, newest first: one query through Dossier.applicant_id's index."""
    rows = session.execute(
        select(Dossier.id, Dossier.receipt_number, Dossier.status, Dossier.submitted_at, Dossier.due_at,
               PermitType.name.label("type_name"), Stage.name.label("stage_name"), Stage.issues_permit,
               Permit.revoked_at)
        .join(PermitType, PermitType.id == Dossier.permit_type_id)
        .join(Stage, Stage.id == Dossier.stage_id)
        .outerjoin(Permit, Permit.dossier_id == Dossier.id)
        .where(Dossier.applicant_id == applicant_id)
        .order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
    ).all()
    return [
        HomeRow(row.id, row.receipt_number, row.type_name, row.stage_name, row.status,
                STATUS_LABELS.get(row.status, row.status), row.submitted_at,
                None if row.status in FINAL_STATUSES else row.due_at,
                _mark(row.status, ready=_ready(row.status, row.issues_permit, row.revoked_at)),
                row.status == DossierStatus.RETURNED.value)
        for row in rows
    ]


def _ready(status: str, at_numbering: bool, revoked_at: dt.datetime | None) -> bool:
    """Issued and past the numbering stage (at the handover): the permit waits at the counter."""
    return status == DossierStatus.ISSUED.value and not at_numbering and revoked_at is None


def _mark(status: str, *, ready: bool) -> str:
    if ready:
        return READY_TO_COLLECT
    if status in (DossierStatus.RETURNED.value, DossierStatus.ISSUED.value):
        return STATUS_LABELS[status]
    return ""


# ---------------------------------------------------------------------------- applying


def open_permit_types(session: Session) -> list[PermitType]:
    """The permit types an applicant may apply for: those whose SOP is loaded."""
    return list(session.scalars(
        select(PermitType).where(select(Stage.id).where(Stage.permit_type_id == PermitType.id).exists())
        .order_by(PermitType.name)
    ))


def applicant_slots(permit_type: PermitType) -> list:
    """The permit type's requirements the applicant hands in, in SOP order: all but the office's
    own report of the field inspection."""
    return [r for r in permit_type.requirements if r.code != INSPECTION_REPORT_REQUIREMENT]


@dataclass(frozen=True)
class CompanyData:
    """A new company as the applicant typed it, already checked and normalised by the form."""

    name: str
    legal_form: str
    nib: str
    npwp: str
    address: str
    kecamatan_code: str
    desa_code: str
    deed_number: str | None = None
    deed_date: dt.date | None = None
    sk_kemenkumham: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Application:
    permit_type_id: int
    company_id: int | None  # one of theirs; None with new_company
    new_company: CompanyData | None
    position: str | None = None
    site_address: str | None = None
    site_area_m2: int | None = None
    vehicle_capacity: int | None = None


@dataclass(frozen=True)
class Submitted:
    dossier: Dossier
    missing: tuple[str, ...]  # mandatory papers not uploaded: brought to the counter instead


def submit(
    session: Session, applicant: Applicant, application: Application, papers: Sequence[tuple[int, StoredFile]], *,
    now: dt.datetime, calendar: WorkingCalendar,
) -> Submitted:
    """Opens the dossier through the SOP as the counter does (app.sop.intake.open_dossier: receipt
    number, first stage, promise, the submit event), as the applicant's account, with the papers in
    their slots. Raises PortalRefused, DocumentRefused or NotTheirs; the caller then rolls back."""
    permit_type = session.get(PermitType, application.permit_type_id)
    if permit_type is None:
        raise PortalRefused(MSG_NO_TYPE)
    slots = {r.id: r for r in applicant_slots(permit_type)}
    if any(requirement_id not in slots for requirement_id, _ in papers):
        raise PortalRefused(MSG_SLOT_UNKNOWN)
    account_id = applicant.account_id
    with session.no_autoflush:
        company = _company(session, applicant, application)
        dossier = Dossier(
            company=company, applicant=applicant, site_address=application.site_address,
            site_area_m2=application.site_area_m2, vehicle_capacity=application.vehicle_capacity,
            submitted_online=True,
        )
        try:
            open_dossier(dossier, permit_type, now, calendar, account_id)
        except NoStagesError as exc:
            raise PortalRefused(MSG_NO_STAGES) from exc
    # The applicant's own record follows the application (a changed record of a party needs a reason).
    with changes_by(session, reason=SUBMIT_REASON):
        if company is not applicant.company:
            applicant.company = company
        if application.position:
            applicant.position = application.position
        session.add(dossier)
        session.flush()
    for requirement_id, stored in papers:
        attach(session, dossier, requirement_id, stored, account_id)
    handed_in = {requirement_id for requirement_id, _ in papers}
    missing = tuple(r.name for r in slots.values() if r.is_mandatory and r.id not in handed_in)
    return Submitted(dossier, missing)


def _company(session: Session, applicant: Applicant, application: Application) -> Company:
    if application.new_company is None:
        if application.company_id not in own_company_ids(session, applicant):
            raise NotTheirs(application.company_id)
        return session.get(Company, application.company_id)
    data = application.new_company
    known = session.scalar(select(Company).where(Company.nib == data.nib))
    if known is not None:
        # The NPWP is the proof that this is the applicant's company: kept as the office has it.
        if known.npwp and known.npwp == data.npwp:
            return known
        raise PortalRefused(MSG_NIB_TAKEN)
    company = Company(**{key: getattr(data, key) for key in data.__dataclass_fields__})
    session.add(company)
    return company


# ---------------------------------------------------------------------------- tracking


@dataclass(frozen=True)
class HistoryRow:
    occurred_at: dt.datetime
    action: str  # the public word: diajukan, dilanjutkan, dikembalikan ...
    stage: str
    reason: str = ""  # a return's reason, written for the applicant
    missing: tuple[str, ...] = ()  # a return's missing items, as the return letter printed them


@dataclass(frozen=True)
class FileRow:
    id: int
    filename: str
    uploaded_at: dt.datetime


@dataclass(frozen=True)
class Slot:
    requirement_id: int
    name: str
    mandatory: bool
    state: str  # missing | uploaded | verified
    files: tuple[FileRow, ...]  # the applicant's own uploads
    can_upload: bool

    @property
    def state_label(self) -> str:
        return SLOT_STATES[self.state]


@dataclass(frozen=True)
class Tracking:
    dossier: Dossier
    permit_type: str
    stage: str
    status_label: str
    history: tuple[HistoryRow, ...]
    slots: tuple[Slot, ...]
    public: DossierStatusCheck  # promise, a return's help, the permit's standing (app.public)
    answer_refusal: str | None  # why the applicant cannot send papers now (None: they can)
    ready_to_collect: bool
    permit_downloadable: bool


_ACTION_WORDS = {
    SUBMIT_ACTION: "Diajukan", Action.ADVANCE.value: "Dilanjutkan", Action.RETURN.value: "Dikembalikan",
    Action.RESUME.value: "Dilanjutkan kembali", Action.REJECT.value: "Ditolak",
}


def answer_refusal(dossier: Dossier, first_stage_id: int) -> str | None:
    """Papers come from the portal while the dossier waits for the Front Office's first check
    (still at its first stage) or is back with the applicant; otherwise why not."""
    if dossier.status in FINAL_STATUSES:
        return MSG_FINAL
    if dossier.status == DossierStatus.RETURNED.value:
        return None
    if dossier.status == DossierStatus.IN_PROGRESS.value and dossier.stage_id == first_stage_id:
        return None
    return MSG_NOT_ANSWERABLE


def tracking(session: Session, dossier: Dossier, today: dt.date, tz: dt.tzinfo) -> Tracking:
    """The dossier page of the portal: public words only (stage names, the action's word, a
    return's reason and missing papers), never an officer or an internal note."""
    permit_type = dossier.permit_type
    stages = {s.id: s for s in permit_type.stages}
    events = session.scalars(
        select(StageEvent).where(StageEvent.dossier_id == dossier.id).order_by(StageEvent.occurred_at, StageEvent.id)
    ).all()
    history = tuple(_history_row(event, stages) for event in events)
    documents = session.scalars(
        select(Document).where(Document.dossier_id == dossier.id).order_by(Document.uploaded_at, Document.id)
    ).all()
    refusal = answer_refusal(dossier, permit_type.stages[0].id)
    slots = tuple(_slot(r, documents, dossier.applicant.account_id, refusal) for r in applicant_slots(permit_type))
    public = check_dossier(session, dossier.receipt_number, today, tz)
    stage = stages[dossier.stage_id]
    permit = public.permit
    revoked = permit is not None and permit.revoked_on is not None
    return Tracking(
        dossier, permit_type.name, stage.name, STATUS_LABELS.get(dossier.status, dossier.status), history, slots,
        public, refusal, _ready(dossier.status, stage.issues_permit, permit.revoked_on if permit else None),
        permit is not None and not revoked,
    )


def _history_row(event: StageEvent, stages: dict[int, Stage]) -> HistoryRow:
    to_stage = stages.get(event.to_stage_id) if event.to_stage_id else None
    from_stage = stages.get(event.from_stage_id) if event.from_stage_id else None
    word = _ACTION_WORDS.get(event.action, event.action)
    if event.action == Action.ADVANCE.value and to_stage is not None and to_stage.issues_permit:
        word = "Izin terbit"
    if event.action == Action.ADVANCE.value and to_stage is None:
        return HistoryRow(event.occurred_at, "Selesai", from_stage.name if from_stage else "")
    stage = (to_stage or from_stage).name if (to_stage or from_stage) else ""
    if event.action != Action.RETURN.value:
        return HistoryRow(event.occurred_at, word, stage)
    reason, _, missing = (event.note or "").partition(MISSING_MARK)
    return HistoryRow(event.occurred_at, word, stage, reason.strip(), tuple(i for i in missing.split("; ") if i))


def _slot(requirement, documents: Sequence[Document], account_id: int | None, refusal: str | None) -> Slot:  # noqa: ANN001
    mine = [d for d in documents if d.requirement_type_id == requirement.id]
    verified = any(d.verified_at is not None for d in mine)
    state = "verified" if verified else ("uploaded" if mine else "missing")
    own = tuple(FileRow(d.id, d.original_filename, d.uploaded_at) for d in mine
                if account_id is not None and d.uploaded_by_id == account_id)
    return Slot(requirement.id, requirement.name, requirement.is_mandatory, state, own,
                refusal is None and not verified)


# ---------------------------------------------------------------------------- answering


def upload(session: Session, applicant: Applicant, dossier: Dossier, requirement_id: int,
           stored: StoredFile) -> Attached:
    """One paper into its slot, while the dossier is answerable and the slot not yet verified."""
    refusal = answer_refusal(dossier, dossier.permit_type.stages[0].id)
    if refusal:
        raise PortalRefused(refusal)
    if requirement_id not in {r.id for r in applicant_slots(dossier.permit_type)}:
        raise PortalRefused(MSG_SLOT_UNKNOWN)
    verified = session.scalar(select(Document.id).where(
        Document.dossier_id == dossier.id, Document.requirement_type_id == requirement_id,
        Document.verified_at.is_not(None)).limit(1))
    if verified is not None:
        raise PortalRefused(MSG_SLOT_VERIFIED)
    try:
        return attach(session, dossier, requirement_id, stored, applicant.account_id)
    except DocumentRefused as exc:
        raise PortalRefused(str(exc)) from exc


def resubmit(session: Session, dossier: Dossier, now: dt.datetime) -> None:
    """"Kirim kelengkapan": the Front Office sees the returned dossier is ready to resume (the
    engine's RESUME clears the mark). Audited as the applicant's change."""
    if dossier.status != DossierStatus.RETURNED.value:
        raise PortalRefused(MSG_NOT_RETURNED)
    with changes_by(session, reason=RESUBMIT_REASON):
        dossier.resubmitted_at = now
        session.flush()

"""The papers the office prints: data in (frozen dataclasses), PDF bytes out.

Every value is escaped by Jinja before xhtml2pdf sees it, so a company called `<b>X</b>` is
printed as those characters; whatever markup still got through would meet reports.pdf.POLICY.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.pdf import page_size_css, render_pdf
from reports.qr import qr_data_uri

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# autoescape=True rather than select_autoescape: user data is escaped in every template,
# whatever its file name. StrictUndefined turns a misspelt field into an error, not a blank.
TEMPLATES = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined)


@dataclass(frozen=True)
class Letterhead:
    """Kop surat. logo_file is a file name inside reports/assets; None prints no logo."""

    government: str
    agency: str
    address: str
    contact: str
    logo_file: str | None
    city: str


@dataclass(frozen=True)
class Signatory:
    position: str
    name: str
    nip: str
    rank: str


@dataclass(frozen=True)
class Signer:
    """The officer who signs a paper for the act they did: what they sign as (the stage's role),
    their name, NIP and jabatan. An empty name leaves the line to be written in by hand."""

    title: str
    name: str = ""
    nip: str = ""
    position: str = ""


@dataclass(frozen=True)
class ElectronicStamp:
    """The visible mark of an electronic signature (TTE), printed in place of the wet-signature
    block: who signed, as what, and when (already written in Indonesian)."""

    name: str
    nip: str
    position: str
    signed_at: str


@dataclass(frozen=True)
class ReceiptPaper:
    """Tanda Terima Berkas (SOP step 5). Dates arrive already written in Indonesian."""

    receipt_number: str
    received_at: str
    applicant_name: str
    applicant_nik: str
    company_name: str
    company_nib: str
    permit_type_name: str
    documents: tuple[str, ...]
    promised_on: str
    status_url: str
    officer: Signer  # the officer who received the file and opened the dossier
    fee_text: str
    survey_url: str = ""  # the SKM survey (PermenPAN-RB 14/2017), open once the permit is handed over


@dataclass(frozen=True)
class ReturnLetterPaper:
    """Surat Pengembalian Berkas (SOP step 6)."""

    receipt_number: str
    letter_date: str
    applicant_name: str
    company_name: str
    permit_type_name: str
    missing: tuple[str, ...]
    reason: str
    officer: Signer  # the officer who returned the file
    status_url: str


@dataclass(frozen=True)
class InspectionReportPaper:
    """BAP Pemeriksaan Lapangan: pre-filled with the application, the rest filled by hand. The
    team signs this very paper and files it under the requirement named here."""

    receipt_number: str
    permit_type_name: str
    company_name: str
    company_address: str
    site_address: str
    kecamatan: str
    desa: str
    applicant_name: str
    applicant_phone: str
    vehicle_capacity: str
    site_area: str
    inspector: Signer  # the Tim Teknis officer inspecting; the team's other members write themselves in
    requirement_name: str  # the upload slot the signed paper goes to


@dataclass(frozen=True)
class PermitPaper:
    """The permit: KEPUTUSAN ... TENTANG <permit type name>."""

    permit_number: str
    permit_type_name: str
    legal_bases: tuple[str, ...]
    company_name: str
    legal_form: str
    nib: str
    npwp: str
    company_address: str
    responsible_person: str
    site_address: str
    kecamatan: str
    desa: str
    vehicle_capacity: str
    site_area: str
    issued_on: str
    validity: str
    verification_url: str
    signatory: Signatory
    city: str


def _html(template: str, size: str, **context: object) -> str:
    return TEMPLATES.get_template(template).render(page_size=page_size_css(size), **context)


def render_receipt(paper: ReceiptPaper, letterhead: Letterhead, size: str = "F4") -> bytes:
    html = _html("receipt.html", size, paper=paper, letterhead=letterhead, qr=qr_data_uri(paper.status_url),
                 survey_qr=qr_data_uri(paper.survey_url) if paper.survey_url else None)
    return render_pdf(html, size)


def render_return_letter(paper: ReturnLetterPaper, letterhead: Letterhead, size: str = "F4") -> bytes:
    html = _html("return_letter.html", size, paper=paper, letterhead=letterhead, qr=qr_data_uri(paper.status_url))
    return render_pdf(html, size)


def render_inspection_report(paper: InspectionReportPaper, letterhead: Letterhead, size: str = "F4") -> bytes:
    return render_pdf(_html("inspection_report.html", size, paper=paper, letterhead=letterhead), size)


def permit_html(
    paper: PermitPaper, letterhead: Letterhead, size: str = "F4", stamp: ElectronicStamp | None = None
) -> str:
    """The HTML render_permit renders (the benchmark feeds it to bare xhtml2pdf too)."""
    return _html("permit.html", size, paper=paper, letterhead=letterhead, qr=qr_data_uri(paper.verification_url),
                 stamp=stamp)


def render_permit(
    paper: PermitPaper, letterhead: Letterhead, size: str = "F4", stamp: ElectronicStamp | None = None
) -> bytes:
    """The permit; with `stamp`, the electronic signature's mark instead of the block signed by hand
    (the PDF is then signed, app.tte)."""
    return render_pdf(permit_html(paper, letterhead, size, stamp), size)

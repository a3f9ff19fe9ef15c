"""The printed papers: what they say, on what paper, what their QR codes hold, and that
rendering them reaches no network and reads no file outside reports/assets and reports/templates.

No Flask app: reports/ is pure, data in and bytes out.
"""
from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pypdf
import pytest
import zxingcpp

from reports.papers import (
    TEMPLATES_DIR,
    permit_html,
    render_inspection_report,
    render_permit,
    render_receipt,
    render_return_letter,
)
from reports.pdf import ASSETS_DIR, PaperRenderError, render_pdf
from tests.paper_samples import INSPECTION, LETTERHEAD, PERMIT, RECEIPT, RETURN_LETTER, STATUS_URL, VERIFICATION_URL

# (renderer, paper, the URL its QR code holds, or None for a paper without one)
PAPERS: dict[str, tuple[Callable[..., bytes], object, str | None]] = {
    "receipt": (render_receipt, RECEIPT, STATUS_URL),
    "return_letter": (render_return_letter, RETURN_LETTER, STATUS_URL),
    "inspection_report": (render_inspection_report, INSPECTION, None),
    "permit": (render_permit, PERMIT, VERIFICATION_URL),
}


def flat(text: str) -> str:
    """Whitespace collapsed: a value wrapped over two lines still reads as one."""
    return " ".join(text.split())


def pages(pdf: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def text_of(pdf: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in pages(pdf)))


def qr_codes(pdf: bytes) -> list[zxingcpp.Barcode]:
    """Every QR code found in the images embedded in the PDF (the logo decodes to nothing)."""
    return [
        code
        for page in pages(pdf)
        for image in page.images
        for code in zxingcpp.read_barcodes(image.image, formats=zxingcpp.BarcodeFormat.QRCode)
    ]


# --- What each paper says


def test_receipt_shows_number_date_people_permit_documents_and_promise() -> None:
    text = text_of(render_receipt(RECEIPT, LETTERHEAD))
    for expected in (
        "TANDA TERIMA BERKAS",
        RECEIPT.receipt_number,
        RECEIPT.received_at,
        RECEIPT.applicant_name,
        RECEIPT.applicant_nik,
        RECEIPT.company_name,
        RECEIPT.company_nib,
        RECEIPT.permit_type_name,
        RECEIPT.promised_on,
        RECEIPT.officer.name,
        f"NIP. {RECEIPT.officer.nip}",
        RECEIPT.fee_text,
        "PEMERINTAH KABUPATEN LANDAK",
        LETTERHEAD.address,
        *RECEIPT.documents,
    ):
        assert flat(expected) in text


def test_return_letter_lists_what_is_missing_and_why() -> None:
    text = text_of(render_return_letter(RETURN_LETTER, LETTERHEAD))
    for expected in (
        f"{LETTERHEAD.city}, {RETURN_LETTER.letter_date}",
        RETURN_LETTER.receipt_number,
        RETURN_LETTER.applicant_name,
        RETURN_LETTER.company_name,
        RETURN_LETTER.permit_type_name,
        RETURN_LETTER.reason,
        RETURN_LETTER.officer.title,
        RETURN_LETTER.officer.name,
        f"NIP. {RETURN_LETTER.officer.nip}",
        *RETURN_LETTER.missing,
    ):
        assert flat(expected) in text


def test_inspection_report_is_prefilled_and_leaves_the_findings_to_the_team() -> None:
    text = text_of(render_inspection_report(INSPECTION, LETTERHEAD))
    for expected in (
        "BERITA ACARA PEMERIKSAAN LAPANGAN",
        INSPECTION.receipt_number,
        INSPECTION.permit_type_name,
        INSPECTION.company_name,
        INSPECTION.company_address,
        INSPECTION.site_address,
        INSPECTION.desa,
        INSPECTION.kecamatan,
        INSPECTION.applicant_name,
        INSPECTION.applicant_phone,
        INSPECTION.vehicle_capacity,
        INSPECTION.site_area,
        "Akses jalan",
        "Rambu dan marka",
        "Drainase",
        "tata ruang",
        "LAYAK untuk diberikan izin",
        "TIDAK LAYAK untuk diberikan izin",
        "Tim Teknis",
        "Pemohon/Kuasa",
    ):
        assert flat(expected) in text


def test_permit_shows_number_legal_bases_company_and_signatory() -> None:
    pdf = render_permit(PERMIT, LETTERHEAD)
    text = text_of(pdf)
    signatory = PERMIT.signatory
    for expected in (
        PERMIT.permit_number,
        f"TENTANG {PERMIT.permit_type_name.upper()}",
        PERMIT.company_name,
        PERMIT.legal_form,
        PERMIT.nib,
        PERMIT.npwp,
        PERMIT.company_address,
        PERMIT.responsible_person,
        PERMIT.site_address,
        PERMIT.desa,
        PERMIT.kecamatan,
        PERMIT.vehicle_capacity,
        PERMIT.site_area,
        PERMIT.validity,
        f"Ditetapkan di {PERMIT.city} pada tanggal {PERMIT.issued_on}",
        signatory.position.upper(),
        signatory.name,
        signatory.rank,
        f"NIP. {signatory.nip}",
    ):
        assert flat(expected) in text
    for number, basis in enumerate(PERMIT.legal_bases, start=1):
        assert flat(f"{number}. {basis};") in text


def test_permit_numbers_its_pages() -> None:
    permit_pages = pages(render_permit(PERMIT, LETTERHEAD))
    total = len(permit_pages)
    for number, page in enumerate(permit_pages, start=1):
        assert f"Halaman {number} dari {total}" in flat(page.extract_text())


def test_permit_html_is_what_render_permit_renders() -> None:
    assert render_pdf(permit_html(PERMIT, LETTERHEAD, "A4"), "A4") == render_permit(PERMIT, LETTERHEAD, "A4")


# --- Paper


@pytest.mark.parametrize("name", PAPERS)
@pytest.mark.parametrize(("size", "width_mm", "height_mm"), [("A4", 210, 297), ("F4", 215, 330)])
def test_every_page_is_on_the_paper_asked_for(name: str, size: str, width_mm: int, height_mm: int) -> None:
    render, paper, _url = PAPERS[name]
    for page in pages(render(paper, LETTERHEAD, size)):
        assert float(page.mediabox.width) == pytest.approx(width_mm * 72 / 25.4, abs=1)
        assert float(page.mediabox.height) == pytest.approx(height_mm * 72 / 25.4, abs=1)


def test_f4_is_the_default_paper() -> None:
    (page, *_rest) = pages(render_receipt(RECEIPT, LETTERHEAD))
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((609.4, 935.4), abs=1)


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="Letter"):
        render_receipt(RECEIPT, LETTERHEAD, "Letter")
    with pytest.raises(ValueError, match="B5"):
        render_pdf("<p>x</p>", "B5")


def test_html_laid_out_on_another_paper_is_refused() -> None:
    # No @page size: xhtml2pdf lays it on A4, which is not the F4 asked for.
    with pytest.raises(PaperRenderError, match="F4"):
        render_pdf("<html><body><p>Isi</p></body></html>", "F4")


def test_a_paper_without_logo_renders() -> None:
    pdf = render_receipt(RECEIPT, replace(LETTERHEAD, logo_file=None))
    assert RECEIPT.receipt_number in text_of(pdf)
    assert [len(page.images) for page in pages(pdf)] == [1]  # the QR code only


# --- QR codes


@pytest.mark.parametrize("name", [name for name, (_r, _p, url) in PAPERS.items() if url])
def test_qr_code_in_the_pdf_decodes_to_the_exact_url(name: str) -> None:
    render, paper, url = PAPERS[name]
    codes = qr_codes(render(paper, LETTERHEAD))
    assert [code.text for code in codes] == [url]
    assert codes[0].ec_level == "M"


# --- Hostile data: printed as text, never fetched, never read


class _CountingHandler(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture()
def listener() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server on an ephemeral port; yields (port, paths requested)."""
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()
    thread.join()


# Audit hooks cannot be removed, so this one is installed once and records only while
# `_recorded` is a list (inside `recording()`).
_recorded: list[tuple[str, object]] | None = None
_WATCHED_EVENTS = {"open", "socket.connect", "socket.getaddrinfo"}


def _audit(event: str, args: tuple) -> None:
    if _recorded is not None and event in _WATCHED_EVENTS:
        # open: (path, mode, flags); socket.connect: (socket, address); getaddrinfo: (host, ...)
        _recorded.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)


@contextmanager
def recording() -> Iterator[list[tuple[str, object]]]:
    global _recorded
    _recorded = events = []
    try:
        yield events
    finally:
        _recorded = None


def opened_paths(events: list[tuple[str, object]]) -> list[Path]:
    # An int is a file descriptor being wrapped, not a path being opened.
    paths = [target for event, target in events if event == "open" and not isinstance(target, int)]
    return [Path(os.fsdecode(path)).resolve() for path in paths]


def outside_allowed_dirs(events: list[tuple[str, object]]) -> list[object]:
    """Opened files outside reports/assets and reports/templates, and any network activity."""
    strays: list[object] = [
        path for path in opened_paths(events)
        if not (path.is_relative_to(ASSETS_DIR) or path.is_relative_to(TEMPLATES_DIR))
    ]
    return strays + [(event, target) for event, target in events if event != "open"]


def hostile_names(port: int) -> list[str]:
    return [
        f'PT Maju <img src="http://127.0.0.1:{port}/x"> <b>Tebal</b> & Anak',
        'CV Jaya <img src="/etc/passwd"> <b>Tebal</b> & Sons',
    ]


def test_hostile_company_names_are_printed_as_text_and_nothing_is_fetched_or_read(
    listener: tuple[int, list[str]],
) -> None:
    port, hits = listener
    renders = [
        (render, replace(paper, company_name=company))
        for company in hostile_names(port)
        for render, paper, _url in PAPERS.values()
    ]
    # A first pass so that imports done lazily on a first render (their .pyc files are
    # opened too) happen before recording; the second pass is the one examined.
    for render, paper in renders:
        render(paper, LETTERHEAD)
    with recording() as events:
        pdfs = [(paper.company_name, render(paper, LETTERHEAD)) for render, paper in renders]

    for company, pdf in pdfs:
        assert flat(company) in text_of(pdf)
    assert hits == []
    assert outside_allowed_dirs(events) == []
    # The hook does see reads: the logo, the one file these papers may read, is among them.
    assert ASSETS_DIR / "logo.png" in opened_paths(events)


def test_render_pdf_itself_fetches_and_reads_nothing_outside_assets(listener: tuple[int, list[str]]) -> None:
    """Raw markup straight to render_pdf, no escaping in between: the resource policy is the gate."""
    port, hits = listener
    base = f"http://127.0.0.1:{port}"
    html = f"""<html><head>
<link rel="stylesheet" href="{base}/link.css">
<link rel="stylesheet" href="/etc/passwd">
<style>
@import url("{base}/import.css");
@import url("/etc/hostname");
@font-face {{ font-family: Remote; src: url("{base}/font.ttf"); }}
@font-face {{ font-family: Local; src: url("/etc/passwd"); }}
@page {{ size: 215mm 330mm; }}
p {{ background-image: url("{base}/background.png"); }}
</style></head><body>
<p>Isi dokumen</p>
<img src="{base}/x">
<img src="/etc/passwd">
<img src="file:///etc/passwd">
<img src="{ASSETS_DIR}/../pdf.py">
<img src="../pdf.py">
</body></html>"""
    render_pdf(html)  # lazy imports, as above
    with recording() as events:
        pdf = render_pdf(html)

    assert "Isi dokumen" in text_of(pdf)
    assert hits == []
    assert outside_allowed_dirs(events) == []


# --- Determinism


@pytest.mark.parametrize("name", PAPERS)
def test_same_data_prints_the_same_bytes(name: str) -> None:
    # Byte for byte: reportlab's invariant mode fixes the creation date and document ID.
    render, paper, _url = PAPERS[name]
    assert render(paper, LETTERHEAD) == render(paper, LETTERHEAD)

"""A real browser against a real server: Debian's chromium, driven by Playwright, logs in through
the login form (CSRF and rate limiting on, as in production), opens the dossier grid in Indonesian,
uploads, prints, runs a report job and takes a grid through Excel and back.

The server and the browser are tests/browser/conftest.py's fixtures.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.browser.conftest import SUPERVISOR
from tests.browser.conftest import logged_in_page as _logged_in_page

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/loket-dossiers.png")  # noqa: S108 - a fixed place to look at after a run


def test_front_office_logs_in_and_sees_the_dossier_grid_in_indonesian(browser, live_server) -> None:
    live_server, _ = live_server
    context, page = _logged_in_page(browser, live_server)
    try:
        response = page.goto(f"{live_server}/dossierview/list/")
        assert response is not None and response.status == 200
        assert page.url.endswith("/dossierview/list/"), page.url
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        body = page.inner_text("body")
        # Loket's own grid title (app/translations/id) ...
        assert "Berkas Permohonan" in body, body[:1500]
        # ... and Flask-AppBuilder's grid strings, which FAB ships no Indonesian for.
        for indonesian in ("Cari", "Jumlah data"):  # "Search", "Record Count"
            assert indonesian in body, f"{indonesian!r} missing: FAB's strings are not in Indonesian\n{body[:1500]}"
        for english in ("Dossiers", "Search", "Record Count"):
            assert english not in body, f"English {english!r} on the Indonesian grid\n{body[:1500]}"
    finally:
        context.close()


def test_front_office_uploads_a_document_and_prints_the_receipt(browser, live_server) -> None:
    """The upload form (multipart, CSRF) and a paper download, as a real browser sends them."""
    from pypdf import PdfReader

    base, dossier_id = live_server
    context, page = _logged_in_page(browser, base)
    try:
        page.goto(f"{base}/dossierview/show/{dossier_id}")
        slot = page.locator("#dossier-documents tr", has_text="Profil perusahaan")
        slot.locator("input[type=file]").set_input_files(files=[{
            "name": "profil.pdf", "mimeType": "application/pdf",
            "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        }])
        with page.expect_navigation():
            page.locator("#upload-papers button[value='0']").click()
        body = page.inner_text("body")
        assert "Dokumen diunggah: profil.pdf." in body, body[:1500]

        with page.expect_download() as download_info:
            page.click("#dossier-papers a:has-text('Tanda Terima Berkas')")
        download = download_info.value
        assert download.suggested_filename.startswith("tanda-terima-IPK-")
        text = PdfReader(download.path()).pages[0].extract_text()
        assert "TANDA TERIMA BERKAS" in text and "profil.pdf" in text
    finally:
        context.close()


def test_supervisors_report_job_shows_live_progress_then_a_download(browser, live_server) -> None:
    """The job grid has no download link when drawn; report_jobs.js polls and adds it once done."""
    base, _ = live_server
    context, page = _logged_in_page(browser, base, SUPERVISOR)
    try:
        page.goto(f"{base}/monthlyreports/")
        now = dt.datetime.now()
        page.fill("input[name=month]", f"{now.year}-{now.month:02d}")
        with page.expect_navigation():
            page.click("#monthly-report button[type=submit]")
        assert "/reportjobview/show/" in page.url, page.url
        page.goto(f"{base}/reportjobview/list/")
        assert page.locator(".job-progress").count() == 1
        link = page.locator(".job-result a")
        link.wait_for(timeout=30_000)  # drawn by the polling script, not by the server
        assert link.inner_text() == "Unduh"
        assert "100%" in page.locator(".job-progress .progress-bar").inner_text()
        with page.expect_download() as download_info:
            link.click()
        assert download_info.value.suggested_filename.startswith("register-berkas-diterima-")
    finally:
        context.close()


def test_front_office_exports_the_company_grid_changes_a_cell_and_imports_it_back(browser, live_server) -> None:
    """Ekspor Excel, one name changed in the workbook, then Periksa berkas and Terapkan through the
    real forms (multipart upload and CSRF on both posts)."""
    import io

    from openpyxl import load_workbook

    base, _ = live_server
    context, page = _logged_in_page(browser, base)
    try:
        page.goto(f"{base}/companyview/list/")
        with page.expect_download() as download_info:
            page.click(".grid-export a")
        book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        header = [cell.value for cell in book.active[1]]
        name = book.active.cell(2, header.index("Nama perusahaan") + 1)
        renamed = f"{name.value} Baru"
        name.value = renamed
        changed = io.BytesIO()
        book.save(changed)

        page.goto(f"{base}/imports/")
        form = page.locator("#import-form form")
        form.locator("select[name=entity]").select_option(value="company")
        form.locator("input[type=file]").set_input_files(files=[{
            "name": "perusahaan.xlsx", "buffer": changed.getvalue(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }])
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "1 diperbarui" in page.inner_text("#import-counts"), page.inner_text("body")[:1500]
        assert renamed in page.inner_text("#import-updates")

        # The company is named on a dossier already: renaming it needs a reason, kept in the trail.
        assert page.locator("#import-reason").count() == 1
        page.fill("#import-reason textarea", "Nama baru sesuai akta perubahan")
        with page.expect_navigation():
            page.click("#import-preview button[type=submit]")
        assert "1 diperbarui" in page.inner_text("body")
        page.goto(f"{base}/companyview/list/")
        assert renamed in page.inner_text("body")
    finally:
        context.close()
